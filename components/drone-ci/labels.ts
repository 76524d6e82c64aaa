/** Recommended labels; `component` is server | runner | gogs | gitea. */
export function droneLabels(component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": component === "gogs" || component === "gitea" ? component : "drone",
    "app.kubernetes.io/instance": "drone",
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/managed-by": "edgecloud",
  };
}

/** Pod selector of a component. */
export function droneSelector(component: string): Record<string, string> {
  const l = droneLabels(component);
  return { "app.kubernetes.io/name": l["app.kubernetes.io/name"], "app.kubernetes.io/component": component };
}

/** Pod Security labels of a namespace. */
export function dronePodSecurityLabels(level: "restricted" | "baseline" | "privileged"): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": level,
  };
}
