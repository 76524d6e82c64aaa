/** The label KubeEdge (and edgecloud) give edge nodes. */
export const EDGE_NODE_LABEL = "node-role.kubernetes.io/edge";

/**
 * Node affinity that keeps a pod off edge nodes: cluster DaemonSets (CSI node plugins, CNI, kube-proxy) cannot
 * work on edge nodes, which have no cluster networking, and crash-loop there.
 */
export const AVOID_EDGE_NODES = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: EDGE_NODE_LABEL, operator: "DoesNotExist" as const }] }],
    },
  },
};
