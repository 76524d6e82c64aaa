import * as pulumi from "@pulumi/pulumi";
import { hostStep } from "../../../lib/steps/host-step";
import { IssueCollector } from "../../../lib/validation/issues";
import { validateHosts } from "../../../lib/hosts/validate-hosts";
import { plain, recorded, setupPulumiMocks, valueOf } from "../../support/pulumi-mocks";

setupPulumiMocks();
const { hostStepCommands } =
  require("../../../lib/pulumi/host-step-commands") as typeof import("../../../lib/pulumi/host-step-commands");

const HOST_STEP_RUN = "pulumi-nodejs:dynamic/edgecloud:HostStepRun";

describe("hostStepCommands' provisioning limits and progress (Pulumi mocks)", () => {
  const issues = new IssueCollector();
  const hosts = validateHosts(
    ["h1", "h2", "h3"].map((name, i) => ({
      name,
      address: `10.0.0.${i + 1}`,
      os: "debian-12",
      arch: "amd64",
      roles: ["agent"],
      ssh: { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n" },
    })),
    issues,
  );
  const s = (host: string, name: string, dependsOn: string[] = []) =>
    hostStep({ host, name, component: "t", script: "ec_changed", dependsOn });
  // wave 1: h1/a, h2/a, h3/a; wave 2: h1/b (after h1/a), h2/b (after h2/a); wave 3: h1/c (after h1/b and h2/b)
  const steps = [
    s("h1", "a"),
    s("h2", "a"),
    s("h3", "a"),
    s("h1", "b", ["h1/a"]),
    s("h2", "b", ["h2/a"]),
    s("h1", "c", ["h1/b", "h2/b"]),
  ];
  const parent = new pulumi.ComponentResource("test:index:Parent", "p", {});

  test("GIVEN in-process with limits WHEN registered THEN every HostStepRun carries the limits and its chain length as priority, and the log has a start line and one line per wave", async () => {
    const lines: string[] = [];
    const cmds = hostStepCommands(
      { structure: steps },
      {
        parent,
        prefix: "lim",
        hosts,
        executor: "in-process",
        provisioning: { maxConcurrentSteps: 2, maxStepsPerHost: 1 },
        log: (m) => lines.push(m),
      },
    );
    await Promise.all([...cmds.values()].map((c) => valueOf(c.stdout)));
    const runs = recorded.filter((r) => r.type === HOST_STEP_RUN && r.name.startsWith("lim-"));
    expect(
      Object.fromEntries(runs.map((r) => [r.name, { limits: plain(r.inputs.limits), priority: r.inputs.priority }])),
    ).toEqual({
      "lim-h1-a": { limits: { maxConcurrentSteps: 2, maxConcurrentHosts: 2, maxStepsPerHost: 1 }, priority: 2 },
      "lim-h2-a": { limits: { maxConcurrentSteps: 2, maxConcurrentHosts: 2, maxStepsPerHost: 1 }, priority: 2 },
      "lim-h3-a": { limits: { maxConcurrentSteps: 2, maxConcurrentHosts: 2, maxStepsPerHost: 1 }, priority: 0 },
      "lim-h1-b": { limits: { maxConcurrentSteps: 2, maxConcurrentHosts: 2, maxStepsPerHost: 1 }, priority: 1 },
      "lim-h2-b": { limits: { maxConcurrentSteps: 2, maxConcurrentHosts: 2, maxStepsPerHost: 1 }, priority: 1 },
      "lim-h1-c": { limits: { maxConcurrentSteps: 2, maxConcurrentHosts: 2, maxStepsPerHost: 1 }, priority: 0 },
    });
    expect(lines[0]).toBe("lim: 6 host steps in 3 waves on 3 hosts; at most 2 at once, 1 per host, 2 hosts at once");
    expect(lines.slice(1).map((l) => l.replace(/ \(\+[\d.]+ s\)$/, ""))).toEqual([
      "lim: wave 1/3 done: 3 steps on 3 hosts; 3 of 6 steps done",
      "lim: wave 2/3 done: 2 steps on 2 hosts; 5 of 6 steps done",
      "lim: wave 3/3 done: 1 step on 1 host; 6 of 6 steps done",
    ]);
    expect(lines.slice(1).every((l) => / \(\+[\d.]+ s\)$/.test(l))).toBe(true);
  });

  test("GIVEN the command executor WHEN registered THEN the start line says the engine's --parallel bounds it", async () => {
    const lines: string[] = [];
    const cmds = hostStepCommands({ structure: steps }, { parent, prefix: "cmd", hosts, log: (m) => lines.push(m) });
    await Promise.all([...cmds.values()].map((c) => valueOf(c.stdout)));
    expect(lines[0]).toBe("cmd: 6 host steps in 3 waves on 3 hosts; as many at once as `pulumi up --parallel` allows");
    expect(lines).toHaveLength(4);
  });

  test("GIVEN invalid limits WHEN registered THEN a ValidationError names the field, and nothing is registered", () => {
    const before = recorded.length;
    expect(() =>
      hostStepCommands(
        { structure: steps },
        { parent, prefix: "bad", hosts, executor: "in-process", provisioning: { maxStepsPerHost: 0 } },
      ),
    ).toThrow("provisioning.maxStepsPerHost 0 must be >= 1");
    expect(recorded.slice(before).filter((r) => r.name.startsWith("bad-"))).toEqual([]);
  });

  test("GIVEN per-host-chain WHEN registered THEN a host's steps that only wait on each other are one HostStepRun, every step id names it, and a dependent waits on the chain", async () => {
    const lines: string[] = [];
    const cmds = hostStepCommands(
      { structure: steps },
      {
        parent,
        prefix: "chn",
        hosts,
        executor: "in-process",
        provisioning: { stepResources: "per-host-chain" },
        log: (m) => lines.push(m),
      },
    );
    await Promise.all([...cmds.values()].map((c) => valueOf(c.stdout)));
    const runs = recorded.filter((r) => r.type === HOST_STEP_RUN && r.name.startsWith("chn-"));
    // h1/a and h1/b each have one dependent, the next step of h1: one chain; h1/c waits on h1/b and h2/b, so it
    // joins h1's chain and hoists h2's (which must come first); h3/a is alone
    expect(runs.map((r) => r.name).sort()).toEqual(["chn-h1-a--c", "chn-h2-a--b", "chn-h3-a"]);
    expect(cmds.get("h1/a")).toBe(cmds.get("h1/c"));
    expect(cmds.get("h2/a")).toBe(cmds.get("h2/b"));
    const bundle = String(plain(runs.find((r) => r.name === "chn-h1-a--c")!.inputs.bundle));
    expect(bundle).toContain("# edgecloud chain step h1: a b c (t)");
    // the progress still counts steps
    expect(lines[0]).toBe("chn: 6 host steps in 3 waves on 3 hosts; at most 32 at once, 4 per host, 32 hosts at once");
  });

  test("GIVEN an unknown stepResources WHEN registered THEN a ValidationError lists what is allowed", () => {
    expect(() =>
      hostStepCommands(
        { structure: steps },
        { parent, prefix: "bad2", hosts, provisioning: { stepResources: "per-host" as never } },
      ),
    ).toThrow(/provisioning\.stepResources.*per-step.*per-host-chain/);
  });
});
