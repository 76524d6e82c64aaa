import { hostStep } from "../../../lib/steps/host-step";
import {
  parseProvisioningLimits,
  provisioningLimits,
  stepPriorities,
  WaveProgress,
} from "../../../lib/steps/provisioning";
import { createStepLimiter, StepLimits } from "../../../lib/steps/step-limiter";
import { IssueCollector } from "../../../lib/validation/issues";

const limits = (l: Partial<StepLimits>): StepLimits => ({
  maxConcurrentSteps: 100,
  maxConcurrentHosts: 100,
  maxStepsPerHost: 100,
  ...l,
});

/** Requests a slot per entry; returns which were granted after the microtasks ran, and their release functions. */
async function request(
  limiter: ReturnType<typeof createStepLimiter>,
  entries: readonly { host: string; limits: StepLimits; priority?: number; label: string }[],
) {
  const granted: string[] = [];
  const release = new Map<string, () => void>();
  for (const e of entries)
    void limiter.acquire(e.host, e.limits, e.priority).then((r) => {
      granted.push(e.label);
      release.set(e.label, r);
    });
  await flush();
  return { granted, release };
}
const flush = () => new Promise<void>((r) => setImmediate(r));

describe("createStepLimiter", () => {
  test("GIVEN maxConcurrentSteps 2 WHEN 5 steps on 5 hosts ask THEN 2 start; each release starts the next, oldest first", async () => {
    const l = createStepLimiter();
    const lim = limits({ maxConcurrentSteps: 2 });
    const { granted, release } = await request(
      l,
      ["a", "b", "c", "d", "e"].map((h) => ({ host: h, limits: lim, label: h })),
    );
    expect(granted).toEqual(["a", "b"]);
    release.get("a")!();
    release.get("a")!(); // twice releases once
    await flush();
    expect(granted).toEqual(["a", "b", "c"]);
    expect(l.stats()).toMatchObject({ running: 2, waiting: 2, maxRunning: 2 });
    for (const h of ["b", "c"]) release.get(h)!();
    await flush();
    for (const h of ["d", "e"]) release.get(h)!();
    await flush();
    expect(granted).toEqual(["a", "b", "c", "d", "e"]);
    expect(l.stats()).toEqual({
      running: 0,
      activeHosts: 0,
      waiting: 0,
      maxRunning: 2,
      maxActiveHosts: 2,
      maxPerHost: 1,
    });
  });

  test("GIVEN maxStepsPerHost 1 WHEN two steps of one host and one of another ask THEN the busy host does not hold up the other", async () => {
    const l = createStepLimiter();
    const lim = limits({ maxStepsPerHost: 1 });
    const { granted, release } = await request(l, [
      { host: "h1", limits: lim, label: "h1-a" },
      { host: "h1", limits: lim, label: "h1-b" },
      { host: "h2", limits: lim, label: "h2-a" },
    ]);
    expect(granted).toEqual(["h1-a", "h2-a"]);
    release.get("h1-a")!();
    await flush();
    expect(granted).toEqual(["h1-a", "h2-a", "h1-b"]);
    expect(l.stats().maxPerHost).toBe(1);
  });

  test("GIVEN maxConcurrentHosts 2 WHEN steps on 3 hosts ask THEN a third host waits while a started host may run more", async () => {
    const l = createStepLimiter();
    const lim = limits({ maxConcurrentHosts: 2 });
    const { granted, release } = await request(l, [
      { host: "h1", limits: lim, label: "h1-a" },
      { host: "h2", limits: lim, label: "h2-a" },
      { host: "h3", limits: lim, label: "h3-a" },
      { host: "h1", limits: lim, label: "h1-b" },
    ]);
    expect(granted).toEqual(["h1-a", "h2-a", "h1-b"]);
    release.get("h2-a")!();
    await flush();
    expect(granted).toEqual(["h1-a", "h2-a", "h1-b", "h3-a"]);
    expect(l.stats().maxActiveHosts).toBe(2);
  });

  test("GIVEN steps waiting WHEN a slot frees THEN the highest priority starts first, then the oldest", async () => {
    const l = createStepLimiter();
    const lim = limits({ maxConcurrentSteps: 1 });
    const { granted, release } = await request(l, [
      { host: "h0", limits: lim, priority: 0, label: "running" },
      { host: "h1", limits: lim, priority: 1, label: "p1-old" },
      { host: "h2", limits: lim, priority: 5, label: "p5" },
      { host: "h3", limits: lim, priority: 1, label: "p1-new" },
    ]);
    expect(granted).toEqual(["running"]);
    for (const next of ["running", "p5", "p1-old"]) {
      release.get(next)!();
      await flush();
    }
    expect(granted).toEqual(["running", "p5", "p1-old", "p1-new"]);
  });

  test("GIVEN requests with different limits WHEN they share the limiter THEN each waits only on its own bounds", async () => {
    const l = createStepLimiter();
    const { granted } = await request(l, [
      { host: "h1", limits: limits({ maxConcurrentSteps: 3 }), label: "a" },
      { host: "h2", limits: limits({ maxConcurrentSteps: 3 }), label: "b" },
      { host: "h3", limits: limits({ maxConcurrentSteps: 2 }), label: "tight" },
      { host: "h4", limits: limits({ maxConcurrentSteps: 3 }), label: "c" },
    ]);
    expect(granted).toEqual(["a", "b", "c"]);
  });
});

