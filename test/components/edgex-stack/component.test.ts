import * as pulumi from "@pulumi/pulumi";
import { recorded, settle, setupPulumiMocks, valueOf } from "../../support/pulumi-mocks";

setupPulumiMocks();
const { EdgeXStack, edgeArches } =
  require("../../../components/edgex-stack/edgex-stack") as typeof import("../../../components/edgex-stack/edgex-stack");

describe("EdgeXStack (Pulumi mocks)", () => {
  const stack = new EdgeXStack("edgex", {
    spec: { release: "napa-3.1", arches: ["amd64", "arm64"] },
    kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n"),
  });

  test("GIVEN a spec THEN one provider and one ConfigGroup with the chart's objects are registered under the component", async () => {
    await valueOf(stack.workloads);
    await settle();
    const mine = recorded.filter((r) => r.name.startsWith("edgex"));
    expect(mine.map((r) => `${r.type} ${r.name}`)).toEqual(
      expect.arrayContaining([
        "edgecloud:edge:EdgeXStack edgex",
        "pulumi:providers:kubernetes edgex-provider",
        "kubernetes:yaml/v2:ConfigGroup edgex-edgex",
      ]),
    );
    const group = recorded.find((r) => r.name === "edgex-edgex")!;
    const kinds = (group.inputs.objs as { kind: string }[]).map((o) => o.kind);
    expect(kinds.filter((k) => k === "DaemonSet")).toHaveLength(2);
    expect(kinds).toContain("NetworkPolicy");
  });

  test("GIVEN the outputs THEN namespace, entry points and workloads are reported", async () => {
    expect(await valueOf(stack.namespace)).toBe("edgex");
    // with security nothing is reachable from outside: no gateway is rendered (edgex-helm v3.1.0 ships none)
    expect(await valueOf(stack.entryPoints)).toEqual([]);
    expect(await valueOf(stack.workloads)).toEqual(["edgex-amd64", "edgex-arm64"]);
  });

  test("GIVEN hosts WHEN edge arches are derived THEN only edge hosts count", () => {
    const h = (name: string, arch: string, roles: string[]) => ({ name, arch, roles }) as never;
    expect(edgeArches([h("a", "amd64", ["server"]), h("b", "arm64", ["edge"]), h("c", "arm64", ["edge"])])).toEqual([
      "arm64",
    ]);
  });

  test("GIVEN an invalid spec THEN it throws before registering any resource", () => {
    const before = recorded.length;
    expect(
      () =>
        new EdgeXStack("bad", { spec: { release: "hanoi-1.3", security: false, arches: ["arm"] }, kubeconfig: "x" }),
    ).toThrow(
      'EdgeXStack "bad": 1 problem\n  - edgex.arches[0] "arm" is not published by EdgeX hanoi-1.3; allowed: amd64, arm64',
    );
    expect(recorded.length).toBe(before);
  });
});
