/**
 * KubeEdge releases edgecloud knows, as data: adding a release is adding an entry here.
 * Facts from the releases' CHANGELOGs and charts (kubeedge/kubeedge manifests/charts/cloudcore):
 * - containerd is the default edge runtime since v1.13; dockershim was removed in v1.14.
 * - devices.kubeedge.io v1alpha2 through v1.12 (beside v1beta1 in v1.15, gone by v1.17); v1beta1 from v1.15.
 * - operations.kubeedge.io v1alpha1 from v1.12, v1alpha2 from v1.21.
 * - keadm: helm-based `keadm init` default since v1.11; `keadm reset edge|cloud` since v1.15.
 */

/** One API version of a KubeEdge custom kind. */
export interface KubeEdgeKind {
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly scope: "Namespaced" | "Cluster";
  /** Served versions; the first is the storage version. */
  readonly versions: readonly string[];
  /** Short names (`kubectl get dev`). @default [] */
  readonly shortNames?: readonly string[];
}

export interface KubeEdgeRelease {
  /** `v1.23.1` */
  readonly version: string;
  /** Kubernetes minor versions the release is built and tested against (inclusive). */
  readonly kubernetes: { readonly min: string; readonly max: string };
  /** Edge container runtimes the release supports. */
  readonly runtimes: readonly ("containerd" | "docker")[];
  /** Minimum containerd version on edge nodes. */
  readonly minContainerd: string;
  /** Custom kinds the cloud side serves. */
  readonly kinds: readonly KubeEdgeKind[];
  /** cloudcore/iptables-manager/installation images tag. */
  readonly imageTag: string;
  /** How keadm resets an edge node. */
  readonly resetEdge: readonly string[];
  /** Mosquitto image the chart deploys to edge nodes. */
  readonly mosquittoImage: string;
  /**
   * Where edgecore.yaml names the container runtime: `edged` (v1.13: `edged.containerRuntime`,
   * `edged.remoteRuntimeEndpoint`) or `kubelet` (v1.14+: `edged.tailoredKubeletConfig.containerRuntimeEndpoint`).
   */
  readonly edgedRuntimeFields: "edged" | "kubelet";
}

const devices = (versions: readonly string[], withStatus: boolean): KubeEdgeKind[] => [
  {
    group: "devices.kubeedge.io",
    kind: "Device",
    plural: "devices",
    singular: "device",
    scope: "Namespaced",
    versions,
  },
  {
    group: "devices.kubeedge.io",
    kind: "DeviceModel",
    plural: "devicemodels",
    singular: "devicemodel",
    scope: "Namespaced",
    versions,
  },
  ...(withStatus
    ? [
        {
          group: "devices.kubeedge.io",
          kind: "DeviceStatus",
          plural: "devicestatuses",
          singular: "devicestatus",
          scope: "Namespaced",
          versions,
        } as const,
      ]
    : []),
];
const reliableSyncs: KubeEdgeKind[] = [
  {
    group: "reliablesyncs.kubeedge.io",
    kind: "ClusterObjectSync",
    plural: "clusterobjectsyncs",
    singular: "clusterobjectsync",
    scope: "Cluster",
    versions: ["v1alpha1"],
  },
  {
    group: "reliablesyncs.kubeedge.io",
    kind: "ObjectSync",
    plural: "objectsyncs",
    singular: "objectsync",
    scope: "Namespaced",
    versions: ["v1alpha1"],
  },
];
const rules: KubeEdgeKind[] = [
  {
    group: "rules.kubeedge.io",
    kind: "Rule",
    plural: "rules",
    singular: "rule",
    scope: "Namespaced",
    versions: ["v1"],
  },
  {
    group: "rules.kubeedge.io",
    kind: "RuleEndpoint",
    plural: "ruleendpoints",
    singular: "ruleendpoint",
    scope: "Namespaced",
    versions: ["v1"],
  },
];
const apps: KubeEdgeKind[] = [
  {
    group: "apps.kubeedge.io",
    kind: "NodeGroup",
    plural: "nodegroups",
    singular: "nodegroup",
    scope: "Cluster",
    versions: ["v1alpha1"],
    shortNames: ["ng"],
  },
  {
    group: "apps.kubeedge.io",
    kind: "EdgeApplication",
    plural: "edgeapplications",
    singular: "edgeapplication",
    scope: "Namespaced",
    versions: ["v1alpha1"],
    shortNames: ["ea"],
  },
];
const operations = (version: string, withConfigUpdate: boolean): KubeEdgeKind[] => [
  {
    group: "operations.kubeedge.io",
    kind: "NodeUpgradeJob",
    plural: "nodeupgradejobs",
    singular: "nodeupgradejob",
    scope: "Cluster",
    versions: [version],
  },
  {
    group: "operations.kubeedge.io",
    kind: "ImagePrePullJob",
    plural: "imageprepulljobs",
    singular: "imageprepulljob",
    scope: "Cluster",
    versions: [version],
  },
  ...(withConfigUpdate
    ? [
        {
          group: "operations.kubeedge.io",
          kind: "ConfigUpdateJob",
          plural: "configupdatejobs",
          singular: "configupdatejob",
          scope: "Cluster",
          versions: [version],
        } as const,
      ]
    : []),
];
const policy: KubeEdgeKind[] = [
  {
    group: "policy.kubeedge.io",
    kind: "ServiceAccountAccess",
    plural: "serviceaccountaccesses",
    singular: "serviceaccountaccess",
    scope: "Namespaced",
    versions: ["v1alpha1"],
  },
];

