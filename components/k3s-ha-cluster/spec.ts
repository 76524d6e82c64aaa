import { z } from "zod";
import { Host } from "../../lib/hosts/host";
import { K3sRegistries } from "../../lib/k3s/registries";
import { cidrv4, ipv4 as ipv4Address } from "../../lib/validation/net";
import { DEFAULT_ETCD_VERSION, DEFAULT_K3S_VERSION } from "./k3s/version";

const path = z.string().regex(/^\/[^\0\s]*$/, "must be an absolute path without spaces");
const url = z.string().regex(/^https?:\/\/[^\s]+$/, "must be an http(s) URL");
const ipv4 = ipv4Address;
const cidr = cidrv4;

/** How etcd gets onto its hosts. */
export const EtcdInstallSchema = z.discriminatedUnion("kind", [
  /** Release tarball `etcd-<version>-linux-<arch>.tar.gz` from a mirror, sha256-verified. */
  z.strictObject({
    kind: z.literal("release"),
    /** @default "https://github.com/etcd-io/etcd/releases/download" */
    mirror: url.default("https://github.com/etcd-io/etcd/releases/download"),
    /** sha256 of the tarball per arch; when absent, the mirror's SHA256SUMS is used. */
    sha256: z.record(z.string(), z.string().regex(/^[a-f0-9]{64}$/)).optional(),
  }),
  /** The distribution's package (etcd-server/etcd-client on Debian/Ubuntu). */
  z.strictObject({ kind: z.literal("distro") }),
  /**
   * Air-gap: the release tarball already on each host, either one path (`tarball`, every member the same
   * architecture) or a directory holding it under its release name for each member's architecture (`dir`:
   * `<dir>/etcd-<version>-linux-<arch>.tar.gz`).
   */
  z.strictObject({ kind: z.literal("prestaged"), tarball: path.optional(), dir: path.optional() }),
]);

export const EtcdSchema = z.strictObject({
  /** @default "v3.5.17" */
  version: z
    .string()
    .regex(/^v3\.\d+\.\d+$/, "must be an etcd v3 release such as v3.5.17")
    .default(DEFAULT_ETCD_VERSION),
  /** @default { kind: "release" } */
  install: EtcdInstallSchema.default({ kind: "release", mirror: "https://github.com/etcd-io/etcd/releases/download" }),
  /** @default 2379 */
  clientPort: z.number().int().min(1).max(65535).default(2379),
  /** @default 2380 */
  peerPort: z.number().int().min(1).max(65535).default(2380),
  /** @default "/var/lib/etcd" */
  dataDir: path.default("/var/lib/etcd"),
  /** Refuses anything but TLS; present so that `false` is rejected with a clear message. @default true */
  tls: z.literal(true, { message: "is refused: edgecloud runs etcd with TLS only (tls must be true)" }).default(true),
  /** @default 3650 */
  certValidityDays: z.number().int().min(1).max(36500).default(3650),
  /** @default 2147483648 (2 GiB) */
  quotaBackendBytes: z.number().int().min(1).default(2147483648),
  snapshot: z
    .strictObject({
      /** systemd OnCalendar. @default "hourly" */
      schedule: z.string().min(1).default("hourly"),
      /** Snapshots kept. @default 24 */
      retention: z.number().int().min(1).default(24),
      /** @default "/var/backups/etcd" */
      dir: path.default("/var/backups/etcd"),
    })
    .default({ schedule: "hourly", retention: 24, dir: "/var/backups/etcd" }),
  /** Defragmentation + alarm check schedule (systemd OnCalendar). @default "weekly" */
  maintenanceSchedule: z.string().min(1).default("weekly"),
});

export const RegistrationAddressSchema = z.discriminatedUnion("kind", [
  /** kube-vip in ARP mode announces `vip` on `interface` of the servers. */
  z.strictObject({
    kind: z.literal("kube-vip"),
    vip: ipv4,
    interface: z.string().min(1),
    /** @default "ghcr.io/kube-vip/kube-vip:v0.8.9" */ image: z.string().default("ghcr.io/kube-vip/kube-vip:v0.8.9"),
  }),
  /** An external load balancer (or DNS name) in front of the servers on 6443. */
  z.strictObject({
    kind: z.literal("external"),
    address: z.string().regex(/^[A-Za-z0-9.:-]+$/, "must be an IP address or DNS name"),
  }),
]);

