import { ApiObject, App, Chart } from "cdk8s";
import { newChart } from "../../lib/manifests/chart";
import { KubeObject } from "../../lib/manifests/kube-object";
import { cloudCoreConfig, cloudCoreConfigYaml } from "./cloudcore-config";
import { kubeEdgeCrds } from "./crds";
import { KubeEdgeRelease, kubeEdgeRelease } from "./release";
import { EDGE_ROLE_LABEL, KubeEdgeCloudProps, NAMESPACE } from "./spec";
import { AVOID_EDGE_NODES } from "../../lib/k3s/node-roles";

/** Node affinity that keeps a pod off KubeEdge edge nodes (`lib/k3s/node-roles.ts`). */
export const AVOID_EDGE_AFFINITY = AVOID_EDGE_NODES;

/** Node affinity that places a pod only on KubeEdge edge nodes. */
export const ON_EDGE_AFFINITY = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: EDGE_ROLE_LABEL, operator: "Exists" }] }],
    },
  },
} as const;

/** The name of the Secret holding cloudcore's stream certificates (`streamCA.crt`, `stream.crt`, `stream.key`). */
export const STREAM_CERT_SECRET = "cloudcore";
const LABELS = { "k8s-app": "kubeedge", kubeedge: "cloudcore", "app.kubernetes.io/part-of": "kubeedge" } as const;
// kubeedge/kubeedge v1.23.1 manifests/charts/cloudcore/templates/aggregation_rbac_cloudcore.yaml
const AGGREGATE = "rbac/aggregate-to-cloudcore";

/**
 * cloudcore in manifests mode: Namespace, RBAC, the typed cloudcore.yaml ConfigMap, a Deployment pinned off edge
 * nodes, a Service exposed as asked, the iptables-manager, the optional mosquitto DaemonSet, and the release's CRDs.
 * The stream-certificate Secret is not rendered here (its keys are secret material): the component creates it.
 */
export function cloudCoreChart(props: KubeEdgeCloudProps, app?: App): Chart {
  const chart = newChart(app, "kubeedge-cloud");
  for (const o of cloudCoreObjects(props))
    new ApiObject(chart, `${o.kind}-${o.metadata.namespace ?? ""}-${o.metadata.name}`, o);
  return chart;
}

