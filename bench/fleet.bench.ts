/**
 * Fleet benchmark (`npm run bench:fleet`): the real Pulumi CLI (built by `scripts/build-tools.sh`, as the engine
 * tests run it) previews K sites generated from `multi-site-shanghai` (K3s + the Rancher import, 23 resources each,
 * executor in-process; nothing is dialed) through `runFleet` (the Automation API, one stack per site, a throw-away
 * local backend), once at `--parallel 1` and once at `--parallel P`, each run on its own fresh stacks. Prints each
 * run's fleet summary, the wall time of both, their ratio, and each run's speed-up (the sites' durations added up
 * over its wall time), with the load average before and after. No targets: on a shared 2-core machine the ratio
 * is bounded by the cores (each site's preview is one engine and one Node.js program, mostly CPU).
 *
 *   npm run bench:fleet                       # K = 6 sites, P = 3
 *   npm run bench:fleet -- --sites 10 --parallel 4
 *
 * Exits non-zero when a site fails. Every stack, file and process it starts it removes / waits for.
 */
import { loadavg } from "os";
import { parseArgs } from "util";
import { fleetParallel, resolveFleetSites } from "../stacks/fleet/fleet-sites";
import { FleetSummary, renderFleetSummary } from "../stacks/fleet/fleet-summary";
import { runFleet } from "../stacks/fleet/run-fleet";
import { fleetFixture } from "../test/engine/fleet-fixture";

const { values } = parseArgs({
  options: {
    sites: { type: "string", default: "6" },
    parallel: { type: "string", default: "3" },
  },
});
const K = Number(values.sites);
if (!Number.isInteger(K) || K < 1 || K > 99) throw new Error(`--sites: "${values.sites}" must be 1 to 99 sites`);
const { parallel: P, issues } = fleetParallel(values.parallel);
if (issues.length > 0) throw new Error(`--parallel: "${values.parallel}" ${issues[0]!.message}`);

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

async function main(): Promise<number> {
  const f = await fleetFixture();
  const runs: { parallel: number; summary: FleetSummary }[] = [];
  try {
    for (const parallel of [1, P]) {
      const dir = f.generateSites(K, `p${parallel}`);
      const { sites, issues: siteIssues } = resolveFleetSites(dir, { cwd: process.cwd() });
      if (siteIssues.length > 0) throw new Error(siteIssues.map((i) => i.message).join("\n"));
      console.error(`· parallel ${parallel}: ${K} sites, load ${load()}`);
      const summary = await runFleet({
        operation: "preview",
        sites,
        parallel,
        workDir: f.workDir,
        config: { "edgecloud:executor": "in-process" },
        secretFiles: { "edgecloud:sshPrivateKey": f.keyFile, "edgecloud:rancherManifestUrl": f.rancherUrlTemplate },
        envVars: f.envVars,
        pulumiRoot: f.pulumiRoot,
        onProgress: (l) => console.error(`  · ${l}`),
      });
      console.log(`${renderFleetSummary(summary)}\n`);
      runs.push({ parallel, summary });
    }
  } finally {
    await f.remove();
  }
  const [one, many] = runs as [(typeof runs)[0], (typeof runs)[0]];
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    [
      `fleet preview of ${K} sites (multi-site-shanghai's shape, 23 resources each), load ${load()} at the end:`,
      `  parallel 1: wall ${s(one.summary.wallMs)} (sites added up ${s(one.summary.sumMs)}, ${one.summary.speedup.toFixed(2)}×)`,
      `  parallel ${P}: wall ${s(many.summary.wallMs)} (sites added up ${s(many.summary.sumMs)}, ${many.summary.speedup.toFixed(2)}×)`,
      `  wall(parallel 1) / wall(parallel ${P}) = ${(one.summary.wallMs / many.summary.wallMs).toFixed(2)}`,
    ].join("\n"),
  );
  return runs.some((r) => r.summary.failed > 0) ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
