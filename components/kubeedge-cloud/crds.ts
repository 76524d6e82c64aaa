import { KubeObject } from "../../lib/manifests/kube-object";
import { KubeEdgeKind, KubeEdgeRelease } from "./release";

const OPEN_OBJECT = { type: "object", "x-kubernetes-preserve-unknown-fields": true } as const;

/**
 * The CustomResourceDefinitions a release serves, written from the release's API facts (group, versions, kinds,
 * scope). Schemas are structural but open below `spec`/`status`: edgecloud emits no KubeEdge custom objects of its
 * own, and cloudcore's controllers validate their specs.
 */
export function kubeEdgeCrds(release: KubeEdgeRelease): KubeObject[] {
  return release.kinds.map(crdFor);
}

export function crdFor(k: KubeEdgeKind): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${k.plural}.${k.group}`, labels: { "app.kubernetes.io/part-of": "kubeedge" } },
    spec: {
      group: k.group,
      names: {
        kind: k.kind,
        listKind: `${k.kind}List`,
        plural: k.plural,
        singular: k.singular,
        ...(k.shortNames ? { shortNames: [...k.shortNames] } : {}),
      },
      scope: k.scope,
      versions: k.versions.map((v, i) => ({
        name: v,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: { type: "object", properties: { spec: OPEN_OBJECT, status: OPEN_OBJECT } } },
        subresources: { status: {} },
      })),
    },
  };
}
