import { z } from "zod";
import { Host } from "../../lib/hosts/host";
import { EdgePoolSchema } from "./edge-pool-spec";
import { DEFAULT_KUBEEDGE_VERSION, KUBEEDGE_VERSIONS, KubeEdgeVersion } from "./release";
import type { K3sRegistries } from "../../lib/k3s/registries";
import { EDGE_NODE_LABEL } from "../../lib/k3s/node-roles";
import { labels } from "../../lib/validation/kubernetes";
import { address, cidrv4, ipVersion, isDnsName } from "../../lib/validation/net";
import { absolutePath } from "../../lib/validation/paths";
import { httpsUrl } from "../../lib/validation/url";

const port = z.number().int().min(1).max(65535);
const nodePort = z.number().int().min(30000).max(32767);
const path = absolutePath;
const url = httpsUrl;

/** cloudHub: the endpoint edge nodes dial. Upstream vocabulary (cloudcore.yaml `modules.cloudHub`). */
export const CloudHubSchema = z.strictObject({
  /** Addresses placed in cloudcore's certificate SANs; edge nodes must join one of them. At least one. */
  advertiseAddress: z.array(address).min(1),
  /** Extra DNS names in the certificate SANs. @default [] */
  dnsNames: z
    .array(
      z
        .string()
        .refine(
          (v) => ipVersion(v) === 0 && isDnsName(v.replace(/^\*\./, "")),
          "must be a DNS name (RFC 1123, optionally *.wildcard); addresses go in advertiseAddress",
        ),
    )
    .default([]),
  /** Maximum edge nodes one cloudcore serves. @default 1000 */
  nodeLimit: z.number().int().min(1).default(1000),
  /** @default 10000 */
  websocketPort: port.default(10000),
  /** QUIC (UDP) listener; off unless edge nodes use `hubProtocol: "quic"`. @default false */
  quic: z.boolean().default(false),
  /** @default 10001 */
  quicPort: port.default(10001),
  /** The certificate endpoint edge nodes fetch /ca.crt and /edge.crt from with the token. @default 10002 */
  httpsPort: port.default(10002),
});

export const CloudStreamSchema = z.strictObject({
  /** `kubectl logs/exec` to edge pods. @default true */
  enable: z.boolean().default(true),
  /** @default 10003 */
  streamPort: port.default(10003),
  /** @default 10004 */
  tunnelPort: port.default(10004),
});

/** How the cloudcore Service is exposed — every kind is rendered as asked (upstream silently falls back to ClusterIP, #6550). */
export const ExposureSchema = z.discriminatedUnion("kind", [
  /** cloudcore binds the node's ports directly (the upstream default); edge nodes dial the node address. */
  z.strictObject({ kind: z.literal("hostNetwork") }),
  /** A NodePort Service; edge nodes dial `<advertiseAddress>:<nodePorts.cloudhub>`. */
  z.strictObject({
    kind: z.literal("NodePort"),
    /** @default { cloudhub: 30000, quic: 30001, https: 30002, stream: 30003, tunnel: 30004 } */
    nodePorts: z
      .strictObject({
        cloudhub: nodePort.default(30000),
        quic: nodePort.default(30001),
        https: nodePort.default(30002),
        stream: nodePort.default(30003),
        tunnel: nodePort.default(30004),
      })
      .default({ cloudhub: 30000, quic: 30001, https: 30002, stream: 30003, tunnel: 30004 }),
  }),
  /** A LoadBalancer Service (K3s ServiceLB, MetalLB…); `loadBalancerIP` must be an advertiseAddress. */
  z.strictObject({
    kind: z.literal("LoadBalancer"),
    /** @default - assigned by the load balancer */ loadBalancerIP: address.optional(),
  }),
]);

export const IptablesManagerSchema = z.strictObject({
  /** DNATs the stream tunnel so `kubectl logs/exec` reach edge pods. @default true */
  enable: z.boolean().default(true),
  /** `external`: a DaemonSet on cloud nodes; `internal`: inside cloudcore. @default "external" */
  mode: z.enum(["external", "internal"]).default("external"),
  /** `nft` for hosts whose iptables is the nftables backend (RHEL 9, Debian 12, Ubuntu 22.04+). @default "legacy" */
  framework: z.enum(["legacy", "nft"]).default("legacy"),
});

