/**
 * `npm run bench:lab` (root, Linux): provisions the K3sHaCluster lab hosts (3 etcd, 2 servers, `--agents N` agents,
 * default 1) over real SSH and prints the wall time, the critical path (longest dependency chain, summed from each step's own measured
 * time), the sequential sum, the ratios wall/critical (target ≤ 1.25) and wall/sequential, and a no-op re-run:
 * how many scripts changed anything (target 0) and its wall time. Then the same for the whole default environment
 * (issue 15: 11 hosts, every component's host steps that need no K3s/KubeEdge binary — test/lab/nodes-env.ts);
 * `--cluster-only` skips that part. Everything it starts, it stops.
 *
 * Bounded parallelism (issue 18): `--max-steps N`, `--max-per-host N`, `--max-hosts N` run the steps through the
 * in-process executor's limiter (lib/steps/step-limiter.ts, the one HostStepRun shares) and print one line per
 * completed wave while it runs, the peak sessions seen (overall, on one host, hosts at once) and the floor the limit
 * allows, max(critical path, sequential sum / maxConcurrentSteps). Each lab host takes ~9 of root's inotify instances
 * (test/lab/lab.ts): 30 hosts need fs.inotify.max_user_instances above 270 — the lab refuses to boot otherwise and
 * names the sysctl; this bench does not change it.
 */
import { spawnSync } from "child_process";
import { existsSync } from "fs";
import { loadavg } from "os";
import { join } from "path";
import { parseArgs } from "util";
import { cniTarball } from "../components/kubeedge-cloud/runtime";
import { criticalPath, HostStep, ProvisioningLimits, provisioningLimits, StepPlan, WaveProgress } from "../lib/steps";
import { environmentMaterial } from "../stacks/material";
import { synthesizeWith } from "../stacks/synth";
import { ETCD_BINARIES, stageEtcdRelease } from "../test/lab/etcd-prestaged";
import {
  LAB_ADDRESSES,
  LAB_ETCD_DIR,
  LAB_PRESTAGED_DIR,
  labAddress,
  labDefaultEnvironment,
  NOT_RUN_HERE,
  runsHere,
} from "../test/lab/nodes-env";
import { CLUSTER_HOSTS, labCluster } from "../test/lab/cluster";
import { describeFailures, executePlan, PlanRun } from "../test/lab/executor";
import { Lab } from "../test/lab/lab";
import { ensureRootfs } from "../test/lab/rootfs";

const TARGET = 1.25;
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

const { values: args } = parseArgs({
  options: {
    agents: { type: "string", default: "1" },
    "max-steps": { type: "string" },
    "max-per-host": { type: "string" },
    "max-hosts": { type: "string" },
    "cluster-only": { type: "boolean", default: false },
  },
});
const agents = Number(args.agents);
if (!Number.isInteger(agents) || agents < 1 || agents > 200) throw new Error(`--agents ${args.agents}: 1 to 200`);
const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
const limitsGiven = args["max-steps"] ?? args["max-per-host"] ?? args["max-hosts"];
const LIMITS: ProvisioningLimits | undefined = limitsGiven
  ? {
      ...(args["max-steps"] ? { maxConcurrentSteps: num(args["max-steps"]) } : {}),
      ...(args["max-per-host"] ? { maxStepsPerHost: num(args["max-per-host"]) } : {}),
      ...(args["max-hosts"] ? { maxConcurrentHosts: num(args["max-hosts"]) } : {}),
    }
  : undefined;
const RESOLVED = LIMITS ? provisioningLimits(LIMITS, "--max-*") : undefined;

/** The most intervals open at once. */
function peak(intervals: readonly { startMs: number; endMs: number }[]): number {
  const ev = intervals.flatMap((r) => [
    [r.startMs, 1],
    [r.endMs, -1],
  ]);
  ev.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let n = 0;
  let m = 0;
  for (const [, d] of ev) m = Math.max(m, (n += d!));
  return m;
}

/** Peak sessions overall, on the busiest host, and hosts with a session at once. */
function peaks(run: PlanRun): { steps: number; perHost: number; hosts: number } {
  const byHost = new Map<string, { startMs: number; endMs: number }[]>();
  for (const r of run.steps) byHost.set(r.host, [...(byHost.get(r.host) ?? []), r]);
  // each host's sessions merged into the spans it had at least one open: the peak of those is hosts busy at once
  const spans = [...byHost.values()].flatMap((rs) => {
    const merged: { startMs: number; endMs: number }[] = [];
    for (const r of [...rs].sort((a, b) => a.startMs - b.startMs)) {
      const last = merged[merged.length - 1];
      if (last && r.startMs <= last.endMs) last.endMs = Math.max(last.endMs, r.endMs);
      else merged.push({ startMs: r.startMs, endMs: r.endMs });
    }
    return merged;
  });
  return {
    steps: peak(run.steps),
    perHost: Math.max(...[...byHost.values()].map(peak)),
    hosts: peak(spans),
  };
}

