import { z } from "zod";
import { deferred, Host } from "../../lib/hosts/host";
import { K3sRegistries } from "../../lib/k3s/registries";
import {
  DEFAULT_ETCD_VERSION,
  DEFAULT_K3S_VERSION,
  ETCD_RELEASES,
  K3S_RELEASES,
  K3S_VERSION_PATTERN,
} from "./k3s/version";
import { absolutePath, ownedPath } from "../../lib/validation/paths";
import { address, cidrv4, ipv4, sanName } from "../../lib/validation/net";
import { httpOrHttpsUrl, insecureFlag, requireHttpsUnlessInsecure } from "../../lib/validation/url";
import { imageReference, interfaceName } from "../../lib/validation/kubernetes";
import { calendarExpression } from "../../lib/validation/systemd-calendar";
import { knownVersion } from "../../lib/validation/version";
import { ARCHES } from "../../lib/platform/arch";

const sha256 = z.string().regex(/^[a-f0-9]{64}$/, "must be a sha256 in lowercase hex (64 characters)");

/** How etcd gets onto its hosts. */
export const EtcdInstallSchema = z.discriminatedUnion("kind", [
  /** Release tarball `etcd-<version>-linux-<arch>.tar.gz` from a mirror, sha256-verified. */
  z
    .strictObject({
      kind: z.literal("release"),
      /** https (http only with `insecure: true`). @default "https://github.com/etcd-io/etcd/releases/download" */
      mirror: httpOrHttpsUrl.default("https://github.com/etcd-io/etcd/releases/download"),
      /** Accept a plain `http://` mirror (the sha256 check still runs). @default - https only */
      insecure: insecureFlag,
      /** sha256 of the tarball per arch; when absent, the mirror's SHA256SUMS is used. */
      sha256: z.partialRecord(z.enum(ARCHES), sha256).optional(),
    })
    .superRefine(requireHttpsUnlessInsecure("mirror")),
  /** The distribution's package (etcd-server/etcd-client on Debian/Ubuntu). */
  z.strictObject({ kind: z.literal("distro") }),
  /**
   * Air-gap: the release tarball already on each host, either one path (`tarball`, every member the same
   * architecture) or a directory holding it under its release name for each member's architecture (`dir`:
   * `<dir>/etcd-<version>-linux-<arch>.tar.gz`). Checked against `sha256` per arch or, by default, the release's own
   * `SHA256SUMS` pre-staged next to it.
   */
  z.strictObject({
    kind: z.literal("prestaged"),
    tarball: absolutePath.optional(),
    dir: absolutePath.optional(),
    /** @default - `SHA256SUMS` in the tarball's directory */
    sha256: z.partialRecord(z.enum(ARCHES), sha256).optional(),
  }),
]);

/** A credential: a plain string (synth, code) or a Pulumi secret Output (a `{ secret: name }` reference in a file). */
const credential = z.union([
  z
    .string()
    .min(1)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u001f\u007f]+$/, "must not contain a newline or control character"),
  deferred,
]);

/**
 * An S3-compatible bucket the snapshot timer uploads each snapshot to (AWS S3, MinIO, Ceph RGW, …): `PUT
 * <endpoint>/<bucket>/<prefix><member>/snapshot-<UTC time>.db` (path-style; `virtual-host`:
 * `<bucket>.<endpoint host>`), signed with AWS Signature V4 by curl's `--aws-sigv4` (curl ≥ 7.75.0: curl/curl
 * docs/cmdline-opts/aws-sigv4.d "Added: 7.75.0"), the credentials read from a 0600 curl config file (`-K`, curl
 * manual "--config"), never from argv. The local snapshot is kept either way; retention in the bucket is the bucket's
 * own lifecycle rule.
 */
