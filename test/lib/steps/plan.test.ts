import { hostStep } from "../../../lib/steps/host-step";
import { criticalPath, deleteOrder, makePlan, planWaves } from "../../../lib/steps/plan";

const s = (host: string, name: string, dependsOn: string[] = []) =>
  hostStep({ host, name, component: "t", script: ":", dependsOn });

describe("step plans", () => {
  const steps = [
    s("b", "two", ["a/one"]),
    s("a", "one"),
    s("c", "three", ["a/one"]),
    s("b", "four", ["b/two", "c/three"]),
  ];

  test("GIVEN steps out of order THEN the plan orders dependencies first", () => {
    expect(makePlan(steps).steps.map((x) => x.id)).toEqual(["a/one", "b/two", "c/three", "b/four"]);
  });

  test("waves group steps that can run in parallel", () => {
    expect(planWaves(makePlan(steps)).map((w) => w.map((x) => x.id))).toEqual([
      ["a/one"],
      ["b/two", "c/three"],
      ["b/four"],
    ]);
  });

  test("the critical path is the longest chain by measured time", () => {
    const d = new Map([
      ["a/one", 10],
      ["b/two", 5],
      ["c/three", 30],
      ["b/four", 1],
    ]);
    expect(criticalPath(makePlan(steps), d)).toEqual({ ms: 41, ids: ["a/one", "c/three", "b/four"] });
  });

  test("delete order is the reverse", () => {
    expect(deleteOrder(makePlan(steps)).map((x) => x.id)).toEqual(["b/four", "c/three", "b/two", "a/one"]);
  });

  test("GIVEN a missing dependency, a duplicate or a cycle THEN makePlan says which", () => {
    expect(() => makePlan([s("a", "x", ["a/y"])])).toThrow('step "a/x" depends on "a/y", which is not in the plan');
    expect(() => makePlan([s("a", "x"), s("a", "x")])).toThrow(
      'step "a/x" is defined twice; step ids (host/name) must be unique',
    );
    expect(() => makePlan([s("a", "x", ["a/y"]), s("a", "y", ["a/x"])])).toThrow(
      "step dependency cycle: a/x -> a/y -> a/x",
    );
  });
});
