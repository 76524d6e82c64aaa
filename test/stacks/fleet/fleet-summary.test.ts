import {
  FleetEngineEvent,
  firstErrorLine,
  fleetSummary,
  redact,
  renderFleetSummary,
  siteOutcome,
} from "../../../stacks/fleet/fleet-summary";
import { bounded } from "../../../stacks/fleet/run-fleet";

// Engine events as the Automation API hands them over (the shapes seen from the real CLI v3.259.0 previewing
// multi-site-shanghai: a prelude, one resourcePreEvent per step, diagnostics, one summaryEvent)
const pre = (op: string): FleetEngineEvent => ({ resourcePreEvent: { metadata: { op } } });
const diag = (severity: string, message: string): FleetEngineEvent => ({ diagnosticEvent: { severity, message } });
const summaryOf = (resourceChanges: Record<string, number>): FleetEngineEvent => ({
  summaryEvent: { resourceChanges },
});

describe("siteOutcome", () => {
  test("GIVEN a preview's events THEN the counts are the engine's summary event", () => {
    const o = siteOutcome({
      site: "multi-site-shanghai",
      operation: "preview",
      events: [pre("create"), pre("create"), diag("warning", "Undefined value"), summaryOf({ create: 23 })],
      durationMs: 27_800,
    });
    expect(o).toEqual({
      site: "multi-site-shanghai",
      operation: "preview",
      result: "ok",
      changes: { create: 23 },
      durationMs: 27_800,
    });
  });

  test("GIVEN an update's summary with zero counts THEN only the ops that happened are kept", () => {
    const o = siteOutcome({
      site: "s",
      operation: "up",
      events: [summaryOf({ create: 0, update: 2, same: 21, delete: 0 })],
      durationMs: 1,
    });
    expect(o.changes).toEqual({ update: 2, same: 21 });
  });

  test("GIVEN an engine that stopped before its summary THEN the resource steps are counted by op", () => {
    const o = siteOutcome({
      site: "s",
      operation: "up",
      events: [pre("same"), pre("create"), pre("create"), pre("update")],
      durationMs: 1,
      failure: new Error("boom"),
    });
    expect(o.changes).toEqual({ same: 1, create: 2, update: 1 });
    expect(o.result).toBe("failed");
  });

  test("GIVEN a program's unhandled exception THEN the error is the first line saying what went wrong", () => {
    const o = siteOutcome({
      site: "multi-site-shanghai",
      operation: "preview",
      events: [
        diag("debug", "Registering resource"),
        diag(
          "error",
          "Running program '/work/main/stacks/index.ts' failed with an unhandled exception:\n<ref *1> Error: environment \"multi-site-shanghai\": rancher.manifestUrl is not set\n    at /work/main/stacks/rancher-descriptor.ts:49:19\n",
        ),
        summaryOf({ create: 22 }),
      ],
      durationMs: 52_000,
      failure: new Error("Command failed with exit code 255: pulumi preview --stack multi-site-shanghai"),
    });
    expect(o.error).toBe('Error: environment "multi-site-shanghai": rancher.manifestUrl is not set');
    expect(o.changes).toEqual({ create: 22 });
  });

  test("GIVEN no error diagnostic THEN the command's first `error:` line, else its first line", () => {
    const cmd = new Error(
      "Command failed with exit code 255: pulumi stack select --stack site-07\n\nerror: no stack named 'site-07' found\n",
    );
    expect(firstErrorLine([], cmd)).toBe("no stack named 'site-07' found");
    expect(firstErrorLine([], new Error("\n  spawn pulumi ENOENT\nmore"))).toBe("spawn pulumi ENOENT");
    expect(firstErrorLine([diag("error", "\n\n")], "plain")).toBe("plain");
  });

  test("GIVEN the site's secret values in the error THEN they are printed as [secret], a key's lines too", () => {
    const url = "https://rancher.example.com/v3/import/tok-abc_c-1.yaml";
    const key =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUA\n-----END OPENSSH PRIVATE KEY-----\n";
    const o = siteOutcome({
      site: "s",
      operation: "up",
      events: [diag("error", `curl ${url} failed; key line b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA refused`)],
      durationMs: 1,
      failure: new Error("x"),
      secrets: [url, key],
    });
    expect(o.error).toBe("curl [secret] failed; key line [secret] refused");
    expect(redact("a short one: abc", ["abc"])).toBe("a short one: abc");
  });
});

describe("fleetSummary", () => {
  const sites = [
    siteOutcome({
      site: "multi-site-beijing",
      operation: "preview",
      events: [summaryOf({ create: 23 })],
      durationMs: 30_000,
    }),
    siteOutcome({
      site: "single-node",
      operation: "preview",
      events: [
        pre("create"),
        diag("error", "Missing required configuration variable 'edgecloud:registry-dev-password'"),
      ],
      durationMs: 20_000,
      failure: new Error("exit 255"),
    }),
    siteOutcome({
      site: "site-01",
      operation: "preview",
      events: [summaryOf({ create: 20, same: 3, replace: 1, read: 2 })],
      durationMs: 25_000,
    }),
  ];

  test("GIVEN three sites THEN totals add up their counts and the speed-up is the sum over the wall time", () => {
    const s = fleetSummary("preview", 3, sites, 30_000);
    expect(s).toMatchObject({
      operation: "preview",
      parallel: 3,
      ok: 2,
      failed: 1,
      changes: { create: 44, same: 3, replace: 1, read: 2 },
      wallMs: 30_000,
      sumMs: 75_000,
      speedup: 2.5,
    });
    expect(s.sites).toBe(sites);
  });

  test("GIVEN a summary THEN it prints a row per site, the totals and the speed-up", () => {
    const text = renderFleetSummary(fleetSummary("preview", 3, sites, 30_000));
    expect(text.split("\n")).toEqual([
      "fleet preview: 3 sites, parallel 3",
      "",
      "  site                operation  result  create  update  replace  delete  same  other  duration  error",
      "  ------------------  ---------  ------  ------  ------  -------  ------  ----  -----  --------  -------------------------------------------------------------------------",
      "  multi-site-beijing  preview    ok          23       0        0       0     0      0    30.0 s",
      "  single-node         preview    failed       1       0        0       0     0      0    20.0 s  Missing required configuration variable 'edgecloud:registry-dev-password'",
      "  site-01             preview    ok          20       0        1       0     3      2    25.0 s",
      "",
      "  2 ok, 1 failed; resources: 44 create, 0 update, 1 replace, 0 delete, 3 same, 2 other",
      "  wall 30.0 s, sites added up 75.0 s: 2.50× (sites running on average; at most 3)",
    ]);
  });

  test("GIVEN no site took time THEN the speed-up is 0, not a division by zero", () => {
    expect(fleetSummary("destroy", 1, [], 0).speedup).toBe(0);
  });
});

describe("bounded", () => {
  test("GIVEN 7 items and a limit of 3 THEN never more than 3 run at once, results in input order", async () => {
    let running = 0;
    let peak = 0;
    const out = await bounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5 * (8 - n)));
      running--;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(peak).toBe(3);
  });

  test("GIVEN a limit above the item count THEN every item starts at once", async () => {
    let peak = 0;
    let running = 0;
    await bounded([1, 2], 32, async () => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    });
    expect(peak).toBe(2);
  });
});