export const EtcdSnapshotS3Schema = z
  .strictObject({
    /** e.g. `https://s3.eu-central-1.amazonaws.com`, `https://minio.example.com:9000`. https (http only with `insecure`). */
    endpoint: httpOrHttpsUrl,
    /** Accept a plain `http://` endpoint (the credentials still sign, but the snapshot travels unencrypted). @default - https only */
    insecure: insecureFlag,
    /** Bucket names: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit (AWS "Bucket naming rules"). */
    bucket: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        "must be an S3 bucket name: 3-63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit",
      )
      .refine((b) => !b.includes(".."), "must not contain two adjacent dots"),
    /** The region the signature names. @default "us-east-1" */
    region: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "must be a region name such as us-east-1")
      .default("us-east-1"),
    /**
     * Key prefix, `/`-terminated segments of letters, digits, `.`, `_`, `-` (characters SigV4's canonical URI keeps
     * as they are, so the signature curl computes is the one the server recomputes). @default ""
     */
    prefix: z
      .string()
      .regex(
        /^([A-Za-z0-9._-]+\/)*$/,
        "must be empty or '/'-terminated segments of letters, digits, '.', '_' or '-' (e.g. etcd/prod/)",
      )
      .default(""),
    /** `path` (`<endpoint>/<bucket>/…`, what MinIO and Ceph serve) or `virtual-host` (`<bucket>.<endpoint host>/…`). @default "path" */
    addressing: z.enum(["path", "virtual-host"]).default("path"),
    /** Access key id: in an environment file a `{ secret: name }` reference. */
    accessKeyId: credential,
    /** Secret access key: in an environment file a `{ secret: name }` reference. */
    secretAccessKey: credential,
  })
  .superRefine(requireHttpsUnlessInsecure("endpoint"))
  .superRefine((o, ctx) => {
    if (typeof o.accessKeyId === "string" && o.accessKeyId.includes(":"))
      ctx.addIssue({
        code: "custom",
        path: ["accessKeyId"],
        message: "must not contain ':' (curl splits user:password at the first colon)",
      });
    if (o.addressing === "virtual-host" && o.bucket.includes(".") && o.endpoint.toLowerCase().startsWith("https:"))
      ctx.addIssue({
        code: "custom",
        path: ["addressing"],
        message: `with the dotted bucket "${o.bucket}" over https puts dots in the TLS host name the endpoint's wildcard certificate cannot match; use addressing "path"`,
      });
  });

