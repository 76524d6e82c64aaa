import { createHash } from "crypto";
import { parseAllDocuments } from "yaml";
import { chartObjects } from "../../../lib/manifests/chart";
import { IssueCollector } from "../../../lib/validation/issues";
import { cloudCoreChart } from "../../../components/kubeedge-cloud/cloudcore-chart";
import { KUBEEDGE_RELEASES, KUBEEDGE_VERSIONS } from "../../../components/kubeedge-cloud/release";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { baseSpec, clusterHosts } from "./fixtures";

const k8sFor: Record<string, string> = {
  "v1.13.4": "v1.23.17+k3s1",
  "v1.20.0": "v1.30.8+k3s1",
  "v1.23.1": "v1.31.4+k3s1",
};

function crdsOf(version: (typeof KUBEEDGE_VERSIONS)[number]): any[] {
  const issues = new IssueCollector();
  const p = checkKubeEdgeCloud(
    { hosts: clusterHosts(), spec: { ...baseSpec, version, kubernetesVersion: k8sFor[version] } },
    issues,
  );
  issues.throwIfAny();
  return chartObjects(cloudCoreChart(p!)).filter((o) => o.kind === "CustomResourceDefinition");
}

/** `git hash-object` of a text: the id `git ls-tree <tag>` lists for the file. */
const gitBlob = (text: string) =>
  createHash("sha1")
    .update(`blob ${Buffer.byteLength(text)}\0`)
    .update(text)
    .digest("hex");

describe("KubeEdge CRDs (vendored from kubeedge/kubeedge manifests/charts/cloudcore/crds at each tag)", () => {
  test.each(KUBEEDGE_VERSIONS)(
    "GIVEN KubeEdge %s WHEN the vendored CRD files are hashed THEN each is byte for byte upstream's blob at that tag",
    (version) => {
      const crds = KUBEEDGE_RELEASES[version].crds;
      expect(crds.length).toBeGreaterThan(0);
      for (const c of crds) {
        expect(c.tag).toBe(version);
        expect(c.path).toMatch(/^manifests\/charts\/cloudcore\/crds\/[^/]+\.yaml$/);
        expect(gitBlob(c.yaml)).toBe(c.blob);
      }
    },
  );

  // cdk8s drops null fields: upstream's controller-gen output carries `creationTimestamp: null`, which the API server ignores
  const withoutNulls = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(withoutNulls)
      : v !== null && typeof v === "object"
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([, x]) => x !== null)
              .map(([k, x]) => [k, withoutNulls(x)]),
          )
        : v;

  test.each(KUBEEDGE_VERSIONS)(
    "GIVEN KubeEdge %s WHEN rendered THEN the CRDs are upstream's objects, unchanged",
    (v) => {
      const upstream = KUBEEDGE_RELEASES[v].crds.flatMap((c) =>
        parseAllDocuments(c.yaml)
          .map((d) => withoutNulls(d.toJSON()))
          .filter(Boolean),
      );
      expect(crdsOf(v)).toEqual(upstream);
    },
  );

  test("GIVEN KubeEdge v1.23.1 WHEN rendered THEN device and rule CRDs have no status subresource (devicecontroller patches .status on the main resource) and the others keep theirs", () => {
    const byName = new Map(crdsOf("v1.23.1").map((c) => [c.metadata.name as string, c]));
    const status = (n: string) => byName.get(n)!.spec.versions.map((v: any) => v.subresources?.status !== undefined);
    for (const n of [
      "devices.devices.kubeedge.io",
      "devicemodels.devices.kubeedge.io",
      "devicestatuses.devices.kubeedge.io",
      "rules.rules.kubeedge.io",
      "ruleendpoints.rules.kubeedge.io",
    ])
      expect(status(n).every((s: boolean) => !s)).toBe(true);
    for (const n of [
      "nodegroups.apps.kubeedge.io",
      "edgeapplications.apps.kubeedge.io",
      "objectsyncs.reliablesyncs.kubeedge.io",
      "clusterobjectsyncs.reliablesyncs.kubeedge.io",
      "serviceaccountaccesses.policy.kubeedge.io",
    ])
      expect(status(n).some((s: boolean) => s)).toBe(true);
    const devices = byName.get("devices.devices.kubeedge.io")!.spec.versions;
    expect(devices.map((v: any) => [v.name, v.served, v.storage])).toEqual([
      ["v1alpha2", true, false],
      ["v1beta1", true, true],
    ]);
  });
});