/** The objects of {@link cloudCoreChart}, in apply order (namespace and CRDs first). */
export function cloudCoreObjects(props: KubeEdgeCloudProps): KubeObject[] {
  const { spec } = props;
  const release = kubeEdgeRelease(spec.version);
  const ns = NAMESPACE;
  const hostNetwork = spec.exposure.kind === "hostNetwork";
  const image = (n: string) => `${spec.imageRepository}/${n}:${release.imageTag}`;
  const ports = [
    { name: "cloudhub", port: spec.cloudHub.websocketPort, protocol: "TCP", np: "cloudhub" as const, on: true },
    {
      name: "cloudhub-quic",
      port: spec.cloudHub.quicPort,
      protocol: "UDP",
      np: "quic" as const,
      on: spec.cloudHub.quic,
    },
    { name: "cloudhub-https", port: spec.cloudHub.httpsPort, protocol: "TCP", np: "https" as const, on: true },
    {
      name: "cloudstream",
      port: spec.cloudStream.streamPort,
      protocol: "TCP",
      np: "stream" as const,
      on: spec.cloudStream.enable,
    },
    {
      name: "tunnelport",
      port: spec.cloudStream.tunnelPort,
      protocol: "TCP",
      np: "tunnel" as const,
      on: spec.cloudStream.enable,
    },
  ].filter((p) => p.on);

  const affinity = props.cloudcoreNode
    ? {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: EDGE_ROLE_LABEL, operator: "DoesNotExist" },
                  { key: "kubernetes.io/hostname", operator: "In", values: [props.cloudcoreNode] },
                ],
              },
            ],
          },
        },
      }
    : AVOID_EDGE_AFFINITY;

  const objects: KubeObject[] = [
    {
      apiVersion: "v1",
      kind: "Namespace",
      // cloudcore and the iptables-manager are privileged with host networking
      metadata: {
        name: ns,
        labels: { "pod-security.kubernetes.io/enforce": "privileged", "app.kubernetes.io/part-of": "kubeedge" },
      },
    },
    ...kubeEdgeCrds(release),
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "cloudcore", namespace: ns, labels: LABELS } },
    ...cloudcoreRoles(release),
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "cloudcore", labels: LABELS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cloudcore" },
      subjects: [{ kind: "ServiceAccount", name: "cloudcore", namespace: ns }],
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cloudcore", namespace: ns, labels: LABELS },
      data: { "cloudcore.yaml": cloudCoreConfigYaml(cloudCoreConfig(spec)) },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "cloudcore", namespace: ns, labels: LABELS },
      spec: {
        replicas: 1,
        // hostNetwork ports cannot be held by two pods on one node: never surge
        strategy: { type: "Recreate" },
        selector: { matchLabels: { "k8s-app": "kubeedge", kubeedge: "cloudcore" } },
        template: {
          metadata: { labels: LABELS },
          spec: {
            serviceAccountName: "cloudcore",
            hostNetwork,
            dnsPolicy: hostNetwork ? "ClusterFirstWithHostNet" : "ClusterFirst",
            affinity,
            tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
            containers: [
              {
                name: "cloudcore",
                image: image("cloudcore"),
                imagePullPolicy: "IfNotPresent",
                ports: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol })),
                resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
                securityContext: { privileged: true },
                ...(spec.probes
                  ? {
                      // /ca.crt answers once cloudcore has loaded its CA: ready to hand out edge certificates
                      readinessProbe: {
                        httpGet: { scheme: "HTTPS", path: "/ca.crt", port: spec.cloudHub.httpsPort },
                        periodSeconds: 10,
                        failureThreshold: 3,
                      },
                      livenessProbe: {
                        tcpSocket: { port: spec.cloudHub.websocketPort },
                        initialDelaySeconds: 30,
                        periodSeconds: 20,
                        failureThreshold: 6,
                      },
                      startupProbe: {
                        tcpSocket: { port: spec.cloudHub.httpsPort },
                        periodSeconds: 5,
                        failureThreshold: 60,
                      },
                    }
                  : {}),
                volumeMounts: [
                  { name: "conf", mountPath: "/etc/kubeedge/config" },
                  { name: "certs", mountPath: "/etc/kubeedge", readOnly: true },
                  { name: "sock", mountPath: "/var/lib/kubeedge" },
                  { name: "localtime", mountPath: "/etc/localtime", readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: "conf", configMap: { name: "cloudcore" } },
              {
                name: "certs",
                secret: {
                  secretName: STREAM_CERT_SECRET,
                  items: [
                    { key: "streamCA.crt", path: "ca/streamCA.crt" },
                    { key: "stream.crt", path: "certs/stream.crt" },
                    { key: "stream.key", path: "certs/stream.key" },
                  ],
                },
              },
              { name: "sock", hostPath: { path: "/var/lib/kubeedge", type: "DirectoryOrCreate" } },
              { name: "localtime", hostPath: { path: "/etc/localtime" } },
            ],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "cloudcore", namespace: ns, labels: LABELS },
      spec: {
        type: spec.exposure.kind === "hostNetwork" ? "ClusterIP" : spec.exposure.kind,
        selector: { "k8s-app": "kubeedge", kubeedge: "cloudcore" },
        ...(spec.exposure.kind === "LoadBalancer" && spec.exposure.loadBalancerIP
          ? { loadBalancerIP: spec.exposure.loadBalancerIP }
          : {}),
        ports: ports.map((p) => ({
          name: p.name,
          port: p.port,
          targetPort: p.port,
          protocol: p.protocol,
          ...(spec.exposure.kind === "NodePort" ? { nodePort: spec.exposure.nodePorts[p.np] } : {}),
        })),
      },
    },
  ];

  if (spec.iptablesManager.enable && spec.iptablesManager.mode === "external")
    objects.push(...iptablesManagerObjects(props, release, image));
  if (spec.mosquitto) objects.push(mosquittoDaemonSet(release.mosquittoImage));
  return objects;
}

/**
 * cloudcore's ClusterRoles as upstream's chart renders them (requireAuthorization off, so no `cloudcore-feature`):
 * `cloudcore` aggregating `cloudcore-common` by the label `rbac/aggregate-to-cloudcore` (v1.20+), or one ClusterRole
 * (v1.13). kubeedge/kubeedge <tag> manifests/charts/cloudcore/templates/{aggregation_rbac_cloudcore,rbac_cloudcore}.yaml
 */
