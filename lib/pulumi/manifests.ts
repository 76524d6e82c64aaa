import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KubeObject } from "../manifests/kube-object";
import { assertValidObjects } from "../manifests/validate";

/** A Kubernetes provider for a cluster's kubeconfig (a secret). */
export function clusterProvider(name: string, kubeconfig: pulumi.Input<string>, parent: pulumi.Resource): k8s.Provider {
  return new k8s.Provider(name, { kubeconfig: pulumi.secret(kubeconfig), enableServerSideApply: true }, { parent });
}

/** Objects {@link validObjects} has validated strictly: applyObjects does not validate them a second time. */
const validated = new WeakSet<object>();

/**
 * Validates a chart's objects strictly (the schema synth validates against) and returns them marked as valid:
 * what a component calls before its own resource exists, so bad input fails before anything is created.
 */
export function validObjects<T extends readonly KubeObject[]>(objects: T): T {
  assertValidObjects(objects);
  for (const o of objects) validated.add(o);
  return objects;
}

/**
 * Applies a chart's rendered objects as one ConfigGroup. Every component's manifests on the Pulumi path go
 * through here: objects not already checked by {@link validObjects} are validated strictly first. Secrets stay
 * secret in state.
 */
export function applyObjects(
  name: string,
  objects: readonly Record<string, unknown>[],
  opts: { parent: pulumi.Resource; provider: k8s.Provider; dependsOn?: pulumi.Input<pulumi.Resource>[] },
): k8s.yaml.v2.ConfigGroup {
  const unchecked = objects.filter((o) => !validated.has(o));
  if (unchecked.length) assertValidObjects(unchecked as unknown as readonly KubeObject[]);
  return new k8s.yaml.v2.ConfigGroup(name, { objs: objects as unknown as k8s.yaml.v2.ConfigGroupArgs["objs"] }, opts);
}