/** How keadm and edgecore get onto edge hosts. */
export const EdgeInstallSchema = z.discriminatedUnion("kind", [
  /**
   * Release tarballs `keadm-<v>-linux-<arch>.tar.gz`, `kubeedge-<v>-linux-<arch>.tar.gz` from a mirror, each checked
   * against upstream's `checksum_<tarball>.txt` (sha512) downloaded from the same place — a mirror must carry them too.
   */
  z.strictObject({
    kind: z.literal("online"),
    /** @default "https://github.com/kubeedge/kubeedge/releases/download" */
    mirror: url.default("https://github.com/kubeedge/kubeedge/releases/download"),
    /**
     * sha512 per tarball file name (`keadm-v1.23.1-linux-arm64.tar.gz` → hex), checked before install instead of the
     * release's checksum file. @default - the release's `checksum_<tarball>.txt`
     */
    sha512: z.record(z.string(), z.string().regex(/^[a-f0-9]{128}$/, "must be a sha512 in hex")).optional(),
  }),
  /**
   * Air-gap: both tarballs already in `dir` on every edge host, each with upstream's `checksum_<tarball>.txt` next to it
   * (or a `sha512` given here); for the CNI plugins `cni-plugins-linux-<arch>-<v>.tgz` with its `.sha256` (or
   * `edge.cni.sha256`).
   */
  z.strictObject({
    kind: z.literal("prestaged"),
    dir: path,
    /** sha512 per tarball file name, checked before install. @default - `checksum_<tarball>.txt` in `dir` */
    sha512: z.record(z.string(), z.string().regex(/^[a-f0-9]{128}$/, "must be a sha512 in hex")).optional(),
  }),
]);

export const EdgeSchema = z.strictObject({
  /** @default "containerd" */
  runtime: z.enum(["containerd", "docker"]).default("containerd"),
  /** Must match the runtime's cgroup driver. @default "systemd" */
  cgroupDriver: z.enum(["systemd", "cgroupfs"]).default("systemd"),
  /** @default "websocket" */
  hubProtocol: z.enum(["websocket", "quic"]).default("websocket"),
  /** @default { kind: "online" } */
  install: EdgeInstallSchema.default({
    kind: "online",
    mirror: "https://github.com/kubeedge/kubeedge/releases/download",
  }),
  /** Labels every edge node registers with (besides `node-role.kubernetes.io/edge`). @default {} */
  labels: labels.default({}),
  /**
   * Register edge nodes with the taint `node-role.kubernetes.io/edge:NoSchedule`, so workloads that do not tolerate it
   * (every cloud-side Deployment and DaemonSet) never land on a node without cluster networking. Workloads meant for
   * the edge tolerate it (`EDGE_TOLERATION`). Each host's own `taints` are added too. @default true
   */
  taint: z.boolean().default(true),
  /** The address edge nodes dial; must be one of `cloudHub.advertiseAddress`. @default - the first advertiseAddress */
  joinAddress: address.optional(),
  /**
   * The node-local CNI every edge node gets (containernetworking/plugins in /opt/cni/bin, a bridge conflist), so its
   * kubelet reports Ready. Pods on one edge node reach each other on `subnet`; nothing routes between edge nodes.
   * @default { subnet: "10.88.0.0/16", mirror: "https://github.com/containernetworking/plugins/releases/download", sha256: {} }
   */
  cni: z
    .strictObject({
      /** @default "10.88.0.0/16" (kubeedge/kubeedge v1.23.1 hack/lib/install.sh) */
      subnet: cidrv4.default("10.88.0.0/16"),
      /** Where online installs download `<version>/cni-plugins-linux-<arch>-<version>.tgz` (prestaged: `edge.install.dir`). @default "https://github.com/containernetworking/plugins/releases/download" */
      mirror: url.default("https://github.com/containernetworking/plugins/releases/download"),
      /** sha256 per tarball (`cni-plugins-linux-arm64-v1.1.1.tgz` → hex); online installs also check the release's `.sha256` file. @default {} */
      sha256: z.record(z.string(), z.string().regex(/^[a-f0-9]{64}$/, "must be a sha256 in hex")).default({}),
    })
    .default({
      subnet: "10.88.0.0/16",
      mirror: "https://github.com/containernetworking/plugins/releases/download",
      sha256: {},
    }),
});

