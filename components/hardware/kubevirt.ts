import { parseAllDocuments } from "yaml";
import { CAPABILITY_LABELS } from "../../lib/hosts/capabilities";
import { Host } from "../../lib/hosts/host";
import { KubeObject } from "../../lib/manifests/kube-object";
import { KUBEVIRT_V1_5_2 } from "./upstream/kubevirt-v1-5-2";

/** The pinned KubeVirt release. */
export const KUBEVIRT_VERSION = "v1.5.2";
export const KUBEVIRT_NAMESPACE = "kubevirt";
// kubevirt/kubevirt v1.5.2 hack/config-default.sh: the release's images live in quay.io/kubevirt, tag = release
export const VIRT_OPERATOR_IMAGE = `quay.io/kubevirt/virt-operator:${KUBEVIRT_VERSION}`;

let parsed: KubeObject[] | undefined;
/** The vendored files (CRD, operator RBAC), parsed once; `{{.Namespace}}` is the only template field in them. */
function vendored(): KubeObject[] {
  parsed ??= KUBEVIRT_V1_5_2.flatMap((f) =>
    parseAllDocuments(f.yaml.replace(/\{\{\.Namespace\}\}/g, KUBEVIRT_NAMESPACE))
      .map((d) => d.toJSON() as KubeObject | null)
      .filter((o): o is KubeObject => o !== null && typeof o === "object"),
  );
  return structuredClone(parsed);
}

/**
 * The virt-operator Deployment as kubevirt/kubevirt v1.5.2 pkg/virt-operator/resource/generate/components/deployments.go
 * `NewOperatorDeployment` builds it (labels, 2 replicas, CriticalAddonsOnly toleration, preferred anti-affinity,
 * ports, probe, env, resources, security contexts, the optional certificate Secret and the profile-data volume),
 * with hack/config-default.sh's release defaults (verbosity 2, IfNotPresent). The release pipeline also pins each
 * component image by digest (`--virt-*-sha`); those digests are not in the repository, so the operator derives the
 * component images from its own tag instead.
 */
function virtOperatorDeployment(): KubeObject {
  const name = "virt-operator";
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: KUBEVIRT_NAMESPACE, labels: { "kubevirt.io": name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { "kubevirt.io": name } },
      strategy: { type: "RollingUpdate" },
      template: {
        metadata: {
          name,
          labels: { "kubevirt.io": name, name, "prometheus.kubevirt.io": "true" },
          annotations: { "openshift.io/required-scc": "restricted-v2" },
        },
        spec: {
          priorityClassName: "kubevirt-cluster-critical",
          tolerations: [{ key: "CriticalAddonsOnly", operator: "Exists" }],
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 1,
                  podAffinityTerm: {
                    labelSelector: { matchExpressions: [{ key: "kubevirt.io", operator: "In", values: [name] }] },
                    topologyKey: "kubernetes.io/hostname",
                  },
                },
              ],
            },
          },
          serviceAccountName: "kubevirt-operator",
          nodeSelector: { "kubernetes.io/os": "linux" },
          containers: [
            {
              name,
              image: VIRT_OPERATOR_IMAGE,
              imagePullPolicy: "IfNotPresent",
              command: [name],
              args: ["--port", "8443", "-v", "2"],
              ports: [
                { name: "metrics", protocol: "TCP", containerPort: 8443 },
                { name: "webhooks", protocol: "TCP", containerPort: 8444 },
              ],
              readinessProbe: {
                httpGet: { scheme: "HTTPS", port: 8443, path: "/metrics" },
                initialDelaySeconds: 5,
                timeoutSeconds: 10,
              },
              env: [
                { name: "VIRT_OPERATOR_IMAGE", value: VIRT_OPERATOR_IMAGE },
                {
                  name: "WATCH_NAMESPACE",
                  valueFrom: { fieldRef: { fieldPath: "metadata.annotations['olm.targetNamespaces']" } },
                },
                { name: "KUBEVIRT_VERSION", value: KUBEVIRT_VERSION },
              ],
              resources: { requests: { cpu: "10m", memory: "450Mi" } },
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
              },
              volumeMounts: [
                { name: "kubevirt-operator-certs", readOnly: true, mountPath: "/etc/virt-operator/certificates" },
                { name: "profile-data", mountPath: "/profile-data" },
              ],
            },
          ],
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          volumes: [
            { name: "kubevirt-operator-certs", secret: { secretName: "kubevirt-operator-certs", optional: true } },
            { name: "profile-data", emptyDir: {} },
          ],
        },
      },
    },
  };
}

/**
 * KubeVirt v1.5.2 as its release's kubevirt-operator.yaml (manifests/release/kubevirt-operator.yaml.in: Namespace,
 * the generated CRD, PriorityClass, ClusterRole `kubevirt.io:operator`, the generated operator RBAC, the
 * Deployment) plus the `KubeVirt` CR (manifests/generated/kubevirt-cr.yaml.in) whose VM workloads (virt-handler,
 * the VMs) are placed on the hosts with the `kvm` capability. Empty when no host has it.
 */
export function kubevirtObjects(hosts: readonly Host[]): KubeObject[] {
  if (!hosts.some((h) => h.capabilities?.kvm)) return [];
  const files = vendored();
  const crd = files.filter((o) => o.kind === "CustomResourceDefinition");
  const rbac = files.filter((o) => o.kind !== "CustomResourceDefinition");
  return [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: KUBEVIRT_NAMESPACE,
        labels: { "kubevirt.io": "", "pod-security.kubernetes.io/enforce": "privileged" },
      },
    },
    ...crd,
    {
      apiVersion: "scheduling.k8s.io/v1",
      kind: "PriorityClass",
      metadata: { name: "kubevirt-cluster-critical" },
      value: 1000000000,
      globalDefault: false,
      description: "This priority class should be used for core kubevirt components only.",
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: {
        name: "kubevirt.io:operator",
        labels: { "operator.kubevirt.io": "", "rbac.authorization.k8s.io/aggregate-to-admin": "true" },
      },
      rules: [
        {
          apiGroups: ["kubevirt.io"],
          resources: ["kubevirts"],
          verbs: ["get", "delete", "create", "update", "patch", "list", "watch", "deletecollection"],
        },
      ],
    },
    ...rbac,
    virtOperatorDeployment(),
    {
      apiVersion: "kubevirt.io/v1",
      kind: "KubeVirt",
      metadata: { name: "kubevirt", namespace: KUBEVIRT_NAMESPACE },
      spec: {
        certificateRotateStrategy: {},
        configuration: { developerConfiguration: { featureGates: [] } },
        customizeComponents: {},
        imagePullPolicy: "IfNotPresent",
        workloadUpdateStrategy: {},
        // virt-handler and the VMs only where /dev/kvm is (the label edgecloud sets on kvm hosts)
        workloads: { nodePlacement: { nodeSelector: { [CAPABILITY_LABELS.kvm]: "true" } } },
      },
    },
  ];
}
