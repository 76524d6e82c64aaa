import { spawnSync } from "child_process";
import { readFileSync } from "fs";
import { join } from "path";
import { runCli } from "../../bin/cli";
import { FLEET_EXIT } from "../../bin/fleet-command";
import { FleetSummary, renderFleetSummary } from "../../stacks/fleet/fleet-summary";
import { FleetFixture, fleetFixture } from "./fleet-fixture";

/**
 * `edgecloud fleet` through the real Pulumi CLI (the Automation API over the project's Pulumi.yaml, a throw-away local
 * backend): many sites previewed in parallel, each its own stack. Only sites whose programs need no provider plugin
 * can be previewed here (K3s + the Rancher import: the multi-site environments); nothing is dialed by a preview.
 */
const timings: string[] = [];
const log = (m: string) => timings.push(m);

describe("edgecloud fleet through the real engine", () => {
  let f: FleetFixture;
  let generated: string;

  beforeAll(async () => {
    f = await fleetFixture();
    generated = f.generateSites(6);
    f.rancherUrls(["multi-site-beijing", "multi-site-shanghai", "single-node"]);
  }, 300_000);

  afterAll(async () => {
    await f?.remove();
    console.log(`engine timings (fleet):\n  ${timings.join("\n  ")}`);
  }, 300_000);

  const fleet = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const t0 = Date.now();
    const code = await runCli(["fleet", ...argv, "--work-dir", f.workDir], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      fleet: { defaults: { envVars: f.envVars, pulumiRoot: f.pulumiRoot } },
    });
    return { code, out: out.join("\n"), err: err.join("\n"), ms: Date.now() - t0 };
  };
  const pulumi = (...args: string[]) =>
    spawnSync(join(f.tools.binDir, "pulumi"), [...args, "--non-interactive"], {
      cwd: f.workDir,
      env: f.envVars,
      encoding: "utf8",
    });
  const stacks = () =>
    (JSON.parse(pulumi("stack", "ls", "--json").stdout) as { name: string }[]).map((s) => s.name).sort();
  const secretsFlags = () => [
    "--config",
    "edgecloud:executor=in-process",
    "--secret-file",
    `edgecloud:sshPrivateKey=${f.keyFile}`,
    "--secret-file",
    `edgecloud:rancherManifestUrl=${f.rancherUrlTemplate}`,
  ];
  /** Every secret value the fleet set: none may be printed. */
  const secretValues = () => [
    ...readFileSync(f.keyFile, "utf8")
      .split("\n")
      .filter((l) => l.length >= 8 && !l.startsWith("-----")),
    ...["multi-site-beijing", "multi-site-shanghai", "single-node", "site-01", "site-06"].map((s) =>
      readFileSync(f.rancherUrlTemplate.replace("{site}", s), "utf8").trim(),
    ),
  ];

  test("GIVEN an unknown site and a bad --parallel THEN exit 1 naming both, and no stack is created", async () => {
    const r = await fleet("preview", "--sites", `multi-site-beijing,multi-site-paris,${generated}`, "--parallel", "99");
    expect(r.code).toBe(FLEET_EXIT.invalid);
    expect(r.err).toContain('--sites "multi-site-paris" is not a bundled environment; bundled: default, edge-cloud');
    expect(r.err).toContain('--parallel "99" must be a whole number from 1 to 32');
    expect(stacks()).toEqual(["fleet-project"]);
  }, 120_000);

  test("GIVEN the two multi-site environments, single-node (a secret it needs is not set) and 6 generated sites WHEN fleet preview --parallel 3 THEN the 8 multi-site stacks plan 23 creates each, single-node fails naming the missing config, exit 4, at most 3 at once, no secret printed", async () => {
    const r = await fleet(
      "preview",
      "--sites",
      `multi-site-*,single-node,${generated}`,
      "--parallel",
      "3",
      ...secretsFlags(),
      "--json",
    );
    const summary = JSON.parse(r.out) as FleetSummary;
    log(`fleet preview, 9 sites, parallel 3: ${r.ms} ms\n${renderFleetSummary(summary)}`);
    expect(r.code).toBe(FLEET_EXIT.sitesFailed);
    const multi = ["multi-site-beijing", "multi-site-shanghai", ...[1, 2, 3, 4, 5, 6].map((i) => `site-0${i}`)];
    expect(summary.sites.map((s) => s.site)).toEqual([multi[0], multi[1], "single-node", ...multi.slice(2)]);
    for (const s of summary.sites.filter((x) => x.site !== "single-node"))
      expect([s.site, s.result, s.changes]).toEqual([s.site, "ok", { create: 23 }]);
    const single = summary.sites.find((s) => s.site === "single-node")!;
    expect(single.result).toBe("failed");
    expect(single.error).toMatch(/^Missing required configuration variable 'edgecloud:registry-\w+-password'/);
    expect([summary.ok, summary.failed, summary.changes.create! >= 8 * 23]).toEqual([8, 1, true]);
    expect(summary.sumMs).toBeGreaterThan(summary.wallMs);

    // the progress lines: at most 3 sites between their start and their end at any moment
    let running = 0;
    let peak = 0;
    for (const l of r.err.split("\n")) {
      if (/: preview started$/.test(l)) peak = Math.max(peak, ++running);
      else if (/: (ok|failed) in /.test(l)) running--;
    }
    expect(peak).toBe(3);
    for (const v of secretValues()) expect(`${r.out}\n${r.err}`).not.toContain(v);

    // a generated site's stack reads its own environment file; a bundled one defaults to the stack name
    expect(pulumi("config", "get", "edgecloud:environment", "--stack", "site-03").stdout.trim()).toBe(
      join(generated, "site-03.yaml"),
    );
    expect(pulumi("config", "get", "edgecloud:environment", "--stack", "multi-site-beijing").stdout.trim()).toBe("");
    expect(stacks()).toEqual(["fleet-project", "single-node", ...multi].sort());
  }, 1_500_000);

  test("WHEN fleet destroy --yes of previewed sites and of one that was never created THEN the previewed ones succeed with nothing to delete and the missing one fails naming its stack", async () => {
    const ghost = f.generateSites(1, "ghost");
    const r = await fleet("destroy", "--sites", `multi-site-beijing,${ghost}`, "--parallel", "2", "--yes", "--json");
    const summary = JSON.parse(r.out) as FleetSummary;
    log(`fleet destroy, 2 sites, parallel 2: ${r.ms} ms\n${renderFleetSummary(summary)}`);
    expect(r.code).toBe(FLEET_EXIT.sitesFailed);
    expect(summary.sites.map((s) => [s.site, s.result, s.changes.delete ?? 0])).toEqual([
      ["multi-site-beijing", "ok", 0],
      ["ghost-01", "failed", 0],
    ]);
    expect(summary.sites[1]!.error).toMatch(/ghost-01/);
  }, 600_000);
});
