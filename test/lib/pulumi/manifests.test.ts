import * as pulumi from "@pulumi/pulumi";
import { recorded, settle, setupPulumiMocks } from "../../support/pulumi-mocks";

setupPulumiMocks();
const { applyObjects, validObjects } =
  require("../../../lib/pulumi/manifests") as typeof import("../../../lib/pulumi/manifests");

class Parent extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:Parent", name, {}, {});
  }
}

const configMap = (extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "settings", namespace: "apps" },
  data: { mode: "edge" },
  ...extra,
});

describe("applyObjects: every component's manifests on the Pulumi path", () => {
  test("GIVEN valid objects THEN one ConfigGroup holds them", async () => {
    const parent = new Parent("ok");
    applyObjects("ok-objects", [configMap()], {
      parent,
      provider: undefined as never,
    });
    await settle();
    expect(recorded.filter((r) => r.name === "ok-objects").map((r) => r.type)).toEqual([
      "kubernetes:yaml/v2:ConfigGroup",
    ]);
  });

  test("GIVEN an object with a field its schema does not have THEN it is refused strictly, before any resource", async () => {
    const parent = new Parent("bad");
    expect(() =>
      applyObjects("bad-objects", [configMap({ spec: { replicas: 2 } })], { parent, provider: undefined as never }),
    ).toThrow(/invalid Kubernetes objects[\s\S]*ConfigMap/);
    await settle();
    expect(recorded.some((r) => r.name === "bad-objects")).toBe(false);
  });

  test("GIVEN validObjects (what a component calls before its resource exists) THEN it refuses the same object, and returns valid ones unchanged", () => {
    expect(() => validObjects([configMap({ spec: { replicas: 2 } })] as never)).toThrow(/invalid Kubernetes objects/);
    const ok = [configMap()] as never[];
    expect(validObjects(ok)).toBe(ok);
  });
});