export const EtcdSchema = z.strictObject({
  /** @default "v3.5.17" */
  version: knownVersion(ETCD_RELEASES, "etcd", /^v3\.\d+\.\d+$/).default(DEFAULT_ETCD_VERSION),
  /** @default { kind: "release" } */
  install: EtcdInstallSchema.default({ kind: "release", mirror: "https://github.com/etcd-io/etcd/releases/download" }),
  /** @default 2379 */
  clientPort: z.number().int().min(1).max(65535).default(2379),
  /** @default 2380 */
  peerPort: z.number().int().min(1).max(65535).default(2380),
  /** @default "/var/lib/etcd" */
  dataDir: ownedPath.default("/var/lib/etcd"),
  /** Refuses anything but TLS; present so that `false` is rejected with a clear message. @default true */
  tls: z.literal(true, { message: "is refused: edgecloud runs etcd with TLS only (tls must be true)" }).default(true),
  /** @default 3650 */
  certValidityDays: z.number().int().min(1).max(36500).default(3650),
  /** @default 2147483648 (2 GiB) */
  quotaBackendBytes: z.number().int().min(1).default(2147483648),
  snapshot: z
    .strictObject({
      /** systemd OnCalendar. @default "hourly" */
      schedule: calendarExpression.default("hourly"),
      /** Snapshots kept. @default 24 */
      retention: z.number().int().min(1).default(24),
      /** @default "/var/backups/etcd" */
      dir: ownedPath.default("/var/backups/etcd"),
      /** Also upload every timer snapshot to an S3-compatible bucket (see EtcdSnapshotS3Schema). @default - local only */
      s3: EtcdSnapshotS3Schema.optional(),
    })
    .default({ schedule: "hourly", retention: 24, dir: "/var/backups/etcd" }),
  /**
   * Membership changes etcd's safety rules refuse, allowed on purpose: `even-member-count` (an even number of
   * members tolerates no more failures than one fewer, e.g. during a 3 → 5 change done in two), `below-quorum`
   * (removing, in one change, so many members that fewer than a quorum of the running cluster's size remain).
   * @default []
   */
  force: z.array(z.enum(["even-member-count", "below-quorum"])).default([]),
  /**
   * Disaster recovery: every member's data replaced by this snapshot, once per `id`. Each member stops, moves its data
   * directory aside (`<dataDir>.edgecloud-pre-restore-<id>-<time>`, never deleted), restores the snapshot as a member
   * of a new cluster with the environment's members, names, token and certificates (etcdutl `snapshot restore`), and
   * only then do the members start again. The file must be on every member at `snapshot` (copy it there, e.g. from
   * `snapshot.dir` of the member that took it) with this sha256. Remove the field after the restore (or keep it: the
   * same `id` never restores twice). @default - none
   */
  restore: z
    .strictObject({
      /** Names this restore: a member restores once per id. */
      id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "must be 1-63 letters, digits, '.', '_' or '-'"),
      snapshot: absolutePath,
      sha256,
    })
    .optional(),
  /**
   * Leaf certificates (members' server and peer, K3s servers' client, admin) re-issued from the same CA: at a `pulumi
   * up` that finds one within `renewBeforeDays` of expiry, and all of them whenever `generation` is raised (on demand).
   * The members then roll one at a time like an upgrade (gate, snapshot, leader last), the K3s servers one at a time.
   * The CA is not rotated (docs/operations/etcd-certificates.md). @default { renewBeforeDays: 30, generation: 0 }
   */
  rotation: z
    .strictObject({
      /** @default 30 */
      renewBeforeDays: z.number().int().min(1).max(36499).default(30),
      /** Raise to re-issue every leaf certificate now. @default 0 */
      generation: z.number().int().min(0).default(0),
    })
    .default({ renewBeforeDays: 30, generation: 0 }),
  /**
   * The health gate of a roll (upgrade, rotation, any change that restarts members): before a member's turn every
   * member must answer `endpoint health` over TLS, after its restart the member itself and then every member again.
   * Each of these waits tries every `intervalSeconds` and stops the roll when the next try would start after
   * `timeoutSeconds` (a try itself can take up to 5 s more). A stopped roll leaves the later members untouched.
   * @default { timeoutSeconds: 120, intervalSeconds: 2 }
   */
  rollGate: z
    .strictObject({
      /** @default 120 */
      timeoutSeconds: z.number().int().min(10).max(3600).default(120),
      /** @default 2 */
      intervalSeconds: z.number().int().min(1).max(60).default(2),
    })
    .default({ timeoutSeconds: 120, intervalSeconds: 2 }),
  /** Defragmentation + alarm check schedule (systemd OnCalendar). @default "weekly" */
  maintenanceSchedule: calendarExpression.default("weekly"),
});

export const RegistrationAddressSchema = z.discriminatedUnion("kind", [
  /** kube-vip in ARP mode announces `vip` on `interface` of the servers. */
  z.strictObject({
    kind: z.literal("kube-vip"),
    vip: ipv4,
    interface: interfaceName,
    /** @default "ghcr.io/kube-vip/kube-vip:v0.8.9" */ image: imageReference.default(
      "ghcr.io/kube-vip/kube-vip:v0.8.9",
    ),
  }),
  /** An external load balancer (or DNS name) in front of the servers on 6443. */
  z.strictObject({
    kind: z.literal("external"),
    address,
  }),
]);

export const NetworkSchema = z.strictObject({
  /** `none` disables flannel; `cni` then names the replacement. @default "vxlan" */
  flannelBackend: z.enum(["vxlan", "host-gw", "wireguard-native", "ipsec", "none"]).default("vxlan"),
  /** Only with flannelBackend "none". */
  cni: z.enum(["calico"]).optional(),
  /** @default "10.42.0.0/16" */
  clusterCidr: cidrv4.default("10.42.0.0/16"),
  /** @default "10.43.0.0/16" */
  serviceCidr: cidrv4.default("10.43.0.0/16"),
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
   * `<dir>/install.sh`, `<dir>/k3s-airgap-images-<arch>.tar.zst`, and the release's `sha256sum-<arch>.txt` (the
   * binary is checked against it). Packages (curl, tar, container-selinux, nfs clients) still come from each host's
   * package manager: point the hosts at a local mirror (`hosts[].packageMirror` on the RHEL family, or the host's own
   * apt/yum configuration).
   */
  z.strictObject({ kind: z.literal("airgap"), dir: absolutePath }),
]);

