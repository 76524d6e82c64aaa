/**
 * KubeEdge releases edgecloud knows, as data: adding a release is adding an entry here.
 * Facts from the releases' CHANGELOGs and charts (kubeedge/kubeedge manifests/charts/cloudcore at each tag):
 * - containerd is the default edge runtime since v1.13; dockershim was removed in v1.14.
 * - CRDs are upstream's files, vendored byte for byte (`upstream/crds-<tag>.ts`, served versions and subresources
 *   exactly as upstream: e.g. v1.23.1 serves devices v1alpha2 + v1beta1 without a status subresource, operations
 *   v1alpha1 + v1alpha2).
 * - RBAC rules are upstream's (`templates/rbac_cloudcore.yaml`, `templates/rbac_iptablesmanager.yaml`).
 * - keadm: helm-based `keadm init` default since v1.11; `keadm reset edge|cloud` since v1.15.
 */
import { CRDS_V1_13_4 } from "./upstream/crds-v1-13-4";
import { CRDS_V1_20_0 } from "./upstream/crds-v1-20-0";
import { CRDS_V1_23_1 } from "./upstream/crds-v1-23-1";
import { VendoredCrd } from "./upstream/vendored-crd";

/** One RBAC policy rule, as upstream writes it. */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
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
  /** The chart's CustomResourceDefinitions, byte for byte. */
  readonly crds: readonly VendoredCrd[];
  /**
   * cloudcore's rules: in ClusterRole `cloudcore-common` aggregated into `cloudcore` by the label
   * `rbac/aggregate-to-cloudcore` (`aggregated`), or directly in ClusterRole `cloudcore` (v1.13).
   */
  readonly cloudcoreRbac: { readonly aggregated: boolean; readonly rules: readonly PolicyRule[] };
  /** The iptables-manager's ClusterRole rules (bound cluster-wide: it watches ConfigMaps and Pods in every namespace). */
  readonly iptablesManagerRules: readonly PolicyRule[];
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

const CRUD = ["get", "list", "watch", "create", "update", "patch", "delete"] as const;
/** cloudcore's core-group rules, shared by v1.13.4 through v1.23.1 (kubeedge/kubeedge <tag> manifests/charts/cloudcore/templates/rbac_cloudcore.yaml). */
const CORE_RULES: readonly PolicyRule[] = [
  {
    apiGroups: [""],
    resources: [
      "nodes",
      "nodes/status",
      "serviceaccounts/token",
      "configmaps",
      "pods",
      "pods/status",
      "secrets",
      "endpoints",
      "services",
      "persistentvolumes",
      "persistentvolumeclaims",
    ],
    verbs: ["get", "list", "watch", "create", "update"],
  },
  { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "create", "list", "watch"] },
];
const KUBEEDGE_GROUP_RULES: readonly PolicyRule[] = [
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "list", "watch", "create", "update"] },
  {
    apiGroups: ["devices.kubeedge.io"],
    resources: ["devices", "devicemodels", "devices/status", "devicemodels/status"],
    verbs: CRUD,
  },
  {
    apiGroups: ["reliablesyncs.kubeedge.io"],
    resources: ["objectsyncs", "clusterobjectsyncs", "objectsyncs/status", "clusterobjectsyncs/status"],
    verbs: CRUD,
  },
  {
    apiGroups: ["rules.kubeedge.io"],
    resources: ["rules", "ruleendpoints", "rules/status", "ruleendpoints/status"],
    verbs: CRUD,
  },
  { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: CRUD },
  { apiGroups: ["networking.istio.io"], resources: ["*"], verbs: ["get", "list", "watch"] },
];
const operationsRule = (jobs: readonly string[]): PolicyRule => ({
  apiGroups: ["operations.kubeedge.io"],
  resources: jobs.flatMap((j) => [j, `${j}/status`]),
  verbs: ["get", "list", "watch", "update", "patch"],
});
/** v1.20.0 and v1.23.1: rbac_cloudcore.yaml, ClusterRole cloudcore-common (label rbac/aggregate-to-cloudcore). */
const cloudcoreCommonRules = (jobs: readonly string[]): PolicyRule[] => [
  ...CORE_RULES,
  { apiGroups: [""], resources: ["events"], verbs: ["create", "update", "patch"] },
  { apiGroups: [""], resources: ["nodes", "nodes/status", "pods/status"], verbs: ["patch"] },
  { apiGroups: [""], resources: ["pods", "configmaps"], verbs: ["delete"] },
  ...KUBEEDGE_GROUP_RULES,
  operationsRule(jobs),
];
/** kubeedge/kubeedge v1.13.4 manifests/charts/cloudcore/templates/rbac_cloudcore.yaml (ClusterRole cloudcore, no aggregation). */
const CLOUDCORE_RULES_V1_13: readonly PolicyRule[] = [
  ...CORE_RULES,
  { apiGroups: [""], resources: ["nodes", "nodes/status", "pods/status"], verbs: ["patch"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["delete"] },
  ...KUBEEDGE_GROUP_RULES,
  operationsRule(["nodeupgradejobs"]),
];
/** kubeedge/kubeedge v1.20.0 and v1.23.1 manifests/charts/cloudcore/templates/rbac_iptablesmanager.yaml (ClusterRole iptables-manager). */
const IPTABLES_MANAGER_RULES: readonly PolicyRule[] = [
  { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "update"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
];
/** kubeedge/kubeedge v1.13.4 manifests/charts/cloudcore/templates/rbac_iptablesmanager.yaml. */
const IPTABLES_MANAGER_RULES_V1_13: readonly PolicyRule[] = [
  { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] },
];

/** Releases by version. The newest is the default. */
export const KUBEEDGE_RELEASES = {
  "v1.13.4": {
    version: "v1.13.4",
    kubernetes: { min: "1.21", max: "1.23" },
    runtimes: ["containerd", "docker"],
    minContainerd: "1.4",
    crds: CRDS_V1_13_4,
    cloudcoreRbac: { aggregated: false, rules: CLOUDCORE_RULES_V1_13 },
    iptablesManagerRules: IPTABLES_MANAGER_RULES_V1_13,
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
    crds: CRDS_V1_20_0,
    cloudcoreRbac: {
      aggregated: true,
      rules: cloudcoreCommonRules(["nodeupgradejobs", "imageprepulljobs"]),
    },
    iptablesManagerRules: IPTABLES_MANAGER_RULES,
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
    crds: CRDS_V1_23_1,
    cloudcoreRbac: {
      aggregated: true,
      rules: cloudcoreCommonRules(["nodeupgradejobs", "imageprepulljobs", "configupdatejobs"]),
    },
    iptablesManagerRules: IPTABLES_MANAGER_RULES,
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
