import { REGISTRY_NAME } from "./spec";

/** Recommended labels of every registry object; `component` tells the server pod from the GC job. */
export function registryLabels(component: "server" | "gc" | "storage" | "config"): Record<string, string> {
  return {
    "app.kubernetes.io/name": REGISTRY_NAME,
    "app.kubernetes.io/instance": REGISTRY_NAME,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/managed-by": "edgecloud",
  };
}

/** Selects the registry server pods (the GC job's affinity target). */
export const REGISTRY_SERVER_SELECTOR: Readonly<Record<string, string>> = {
  "app.kubernetes.io/name": REGISTRY_NAME,
  "app.kubernetes.io/instance": REGISTRY_NAME,
  "app.kubernetes.io/component": "server",
};
