import { parseAllDocuments } from "yaml";
import { KubeObject } from "../../lib/manifests/kube-object";
import { KubeEdgeRelease } from "./release";

/**
 * The CustomResourceDefinitions a release serves: upstream's chart files (`release.crds`, vendored byte for byte from
 * kubeedge/kubeedge <tag> manifests/charts/cloudcore/crds/), parsed as they are — served versions, storage version,
 * schemas and subresources exactly as upstream ships them (a status subresource where upstream has none would make
 * the API server drop the controllers' `.status` patches).
 */
export function kubeEdgeCrds(release: KubeEdgeRelease): KubeObject[] {
  let parsed = PARSED.get(release.version);
  if (!parsed) {
    parsed = release.crds.flatMap((c) =>
      parseAllDocuments(c.yaml)
        .map((d) => d.toJSON() as KubeObject | null)
        .filter((o): o is KubeObject => o !== null && typeof o === "object"),
    );
    PARSED.set(release.version, parsed);
  }
  return structuredClone(parsed);
}

/** Parsed once per release (the files are large); callers get their own copy. */
const PARSED = new Map<string, KubeObject[]>();
