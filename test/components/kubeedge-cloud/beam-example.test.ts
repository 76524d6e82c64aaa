import { assertValidObjects } from "../../../lib/manifests/validate";
import { objectsToYaml } from "../../../lib/manifests/chart";
import { beamAnalyticsObjects } from "../../../examples/beam-mqtt-analytics/beam-analytics";

describe("examples/beam-mqtt-analytics", () => {
  test("GIVEN the demo WHEN rendered THEN a strictly valid DaemonSet on amd64 edge nodes with host networking (broker on localhost:1883)", () => {
    const objects = beamAnalyticsObjects();
    expect(() => assertValidObjects(objects)).not.toThrow();
    const ds = objects.find((o) => o.kind === "DaemonSet") as any;
    expect(ds.spec.template.spec.nodeSelector).toEqual({
      "node-role.kubernetes.io/edge": "",
      "kubernetes.io/arch": "amd64",
    });
    expect(ds.spec.template.spec.hostNetwork).toBe(true);
    expect(objectsToYaml(objects)).toMatchSnapshot();
  });
});
