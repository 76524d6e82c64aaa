import { spawnSync } from "child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { parseChanged, renderDeleteBundle, renderStepBundle } from "../../../lib/steps/bundle";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { makePlan } from "../../../lib/steps/plan";
import {
  CHAIN_STEP_MARKER,
  chainName,
  groupStepChains,
  renderChainBundle,
  renderChainDeleteBundle,
} from "../../../lib/steps/step-chains";
import { shellcheck } from "../../support/shellcheck";

function run(program: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("bash", ["-s"], { input: program, encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const s = (host: string, name: string, dependsOn: string[] = [], script = ":") =>
  hostStep({ host, name, component: "test", script, dependsOn });
const ids = (chains: ReturnType<typeof groupStepChains>) => chains.map((c) => c.members.map((m) => m.id));
/** The plan order `hostStepCommands` passes (over the dependencies among these steps). */
const planned = (steps: HostStep[]) => {
  const byId = new Map(steps.map((x) => [x.id, x]));
  const inside = makePlan(steps.map((x) => ({ ...x, dependsOn: x.dependsOn.filter((d) => byId.has(d)) })));
  return inside.steps.map((p) => byId.get(p.id)!);
};

describe("groupStepChains", () => {
  test("GIVEN per-step THEN every step is its own chain with its own dependencies", () => {
    const steps = planned([s("a", "one"), s("a", "two", ["a/one"])]);
    const chains = groupStepChains(steps, "per-step");
    expect(ids(chains)).toEqual([["a/one"], ["a/two"]]);
    expect(chains[1]!.dependsOn).toEqual(["a/one"]);
    expect(chains.map(chainName)).toEqual(["one", "two"]);
  });

  test("GIVEN agents that wait on a server THEN each agent's steps are one chain that waits on the server's", () => {
    const steps = planned([
      s("srv", "install"),
      s("srv", "start", ["srv/install"]),
      ...["ag1", "ag2"].flatMap((h) => [
        s(h, "prereqs", ["outside/preflight"]),
        s(h, "install", [`${h}/prereqs`]),
        s(h, "start", [`${h}/install`, "srv/start"]),
      ]),
    ]);
    const chains = groupStepChains(steps, "per-host-chain");
    expect(ids(chains)).toEqual([
      ["srv/install", "srv/start"],
      ["ag1/prereqs", "ag1/install", "ag1/start"],
      ["ag2/prereqs", "ag2/install", "ag2/start"],
    ]);
    // the dependency of a later member is hoisted to the chain (a step made elsewhere is hoisted freely)
    expect(chains[1]!.dependsOn).toEqual(["outside/preflight", "srv/start"]);
    expect(chainName(chains[1]!)).toBe("prereqs--start");
  });

  test("GIVEN a step something else waits on THEN the chain ends there (a dependent waits for exactly that step)", () => {
    const steps = planned([
      s("a", "one"),
      s("a", "two", ["a/one"]),
      s("b", "x", ["a/one"]),
      s("a", "three", ["a/two"]),
    ]);
    expect(ids(groupStepChains(steps, "per-host-chain"))).toEqual([["a/one"], ["a/two", "a/three"], ["b/x"]]);
  });

  test("GIVEN a dependency that itself waits on the chain's last step THEN it is not hoisted (no cycle): a new chain starts", () => {
    // b/x waits on a/one; a/two waits on a/one and b/x: hoisting b/x into a/one's chain would make it wait on itself
    const steps = planned([s("a", "one"), s("b", "x", ["a/one"]), s("a", "two", ["a/one", "b/x"])]);
    const chains = groupStepChains(steps, "per-host-chain");
    expect(ids(chains)).toEqual([["a/one"], ["b/x"], ["a/two"]]);
  });

  test("GIVEN a step with no dependency on the last one THEN it starts its own chain", () => {
    const steps = planned([s("a", "one"), s("a", "two")]);
    expect(ids(groupStepChains(steps, "per-host-chain"))).toEqual([["a/one"], ["a/two"]]);
  });

  test("GIVEN a later member that waits on a chain opened after its own THEN the chains come in dependency order", () => {
    // a's chain opens first, then b's; a/two joins a's chain and waits on b/y, so b's chain must come first
    const steps = [s("a", "one"), s("b", "y"), s("a", "two", ["a/one", "b/y"])];
    const chains = groupStepChains(steps, "per-host-chain");
    expect(ids(chains)).toEqual([["b/y"], ["a/one", "a/two"]]);
  });
});

describe("chain bundles", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "ec-chain-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const owner = `${process.getuid?.() === 0 ? "root:root" : `${process.getuid?.()}:${process.getgid?.()}`}`;
  const fileStep = (name: string, dependsOn: string[] = [], extra = "") =>
    hostStep({
      host: "h1",
      name,
      component: "test",
      files: [{ path: join(dir, `${name}.conf`), mode: "0644", owner, content: `${name}\n`, secret: false }],
      script: `echo ${name} >> ${join(dir, "order")}${extra}`,
      deleteScript: `ec_rm ${join(dir, `${name}.conf`)}\necho ${name} >> ${join(dir, "deleted")}`,
      dependsOn,
    });

  test("GIVEN one member THEN its bundles are the step's own", () => {
    const one = fileStep("one");
    expect(renderChainBundle([one])).toBe(renderStepBundle(one));
    expect(renderChainDeleteBundle([one])).toBe(renderDeleteBundle(one));
  });

  test("GIVEN a chain WHEN run twice THEN its members run in order, the counts add up, and the second run changes nothing", () => {
    const members = [fileStep("one"), fileStep("two", ["h1/one"]), fileStep("three", ["h1/two"])];
    const first = run(renderChainBundle(members));
    expect(first.code).toBe(0);
    expect(parseChanged(first.stdout)).toBe(3);
    expect(readFileSync(join(dir, "order"), "utf8")).toBe("one\ntwo\nthree\n");
    expect(first.stdout.split("\n").filter((l) => l.startsWith(CHAIN_STEP_MARKER))).toEqual([
      `${CHAIN_STEP_MARKER}h1/one`,
      `${CHAIN_STEP_MARKER}h1/two`,
      `${CHAIN_STEP_MARKER}h1/three`,
    ]);
    const second = run(renderChainBundle(members));
    expect(parseChanged(second.stdout)).toBe(0);
  });

  test("GIVEN a member that fails THEN the chain stops there with its exit code and names it", () => {
    const members = [fileStep("one"), fileStep("two", ["h1/one"], "\nexit 7"), fileStep("three", ["h1/two"])];
    const r = run(renderChainBundle(members));
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("edgecloud: chain: h1/two failed (exit 7)");
    expect(readFileSync(join(dir, "order"), "utf8")).toBe("one\ntwo\n");
    expect(existsSync(join(dir, "three.conf"))).toBe(false);
  });

  test("GIVEN the chain's delete WHEN run twice THEN the members' deletes run in reverse, once", () => {
    const members = [fileStep("one"), fileStep("two", ["h1/one"])];
    run(renderChainBundle(members));
    const del = run(renderChainDeleteBundle(members));
    expect(del.code).toBe(0);
    expect(parseChanged(del.stdout)).toBe(2);
    expect(readFileSync(join(dir, "deleted"), "utf8")).toBe("two\none\n");
    expect(parseChanged(run(renderChainDeleteBundle(members)).stdout)).toBe(0);
  });

  test("GIVEN a chain THEN it carries the prelude once and is no larger than its members' bundles", () => {
    const members = [fileStep("one"), fileStep("two", ["h1/one"]), fileStep("three", ["h1/two"])];
    const chain = renderChainBundle(members);
    expect(chain.split("ec_put() {").length - 1).toBe(1);
    expect(chain.length).toBeLessThan(members.map((m) => renderStepBundle(m).length).reduce((a, b) => a + b, 0));
  });

  test("GIVEN a member whose program holds the chain's delimiter line THEN rendering refuses", () => {
    const bad = hostStep({ host: "h1", name: "bad", component: "test", script: "echo x\nEC_CHAIN_STEP_1_EOF" });
    expect(() => renderChainBundle([fileStep("one"), bad])).toThrow(/contains the line EC_CHAIN_STEP_1_EOF/);
  });

  test("THEN ShellCheck passes the chain programs", () => {
    const members = [fileStep("one"), fileStep("two", ["h1/one"])];
    expect(shellcheck(renderChainBundle(members))).toBe("");
    expect(shellcheck(renderChainDeleteBundle(members))).toBe("");
  });
});
