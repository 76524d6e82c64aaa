import { ApiObject, Chart } from "cdk8s";
import { newChart } from "../../../lib/manifests/chart";

export interface KubeVipProps {
  readonly vip: string;
  readonly interface: string;
  readonly image: string;
}

const NS = "kube-system";
const NAME = "kube-vip";

/**
 * kube-vip in ARP mode on the K3s servers, announcing the registration VIP for the API (6443) with leader
 * election. Deployed through K3s's auto-deploy manifests directory so the VIP exists before anything else.
 */
export function kubeVipChart(props: KubeVipProps): Chart {
  const chart = newChart(undefined, "kube-vip");
  const labels = { "app.kubernetes.io/name": NAME, "app.kubernetes.io/managed-by": "edgecloud" };
  new ApiObject(chart, "sa", {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: NAME, namespace: NS, labels },
  });
  new ApiObject(chart, "role", {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "system:kube-vip-role", labels },
    rules: [
      { apiGroups: [""], resources: ["services/status"], verbs: ["update"] },
      { apiGroups: [""], resources: ["services", "endpoints"], verbs: ["list", "get", "watch", "update"] },
      { apiGroups: [""], resources: ["nodes"], verbs: ["list", "get", "watch", "update", "patch"] },
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        verbs: ["list", "get", "watch", "update", "create"],
      },
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "get", "watch", "update"] },
    ],
  });
  new ApiObject(chart, "binding", {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "system:kube-vip-binding", labels },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:kube-vip-role" },
    subjects: [{ kind: "ServiceAccount", name: NAME, namespace: NS }],
  });
  const env: Record<string, string> = {
    vip_arp: "true",
    port: "6443",
    vip_interface: props.interface,
    vip_cidr: "32",
    cp_enable: "true",
    cp_namespace: NS,
    svc_enable: "false",
    vip_leaderelection: "true",
    vip_leasename: "plndr-cp-lock",
    vip_leaseduration: "5",
    vip_renewdeadline: "3",
    vip_retryperiod: "1",
    address: props.vip,
  };
  new ApiObject(chart, "ds", {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: `${NAME}-ds`, namespace: NS, labels },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": NAME } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: NAME,
          hostNetwork: true,
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists" }] },
                ],
              },
            },
          },
          tolerations: [
            { effect: "NoSchedule", operator: "Exists" },
            { effect: "NoExecute", operator: "Exists" },
          ],
          containers: [
            {
              name: NAME,
              image: props.image,
              args: ["manager"],
              env: Object.entries(env).map(([name, value]) => ({ name, value })),
              securityContext: { capabilities: { add: ["NET_ADMIN", "NET_RAW"], drop: ["ALL"] } },
              resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
            },
          ],
        },
      },
    },
  });
  return chart;
}