/** The cluster's hosts with `n` agents (agent-1 … agent-n at .31 …). */
function clusterHosts(n: number): typeof CLUSTER_HOSTS {
  return [
    ...CLUSTER_HOSTS.filter((h) => !h.roles.includes("agent")),
    ...Array.from({ length: n }, (_, i) => ({ name: `agent-${i + 1}`, roles: ["agent" as const], ip: 31 + i })),
  ];
}

function report(title: string, plan: StepPlan, run: PlanRun): { wall: number; critical: number; sequential: number } {
  const cp = criticalPath(plan, run.durations);
  const sequential = run.steps.reduce((a, r) => a + r.ms, 0);
  console.log(
    `\n${title}: ${run.steps.length} steps on ${new Set(run.steps.map((r) => r.host)).size} hosts, ${run.ok ? "all succeeded" : `FAILED\n${describeFailures(run)}`}`,
  );
  const width = Math.max(...run.steps.map((r) => r.id.length));
  const many = run.steps.length > 80;
  if (many) console.log(`  (${run.steps.length} steps: only the critical path's are drawn)`);
  const scale = 60 / Math.max(run.wallMs, 1);
  for (const r of [...run.steps].sort((a, b) => a.startMs - b.startMs)) {
    if (many && !cp.ids.includes(r.id)) continue;
    const bar = " ".repeat(Math.round(r.startMs * scale)) + "#".repeat(Math.max(1, Math.round(r.ms * scale)));
    const mark = cp.ids.includes(r.id) ? "*" : " ";
    console.log(
      `  ${mark} ${r.id.padEnd(width)} ${String(r.ms).padStart(6)} ms  changed=${String(r.changed ?? "?").padEnd(3)} |${bar}`,
    );
  }
  console.log(`  (* = on the critical path: ${cp.ids.join(" -> ")})`);
  console.log(`  wall time            ${s(run.wallMs)}`);
  console.log(`  critical path        ${s(cp.ms)}`);
  console.log(`  sequential sum       ${s(sequential)}`);
  console.log(
    `  wall / critical      ${(run.wallMs / cp.ms).toFixed(3)}  (target <= ${TARGET}: ${run.wallMs <= TARGET * cp.ms ? "met" : "NOT met"})`,
  );
  console.log(`  wall / sequential    ${(run.wallMs / sequential).toFixed(3)}`);
  const p = peaks(run);
  console.log(`  peak sessions        ${p.steps} at once, ${p.perHost} on one host, ${p.hosts} hosts busy at once`);
  if (RESOLVED) {
    const floor = Math.max(cp.ms, sequential / RESOLVED.maxConcurrentSteps);
    console.log(
      `  limits               ${RESOLVED.maxConcurrentSteps} at once, ${RESOLVED.maxStepsPerHost} per host, ${RESOLVED.maxConcurrentHosts} hosts: ` +
        `floor max(critical, sequential/${RESOLVED.maxConcurrentSteps}) ${s(floor)}, wall / floor ${(run.wallMs / floor).toFixed(3)}`,
    );
  }
  console.log(`  load average         ${load()}`);
  return { wall: run.wallMs, critical: cp.ms, sequential };
}

async function main(): Promise<number> {
  const rootfs = await ensureRootfs((m) => console.log(m));
  console.log(`rootfs: ${rootfs.dir} (${rootfs.built ? `built in ${s(rootfs.ms)}` : "cached"})`);
  const c = await labCluster({ hosts: clusterHosts(agents) });
  const plan: StepPlan = { steps: c.plan.steps.filter(c.runnable) };
  console.log(
    `cluster: ${c.labHosts.length} hosts (3 etcd, 2 servers, ${agents} agents), ${plan.steps.length} runnable steps; ` +
      `limits: ${RESOLVED ? JSON.stringify(RESOLVED) : "none (every ready step at once)"}; load ${load()}`,
  );
  const lab = await Lab.start({ hosts: c.labHosts, log: (m) => m.startsWith("inotify") && console.log(m) });
  let code = 0;
  try {
    console.log(`lab: ${lab.hosts.length} hosts booted in ${s(lab.bootMs)}`);
    console.log(
      `steps not run (need the K3s binary download): ${c.plan.steps
        .filter((x) => !c.runnable(x))
        .map((x) => x.id)
        .join(", ")}`,
    );
    if (!(await provisionTwice(lab, c.plan, plan, c.runnable, ""))) code = 1;
  } finally {
    const t = await lab.stop();
    console.log(`lab torn down in ${s(t.ms)}`);
  }
  return code;
}