export const K3sHaClusterSpecSchema = z.strictObject({
  /** @default "v1.31.4+k3s1" */
  version: knownVersion(K3S_RELEASES, "K3s", K3S_VERSION_PATTERN).default(DEFAULT_K3S_VERSION),
  /** Hosts with role etcd form the external etcd cluster; with none and one server, K3s uses embedded SQLite. */
  etcd: EtcdSchema.default(EtcdSchema.parse({})),
  registrationAddress: RegistrationAddressSchema.optional(),
  /** @default "containerd" */
  runtime: z.enum(["containerd", "docker"]).default("containerd"),
  network: NetworkSchema.default(NetworkSchema.parse({})),
  /** Packaged components to disable. @default [] */
  disable: z.array(z.enum(["traefik", "servicelb", "metrics-server", "local-storage"])).default([]),
  /** Extra SANs for the API server certificate (the registration address is always added). @default [] */
  tlsSan: z.array(sanName).default([]),
  /** @default { kind: "online", mirror: "github" } */
  install: K3sInstallSchema.default({ kind: "online", mirror: "github" }),
  /**
   * Per-host k3s binaries for architectures upstream does not ship: host name → `{ source, sha256 }` where source is
   * an https URL (http only with `insecure: true`) or an absolute path on the host. @default {}
   */
  artifactOverrides: z
    .record(
      z.string(),
      z
        .strictObject({
          source: z.union([httpOrHttpsUrl, absolutePath], {
            message: "must be an https URL or an absolute path on the host",
          }),
          /** sha256 of the binary: checked before it is installed. */
          sha256,
          /** Accept a plain `http://` source. @default - https only */
          insecure: insecureFlag,
        })
        .superRefine(requireHttpsUnlessInsecure("source")),
    )
    .default({}),
  /**
   * Registry for every system image K3s deploys (pause, coredns, klipper, metrics-server, traefik): the server flag
   * `system-default-registry` (k3s-io/k3s pkg/cli/cmds/server.go "Private registry to be used for all system
   * images"; read through the code index, the repository being too large to fetch at a tag). In mainland China
   * docker.io is unreachable, so `mirror: "cn"` defaults it to the Aliyun mirror the CN install recipe pairs with
   * INSTALL_K3S_MIRROR=cn.
   * @default - "registry.cn-hangzhou.aliyuncs.com" with install.mirror "cn", else none (docker.io)
   */
  systemDefaultRegistry: z
    .string()
    .regex(
      /^[A-Za-z0-9.-]+(:\d{1,5})?(\/[a-z0-9._-]+)*$/,
      "must be a registry host[:port][/path] such as registry.example.com",
    )
    .optional(),
  /** How long a K3s start waits for its node (and the first server for every agent's node) to be Ready. @default 300 */
  nodeReadyTimeoutSeconds: z.number().int().min(2).max(3600).default(300),
  /**
   * How many agents start (or restart, on a version or configuration change) at once, after the last server: agent i
   * waits for agent i - n. @default - every agent at once
   */
  agentRollConcurrency: z.number().int().min(1).optional(),
  /** Pre-flight minima checks. @default true */
  preflight: z.boolean().default(true),
});

export type K3sHaClusterSpecInput = z.input<typeof K3sHaClusterSpecSchema>;
export type K3sHaClusterSpec = z.output<typeof K3sHaClusterSpecSchema>;
export type EtcdSpec = z.output<typeof EtcdSchema>;
export type EtcdSnapshotS3 = z.output<typeof EtcdSnapshotS3Schema>;
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
