import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KubeObject } from "../manifests/kube-object";
import { assertValidObjects } from "../manifests/validate";

/** A Kubernetes provider for a cluster's kubeconfig (a secret). */
export function clusterProvider(name: string, kubeconfig: pulumi.Input<string>, parent: pulumi.Resource): k8s.Provider {
  return new k8s.Provider(name, { kubeconfig: pulumi.secret(kubeconfig), enableServerSideApply: true }, { parent });
}

/**
 * Applies a chart's rendered objects as one ConfigGroup, validated strictly first (the schema synth validates
 * against): every component's manifests on the Pulumi path go through here. Secrets stay secret in state.
 */
export function applyObjects(
  name: string,
  objects: readonly Record<string, unknown>[],
  opts: { parent: pulumi.Resource; provider: k8s.Provider; dependsOn?: pulumi.Input<pulumi.Resource>[] },
): k8s.yaml.v2.ConfigGroup {
  assertValidObjects(objects as readonly KubeObject[]);
  return new k8s.yaml.v2.ConfigGroup(name, { objs: objects as unknown as k8s.yaml.v2.ConfigGroupArgs["objs"] }, opts);
}