/**
 * Provisions the plan's runnable steps, then re-runs them (the no-op run: target 0 changed), printing the provision
 * report and one summary line with the ratios. `label` prefixes every line ("" for the cluster). True when both ran ok.
 */
async function provisionTwice(
  lab: Lab,
  full: StepPlan,
  plan: StepPlan,
  only: (s: StepPlan["steps"][number]) => boolean,
  label: string,
): Promise<boolean> {
  const progress = new WaveProgress(plan.steps);
  const t0 = Date.now();
  const first = await executePlan(lab, full, {
    only,
    ...(LIMITS ? { limits: LIMITS } : {}),
    afterStep: (step: HostStep, r) => {
      const line = progress.finished(step.id, r.changed);
      if (line) console.log(`  ${label ? `${label}: ` : ""}${line} (+${s(Date.now() - t0)})`);
    },
  });
  const m = report(label ? `${label}: provision` : "provision", plan, first);
  const noop = await executePlan(lab, full, { only, ...(LIMITS ? { limits: LIMITS } : {}) });
  const changed = noop.changedSteps;
  console.log(
    `\n${label ? `${label}: ` : ""}no-op re-run: ${changed.length} of ${noop.steps.length} scripts changed anything (target 0)${changed.length ? `: ${changed.map((r) => r.id).join(", ")}` : ""}`,
  );
  console.log(`  wall time            ${s(noop.wallMs)}${noop.ok ? "" : `\n  FAILED\n${describeFailures(noop)}`}`);
  console.log(
    `\nsummary${label ? ` (${label})` : ""}: wall ${s(m.wall)}, critical ${s(m.critical)}, sequential ${s(m.sequential)}, wall/critical ${(m.wall / m.critical).toFixed(3)}, ` +
      `wall/sequential ${(m.wall / m.sequential).toFixed(3)}, no-op changed ${changed.length}, no-op wall ${s(noop.wallMs)}, load ${load()}`,
  );
  return first.ok && noop.ok;
}

/** The whole default environment on the lab: its plan's steps that run here, provisioned and re-run. */
async function wholeEnvironment(): Promise<number> {
  const binDir = spawnSync("bash", [join(__dirname, "../scripts/build-tools.sh"), "--print-bin-dir"], {
    encoding: "utf8",
  }).stdout.trim();
  const missing = ETCD_BINARIES.filter((b) => !existsSync(join(binDir, b)));
  if (missing.length) {
    console.log(
      `\nwhole environment: skipped: ${missing.join(", ")} not built (bash scripts/build-tools.sh --stage etcd)`,
    );
    return 0;
  }
  const env = labDefaultEnvironment();
  const out = synthesizeWith(env, await environmentMaterial(env, "generated"));
  const plan: StepPlan = { steps: out.plan.steps.filter(runsHere) };
  const lab = await Lab.start({
    // as the real-nodes stage boots them: the edge runtime step needs a kubelet host's writable /proc/sys/net
    hosts: Object.keys(LAB_ADDRESSES).map((name) => ({
      name,
      address: labAddress(name),
      ...((env.kubeedge?.edgeHosts ?? []).some((h) => h.name === name) ? { kubeletHost: true } : {}),
    })),
  });
  let code = 0;
  try {
    console.log(
      `\nwhole environment (default, moved onto the lab): ${lab.hosts.length} hosts booted in ${s(lab.bootMs)}`,
    );
    console.log(
      `steps not run here: ${[...new Set(out.plan.steps.filter((x) => !runsHere(x)).map((x) => x.name))].map((n) => `${n} (${NOT_RUN_HERE[n]!.split(" (")[0]})`).join("; ")}`,
    );
    // what the nodes stage stages too: etcd v3.5.17 built here for the prestaged install, the edge CNI tarball
    stageEtcdRelease(
      lab,
      env.hosts.filter((h) => h.roles.includes("etcd")).map((h) => h.name),
      { binDir, version: env.cluster.spec.etcd.version, dir: LAB_ETCD_DIR },
    );
    await Promise.all(
      (env.kubeedge?.edgeHosts ?? []).map((h) =>
        lab.sh(
          h.name,
          `mkdir -p ${LAB_PRESTAGED_DIR} && tar -czf ${LAB_PRESTAGED_DIR}/${cniTarball("amd64")} -C /usr/lib/cni .`,
        ),
      ),
    );
    if (!(await provisionTwice(lab, out.plan, plan, runsHere, "whole environment"))) code = 1;
  } finally {
    const t = await lab.stop();
    console.log(`lab torn down in ${s(t.ms)}`);
  }
  return code;
}

main()
  .then(async (code) => (args["cluster-only"] ? code : Math.max(code, await wholeEnvironment())))
  .then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