export const KubeEdgeCloudSpecSchema = z.strictObject({
  /** @default "v1.23.1" */
  version: z.enum(KUBEEDGE_VERSIONS as [KubeEdgeVersion, ...KubeEdgeVersion[]]).default(DEFAULT_KUBEEDGE_VERSION),
  /** The cluster's Kubernetes or K3s version (`v1.31.4+k3s1`), checked against the release's tested range. */
  kubernetesVersion: z.string().min(1),
  /** `manifests`: rendered objects (diffable in preview); `keadm`: `keadm init` over SSH. @default "manifests" */
  mode: z.enum(["manifests", "keadm"]).default("manifests"),
  /** keadm mode: the control-plane host that runs `keadm init` (role "server"). @default - the first server */
  keadmHost: z.string().optional(),
  /** keadm mode: kubeconfig path on that host. @default "/etc/rancher/k3s/k3s.yaml" */
  kubeconfigPath: path.default("/etc/rancher/k3s/k3s.yaml"),
  /** @default "kubeedge" */
  imageRepository: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._/:-]*$/, "must be an image repository such as kubeedge or registry.local:5000/kubeedge")
    .default("kubeedge"),
  cloudHub: CloudHubSchema,
  /** @default { enable: true, streamPort: 10003, tunnelPort: 10004 } */
  cloudStream: CloudStreamSchema.default({ enable: true, streamPort: 10003, tunnelPort: 10004 }),
  /** metaServer/list-watch for edge pods; needed by kube-proxy/CNI on edge nodes. @default false */
  dynamicController: z.boolean().default(false),
  /** @default false */
  router: z.boolean().default(false),
  /** @default { kind: "hostNetwork" } */
  exposure: ExposureSchema.default({ kind: "hostNetwork" }),
  /** @default { enable: true, mode: "external", framework: "legacy" } */
  iptablesManager: IptablesManagerSchema.default({ enable: true, mode: "external", framework: "legacy" }),
  /** Upstream's eclipse-mosquitto DaemonSet on edge nodes (EdgeXStack brings its own broker). @default false */
  mosquitto: z.boolean().default(false),
  /** Probes on cloudcore (upstream has none). @default true */
  probes: z.boolean().default(true),
  /** Kube-system DaemonSets to keep off edge nodes with a node-affinity patch (K3s runs flannel and kube-proxy in-process, so none by default). @default [] */
  avoidEdgeDaemonSets: z.array(z.strictObject({ namespace: z.string().min(1), name: z.string().min(1) })).default([]),
  /** @default {} */
  edge: EdgeSchema.default(EdgeSchema.parse({})),
  /**
   * Edge pools whose machines join by themselves with the pool's join bundle (cloud-init user-data or a plain script;
   * `KubeEdgeCloud.joinBundles`), besides the edge hosts joined over SSH. See docs/kubeedge-cloud.md "Edge pools".
   * @default []
   */
  edgePools: z.array(EdgePoolSchema).default([]),
});

export type KubeEdgeCloudSpecInput = z.input<typeof KubeEdgeCloudSpecSchema>;
export type KubeEdgeCloudSpec = z.output<typeof KubeEdgeCloudSpecSchema>;
export type CloudHub = z.output<typeof CloudHubSchema>;
export type Exposure = z.output<typeof ExposureSchema>;
export type EdgeSpec = z.output<typeof EdgeSchema>;

/** The validated, plain model every renderer takes. */
export interface KubeEdgeCloudProps {
  readonly spec: KubeEdgeCloudSpec;
  /** Hosts with the role "edge". */
  readonly edgeHosts: readonly Host[];
  /** Cloud hosts (role server or agent, not edge): where cloudcore may run and its ports are opened. */
  readonly cloudHosts: readonly Host[];
  /** keadm mode: the host running `keadm init`. */
  readonly keadmHost?: Host;
  /** What edge nodes dial. */
  readonly join: JoinParameters;
  /** hostNetwork exposure: the cloud node whose address is advertised; cloudcore is pinned to it (#4417). @default - unpinned (e.g. the advertised address is a VIP) */
  readonly cloudcoreNode?: string;
  /** Registries the edge nodes' containerd mirrors (the ones K3s nodes get in registries.yaml). @default - none */
  readonly registries?: K3sRegistries;
}

/** Where and how edge nodes join: everything but the token. */
export interface JoinParameters {
  /** `<address>:<port>` of cloudHub's websocket (or QUIC) listener. */
  readonly cloudcoreIpPort: string;
  /** `https://<address>:<port>` of the certificate endpoint. */
  readonly certServer: string;
  readonly address: string;
  readonly hubProtocol: "websocket" | "quic";
  readonly kubeedgeVersion: string;
  /** Where the join token lives. */
  readonly tokenSecret: { readonly namespace: "kubeedge"; readonly name: "tokensecret"; readonly key: "tokendata" };
}

export const NAMESPACE = "kubeedge";
export const TOKEN_SECRET = { namespace: "kubeedge", name: "tokensecret", key: "tokendata" } as const;
/** The edge node label (`lib/k3s/node-roles.ts`), under KubeEdge's name. */
export const EDGE_ROLE_LABEL = EDGE_NODE_LABEL;
/** The toleration for the taint edge nodes register with (`edge.taint`). */
export const EDGE_TOLERATION = { key: EDGE_ROLE_LABEL, operator: "Exists", effect: "NoSchedule" } as const;