function cloudcoreRoles(release: KubeEdgeRelease): KubeObject[] {
  const { aggregated, rules } = release.cloudcoreRbac;
  const role = (name: string, extra: Record<string, unknown>): KubeObject => ({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name, labels: { ...LABELS, ...(name === "cloudcore-common" ? { [AGGREGATE]: "true" } : {}) } },
    ...extra,
  });
  if (!aggregated) return [role("cloudcore", { rules: rules.map((r) => ({ ...r })) })];
  return [
    role("cloudcore", {
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE]: "true" } }] },
      rules: [],
    }),
    role("cloudcore-common", { rules: rules.map((r) => ({ ...r })) }),
  ];
}

function iptablesManagerObjects(
  props: KubeEdgeCloudProps,
  release: KubeEdgeRelease,
  image: (n: string) => string,
): KubeObject[] {
  const ns = NAMESPACE;
  const labels = {
    "k8s-app": "iptables-manager",
    kubeedge: "iptables-manager",
    "app.kubernetes.io/part-of": "kubeedge",
  };
  const name = props.spec.iptablesManager.framework === "nft" ? "iptables-manager-nft" : "iptables-manager";
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "iptables-manager-sa", namespace: ns, labels } },
    // upstream's ClusterRole and ClusterRoleBinding: iptables-manager lists ConfigMaps and Pods through a cluster-wide
    // informer and blocks until its cache syncs, so a namespaced Role leaves it waiting forever (no DNAT, no logs/exec)
    // kubeedge/kubeedge <tag> manifests/charts/cloudcore/templates/rbac_iptablesmanager.yaml
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "iptables-manager", labels },
      rules: release.iptablesManagerRules.map((r) => ({ ...r })),
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "iptables-manager", labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "iptables-manager" },
      subjects: [{ kind: "ServiceAccount", name: "iptables-manager-sa", namespace: ns }],
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "cloud-iptables-manager", namespace: ns, labels },
      spec: {
        selector: { matchLabels: { "k8s-app": "iptables-manager" } },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: "iptables-manager-sa",
            hostNetwork: true,
            affinity: AVOID_EDGE_AFFINITY,
            tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }],
            containers: [
              {
                name: "iptables-manager",
                image: image(name),
                imagePullPolicy: "IfNotPresent",
                resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                // upstream adds NET_ADMIN/NET_RAW (values.yaml iptablesManager.securityContext); nothing else is needed
                securityContext: {
                  allowPrivilegeEscalation: false,
                  seccompProfile: { type: "RuntimeDefault" },
                  capabilities: { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW"] },
                },
              },
            ],
          },
        },
      },
    },
  ];
}

/** Upstream's eclipse-mosquitto DaemonSet on edge nodes (host network, 1883). */
export function mosquittoDaemonSet(image: string): KubeObject {
  const labels = { "k8s-app": "eclipse-mosquitto", "app.kubernetes.io/part-of": "kubeedge" };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "edge-eclipse-mosquitto", namespace: NAMESPACE, labels },
    spec: {
      selector: { matchLabels: { "k8s-app": "eclipse-mosquitto" } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          affinity: ON_EDGE_AFFINITY,
          tolerations: [{ operator: "Exists" }],
          containers: [
            {
              name: "mosquitto",
              image,
              imagePullPolicy: "IfNotPresent",
              ports: [{ name: "mqtt", containerPort: 1883, hostPort: 1883, protocol: "TCP" }],
              resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 1883,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
              },
              volumeMounts: [{ name: "data", mountPath: "/mosquitto/data" }],
            },
          ],
          volumes: [{ name: "data", emptyDir: {} }],
        },
      },
    },
  };
}

/**
 * Strategic-merge patches that keep existing DaemonSets (kube-proxy, a CNI agent, a CSI node plugin) off edge
 * nodes, where they would crash-loop without the API server and cluster network (#4691 #5987). K3s runs flannel
 * and kube-proxy inside the k3s process, so with K3s this is only for DaemonSets other components add.
 */
export function edgeAvoidancePatches(
  refs: readonly { readonly namespace: string; readonly name: string }[],
): KubeObject[] {
  return refs.map((r) => ({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: r.name, namespace: r.namespace, annotations: { "pulumi.com/patchForce": "true" } },
    spec: { template: { spec: { affinity: AVOID_EDGE_AFFINITY } } },
  }));
}