/** Releases by version. The newest is the default. */
export const KUBEEDGE_RELEASES = {
  "v1.13.4": {
    version: "v1.13.4",
    kubernetes: { min: "1.21", max: "1.23" },
    runtimes: ["containerd", "docker"],
    minContainerd: "1.4",
    kinds: [...devices(["v1alpha2"], false), ...reliableSyncs, ...rules, ...apps, ...operations("v1alpha1", false)],
    imageTag: "v1.13.4",
    resetEdge: ["reset", "--force"],
    mosquittoImage: "eclipse-mosquitto:1.6.15",
    edgedRuntimeFields: "edged",
  },
  "v1.20.0": {
    version: "v1.20.0",
    kubernetes: { min: "1.28", max: "1.30" },
    runtimes: ["containerd"],
    minContainerd: "1.6",
    kinds: [
      ...devices(["v1beta1"], false),
      ...reliableSyncs,
      ...rules,
      ...apps,
      ...operations("v1alpha1", false),
      ...policy,
    ],
    imageTag: "v1.20.0",
    resetEdge: ["reset", "edge", "--force"],
    mosquittoImage: "eclipse-mosquitto:1.6.15",
    edgedRuntimeFields: "kubelet",
  },
  "v1.23.1": {
    version: "v1.23.1",
    kubernetes: { min: "1.30", max: "1.32" },
    runtimes: ["containerd"],
    minContainerd: "1.6",
    kinds: [
      ...devices(["v1beta1"], true),
      ...reliableSyncs,
      ...rules,
      ...apps,
      ...operations("v1alpha2", true),
      ...policy,
    ],
    imageTag: "v1.23.1",
    resetEdge: ["reset", "edge", "--force"],
    mosquittoImage: "eclipse-mosquitto:1.6.15",
    edgedRuntimeFields: "kubelet",
  },
} as const satisfies Record<string, KubeEdgeRelease>;

export type KubeEdgeVersion = keyof typeof KUBEEDGE_RELEASES;
export const KUBEEDGE_VERSIONS = Object.keys(KUBEEDGE_RELEASES) as KubeEdgeVersion[];
export const DEFAULT_KUBEEDGE_VERSION: KubeEdgeVersion = "v1.23.1";

export function kubeEdgeRelease(v: KubeEdgeVersion): KubeEdgeRelease {
  return KUBEEDGE_RELEASES[v];
}

/** `v1.31.4+k3s1` or `1.31` or `v1.31.4` → `{ major: 1, minor: 31 }`; undefined when unparseable. */
export function kubernetesMinor(v: string): { major: number; minor: number } | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[+-][A-Za-z0-9.+-]*)?$/.exec(v);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

/** True when the Kubernetes version lies in the release's tested range. */
export function kubernetesCompatible(release: KubeEdgeRelease, kubernetes: string): boolean {
  const k = kubernetesMinor(kubernetes);
  const lo = kubernetesMinor(release.kubernetes.min)!;
  const hi = kubernetesMinor(release.kubernetes.max)!;
  if (!k) return false;
  const n = k.major * 1000 + k.minor;
  return n >= lo.major * 1000 + lo.minor && n <= hi.major * 1000 + hi.minor;
}
