/** Cloud nodes: per-service placement and the pod network are refused on KubeEdge edge nodes. */
export const CLOUD = { "node-role.kubernetes.io/agent": "true" };

/** Hanoi runs without security (its secure mode is refused); per-service and pod-network specs select cloud nodes. */
export function withDefaults(spec: Record<string, unknown>): Record<string, unknown> {
  const hanoi = spec.release === "hanoi-1.3" && spec.security === undefined ? { security: false } : {};
  const cloud =
    (spec.placement === "per-service" || spec.network === "pod") && spec.nodeSelector === undefined
      ? { nodeSelector: CLOUD }
      : {};
  return { ...spec, ...hanoi, ...cloud };
}