describe("provisioning limits", () => {
  test("GIVEN nothing THEN 32 steps at once, 4 per host, as many hosts as steps", () => {
    expect(provisioningLimits(undefined)).toEqual({
      maxConcurrentSteps: 32,
      maxConcurrentHosts: 32,
      maxStepsPerHost: 4,
    });
    expect(provisioningLimits({ maxConcurrentSteps: 2 })).toEqual({
      maxConcurrentSteps: 2,
      maxConcurrentHosts: 2,
      maxStepsPerHost: 2,
    });
  });

  test("GIVEN invalid limits THEN every problem is named with its path, value and what is allowed", () => {
    const issues = new IssueCollector();
    expect(
      parseProvisioningLimits({ maxConcurrentSteps: 0, maxStepsPerHost: 1.5, maxConcurrentHost: 3 }, issues),
    ).toBeUndefined();
    expect(issues.issues.map((i) => `${i.path} ${JSON.stringify(i.value)} ${i.message}`).sort()).toEqual([
      'provisioning undefined unknown field "maxConcurrentHost"',
      "provisioning.maxConcurrentSteps 0 must be >= 1",
      "provisioning.maxStepsPerHost 1.5 must be a whole number",
    ]);
    expect(() => provisioningLimits({ maxConcurrentHosts: 64 })).toThrow(
      "provisioning.maxConcurrentHosts 64 is more than maxConcurrentSteps (32, the default): no more than 32 steps run at once; raise maxConcurrentSteps or lower maxConcurrentHosts",
    );
    expect(() => provisioningLimits({ maxConcurrentSteps: 100_000 })).toThrow(
      "provisioning.maxConcurrentSteps 100000 must be <= 4096",
    );
  });
});

describe("stepPriorities and WaveProgress", () => {
  const s = (host: string, name: string, dependsOn: string[] = []) =>
    hostStep({ host, name, component: "t", script: "true", dependsOn });
  // a → b → c on h1; x on h2 (alone); y on h2 after a
  const steps = [s("h1", "a"), s("h1", "b", ["h1/a"]), s("h1", "c", ["h1/b"]), s("h2", "x"), s("h2", "y", ["h1/a"])];

  test("GIVEN a chain and side steps THEN a step's priority is the length of the longest chain waiting on it", () => {
    expect(Object.fromEntries(stepPriorities(steps))).toEqual({
      "h1/a": 2,
      "h1/b": 1,
      "h1/c": 0,
      "h2/x": 0,
      "h2/y": 0,
    });
  });

  test("GIVEN the steps finishing THEN one summary per wave, when its last step finishes, names and counts only", () => {
    const p = new WaveProgress(steps);
    expect(p.waves).toBe(3);
    expect(p.finished("h2/x", 0)).toBeUndefined();
    expect(p.finished("h1/a", 3)).toBe("wave 1/3 done: 2 steps on 2 hosts, 1 changed; 2 of 5 steps done");
    expect(p.finished("h1/b")).toBeUndefined();
    expect(p.finished("h2/y")).toBe("wave 2/3 done: 2 steps on 2 hosts; 4 of 5 steps done");
    expect(p.finished("h1/c", 0)).toBe("wave 3/3 done: 1 step on 1 host, 0 changed; 5 of 5 steps done");
    expect(p.finished("other/step")).toBeUndefined();
  });
});
