/** Recommended labels of the provisioner's objects. */
export function nfsLabels(name: string, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/instance": name,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/managed-by": "edgecloud",
  };
}

/** The subset that selects pods (stable across versions). */
export function nfsSelector(name: string, component: string): Record<string, string> {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/component": component };
}
