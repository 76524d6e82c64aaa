import { k8s } from "cdk8s-plus-27";

/** The cluster DNS pods: K3s's CoreDNS, namespace kube-system, label `k8s-app: kube-dns` (k3s-io/k3s manifests/coredns.yaml @0064a396). */
export const KUBE_DNS_PEER: k8s.NetworkPolicyPeer = {
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
};

/** DNS over UDP and TCP. */
export const DNS_PORTS: k8s.NetworkPolicyPort[] = [
  { protocol: "UDP", port: k8s.IntOrString.fromNumber(53) },
  { protocol: "TCP", port: k8s.IntOrString.fromNumber(53) },
];

/** Every pod of one namespace (by its immutable `kubernetes.io/metadata.name` label). */
export function inNamespace(namespace: string): k8s.NetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } };
}

/** A TCP port of a NetworkPolicy rule. */
export function tcpPort(port: number): k8s.NetworkPolicyPort {
  return { protocol: "TCP", port: k8s.IntOrString.fromNumber(port) };
}