export const NetworkSchema = z.strictObject({
  /** `none` disables flannel; `cni` then names the replacement. @default "vxlan" */
  flannelBackend: z.enum(["vxlan", "host-gw", "wireguard-native", "ipsec", "none"]).default("vxlan"),
  /** Only with flannelBackend "none". */
  cni: z.enum(["calico"]).optional(),
  /** @default "10.42.0.0/16" */
  clusterCidr: cidr.default("10.42.0.0/16"),
  /** @default "10.43.0.0/16" */
  serviceCidr: cidr.default("10.43.0.0/16"),
  /** @default "10.43.0.10" */
  clusterDns: ipv4.default("10.43.0.10"),
});

export const K3sInstallSchema = z.discriminatedUnion("kind", [
  /** Download the pinned binary (sha256-verified) and install script; `mirror: "cn"` uses the China mirror. */
  z.strictObject({
    kind: z.literal("online"),
    /** @default "github" */ mirror: z.enum(["github", "cn"]).default("github"),
  }),
  /**
   * Air-gap: binary, install script and images tarball pre-staged on every node, one directory for every
   * architecture: the binary under its release asset name (`<dir>/k3s` amd64, `<dir>/k3s-arm64`, `<dir>/k3s-armhf`),
   * `<dir>/install.sh`, `<dir>/k3s-airgap-images-<arch>.tar.zst`. Packages (curl, tar, container-selinux, nfs
   * clients) still come from each host's package manager: point the hosts at a local mirror
   * (`hosts[].packageMirror` on the RHEL family, or the host's own apt/yum configuration).
   */
  z.strictObject({ kind: z.literal("airgap"), dir: path }),
]);

export const K3sHaClusterSpecSchema = z.strictObject({
  /** @default "v1.31.4+k3s1" */
  version: z.string().default(DEFAULT_K3S_VERSION),
  /** Hosts with role etcd form the external etcd cluster; with none and one server, K3s uses embedded SQLite. */
  etcd: EtcdSchema.default(EtcdSchema.parse({})),
  registrationAddress: RegistrationAddressSchema.optional(),
  /** @default "containerd" */
  runtime: z.enum(["containerd", "docker"]).default("containerd"),
  network: NetworkSchema.default(NetworkSchema.parse({})),
  /** Packaged components to disable. @default [] */
  disable: z.array(z.enum(["traefik", "servicelb", "metrics-server", "local-storage"])).default([]),
  /** Extra SANs for the API server certificate (the registration address is always added). @default [] */
  tlsSan: z.array(z.string().regex(/^[A-Za-z0-9.:*-]+$/, "must be an IP address or DNS name")).default([]),
  /** @default { kind: "online", mirror: "github" } */
  install: K3sInstallSchema.default({ kind: "online", mirror: "github" }),
  /** Per-host artifact overrides for architectures upstream does not ship (host name → URL or absolute path of a k3s binary). */
  artifactOverrides: z.record(z.string(), z.string().min(1)).default({}),
  /** Pre-flight minima checks. @default true */
  preflight: z.boolean().default(true),
});

export type K3sHaClusterSpecInput = z.input<typeof K3sHaClusterSpecSchema>;
export type K3sHaClusterSpec = z.output<typeof K3sHaClusterSpecSchema>;
export type EtcdSpec = z.output<typeof EtcdSchema>;
export type RegistrationAddress = z.output<typeof RegistrationAddressSchema>;

/** Everything the renderers need, validated and plain. */
export interface K3sHaClusterProps {
  /** Cluster name: used in certificate names and resource names. */
  readonly name: string;
  readonly hosts: readonly Host[];
  readonly spec: K3sHaClusterSpec;
  /** registries.yaml for every node. @default - none */
  readonly registries?: K3sRegistries;
}
