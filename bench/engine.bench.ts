/**
 * Engine benchmark (`npm run bench:engine`): the real Pulumi CLI (built by `scripts/build-tools.sh`, as the engine
 * tests run it) previews a K3sHaCluster of 3 etcd members, 3 servers and N agents (`bench/engine`, executor
 * in-process) on a throw-away local backend with a passphrase secrets provider; nothing is dialed. Per N:
 *
 * - resources in the preview, wall time of `pulumi preview` (min / median of `--runs`);
 * - peak RSS per process of the preview's tree (sampled from /proc every 100 ms): the engine (`pulumi`), the
 *   language host, the Node program, the dynamic-provider process, and the whole tree at its peak; CPU seconds of
 *   the engine and the program;
 * - the ratio to `edgecloud synth` of the same hosts (the CLI, every script written to a temporary directory);
 * - t(1,000) / t(100) when both are measured.
 *
 * Targets (checked when N = 1,000 is measured): median preview ≤ 60 s, whole-tree peak RSS ≤ 2 GB, t(1,000) / t(100)
 * ≤ 12; the exit code is non-zero when one is missed or a preview fails.
 *
 *   npm run bench:engine                      # N = 10, 100, 1,000; 3 runs each
 *   npm run bench:engine -- --n 10,100 --runs 1
 *   npm run bench:engine -- --program js      # the program and library compiled by tsc first, run as JavaScript
 *   npm run bench:engine -- --n 300 --runs 1 --cpu-prof /tmp/prof   # a CPU profile of the program
 *   npm run bench:engine -- --n 300 --runs 1 --engine-prof /tmp/prof   # the engine's Go CPU profile (go tool pprof)
 *
 * Every process it starts (each in its own process group) it stops, and every temporary directory it removes.
 */
import { ChildProcess, spawn } from "child_process";
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "fs";
import { loadavg, tmpdir } from "os";
import { join } from "path";
import { parseArgs } from "util";
import { parse, stringify } from "yaml";
import { engineTools, PulumiStack, REPO } from "../test/engine/pulumi-cli";
import { benchHosts, BENCH_SPEC } from "./engine/hosts";

const TARGET_WALL_MS = 60_000;
const TARGET_RSS_BYTES = 2e9;
const TARGET_LINEARITY = 12;
const SAMPLE_MS = 100;
const PAGE = 4096;
const TICKS = 100;

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "10,100,1000" },
    runs: { type: "string", default: "3" },
    program: { type: "string", default: "ts" },
    "cpu-prof": { type: "string" },
    "engine-prof": { type: "string" },
    "step-resources": { type: "string", default: "per-host-chain" },
  },
});
/** `--cpu-prof DIR`: the program writes a CPU profile of each run there (bench/engine/profile.ts). */
const CPU_PROF = values["cpu-prof"];
/** `--engine-prof DIR`: the engine writes its Go CPU profile there (`pulumi --profiling`; read with `go tool pprof`). */
const ENGINE_PROF = values["engine-prof"];
const PROGRAM = values.program!;
/** `provisioning.stepResources` of the benchmark's cluster: per-host-chain (the large-fleet setting) or per-step. */
const STEP_RESOURCES = values["step-resources"]!;
if (STEP_RESOURCES !== "per-step" && STEP_RESOURCES !== "per-host-chain")
  throw new Error(`--step-resources: "${STEP_RESOURCES}" must be per-step or per-host-chain`);
if (PROGRAM !== "ts" && PROGRAM !== "js") throw new Error(`--program: "${PROGRAM}" must be ts or js`);
const SIZES = values.n!.split(",").map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 0) throw new Error(`--n: "${s}" is not a number of agents`);
  return n;
});
const RUNS = Number(values.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs: "${values.runs}" must be a positive integer`);

type Role = "engine" | "language host" | "program" | "dynamic provider" | "other";
const ROLES: readonly Role[] = ["engine", "language host", "program", "dynamic provider", "other"];

interface Sample {
  readonly pid: number;
  readonly ppid: number;
  readonly rss: number;
  readonly cpuTicks: number;
  readonly role: Role;
}

function readProc(pid: number): Sample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const comm = stat.slice(stat.indexOf("(") + 1, close);
    const f = stat.slice(close + 2).split(" ");
    // fields after the comm: state(3) ppid(4) … utime(14) stime(15) … rss(24), numbered as in proc(5)
    const ppid = Number(f[1]);
    const cpuTicks = Number(f[11]) + Number(f[12]);
    const rss = Number(f[21]) * PAGE;
    let role: Role = "other";
    if (comm === "pulumi") role = "engine";
    else if (comm.startsWith("pulumi-language")) role = "language host";
    else if (comm === "node" || comm.startsWith("pulumi-resource")) {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      role = /dynamic-provider|pulumi-resource-pulumi-nodejs/.test(cmd) ? "dynamic provider" : "program";
    }
    return { pid, ppid, rss, cpuTicks, role };
  } catch {
    return undefined; // exited between readdir and read
  }
}

/** Samples the process tree under `root` every 100 ms: peak RSS per role and of the whole tree, CPU per role. */
class TreeSampler {
  readonly peak = new Map<Role, number>(ROLES.map((r) => [r, 0]));
  peakTree = 0;
  private readonly cpu = new Map<number, { role: Role; ticks: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly root: number) {
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.sample();
  }

  private sample(): void {
    const all = new Map<number, Sample>();
    for (const e of readdirSync("/proc")) {
      if (!/^\d+$/.test(e)) continue;
      const s = readProc(Number(e));
      if (s) all.set(s.pid, s);
    }
    const inTree = (s: Sample): boolean => {
      for (let p: Sample | undefined = s, hops = 0; p && hops < 64; p = all.get(p.ppid), hops++)
        if (p.pid === this.root) return true;
      return false;
    };
    const byRole = new Map<Role, number>();
    let tree = 0;
    for (const s of all.values()) {
      if (!inTree(s)) continue;
      byRole.set(s.role, (byRole.get(s.role) ?? 0) + s.rss);
      tree += s.rss;
      const c = this.cpu.get(s.pid);
      if (!c || s.cpuTicks > c.ticks) this.cpu.set(s.pid, { role: s.role, ticks: s.cpuTicks });
    }
    for (const [r, v] of byRole) if (v > this.peak.get(r)!) this.peak.set(r, v);
    if (tree > this.peakTree) this.peakTree = tree;
  }

  cpuSeconds(role: Role): number {
    let t = 0;
    for (const c of this.cpu.values()) if (c.role === role) t += c.ticks;
    return t / TICKS;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Children still running (each in its own process group), stopped on exit, SIGINT and SIGTERM. */
const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();
function stopAll(): void {
  for (const c of running) {
    try {
      process.kill(-c.pid!, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  running.clear();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    stopAll();
    process.exit(130);
  });
}
process.on("exit", stopAll);

interface Run {
  readonly code: number | null;
  readonly ms: number;
  readonly stdoutFile: string;
  readonly stderr: string;
  readonly sampler?: TreeSampler;
}

/** Runs `argv` in its own process group, stdout to a file; kills the group when it exits or times out. */
function runTree(
  argv: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; stdoutFile: string; sample: boolean; timeoutMs: number },
): Promise<Run> {
  const out = openSync(opts.stdoutFile, "w");
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ["ignore", out, "pipe"],
    detached: true,
  });
  closeSync(out);
  running.add(child);
  const sampler = opts.sample && child.pid ? new TreeSampler(child.pid) : undefined;
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(-20_000)));
  const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), opts.timeoutMs);
  return new Promise((resolve, reject) => {
    child.on("error", (e) => {
      clearTimeout(timer);
      sampler?.stop();
      running.delete(child);
      reject(e);
    });
    child.on("exit", (code) => {
      const ms = performance.now() - t0;
      clearTimeout(timer);
      sampler?.stop();
      try {
        process.kill(-child.pid!, "SIGKILL"); // whatever of its group is left (plugins, the program)
      } catch {
        /* the group is gone */
      }
      running.delete(child);
      resolve({ code, ms, stdoutFile: opts.stdoutFile, stderr, sampler });
    });
  });
}

interface Case {
  readonly n: number;
  readonly resources: number;
  readonly walls: number[];
  readonly peak: Map<Role, number>;
  readonly peakTree: number;
  readonly cpuEngine: number;
  readonly cpuProgram: number;
  readonly synthMs: number;
  readonly load: string;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const mib = (b: number): string => `${Math.round(b / 2 ** 20)} MiB`;
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

/** `edgecloud synth` (the CLI, as `npm run synth` runs it) of an environment with the same hosts and spec. */
async function synthWall(n: number, dir: string, keyPath: string): Promise<number> {
  const envFile = join(dir, `bench-engine-${n}.yaml`);
  writeFileSync(
    envFile,
    stringify(
      { name: `bench-engine-${n}`, hosts: benchHosts(n, keyPath), k3s: BENCH_SPEC },
      { aliasDuplicateObjects: false },
    ),
  );
  const r = await runTree(
    [
      join(REPO, "node_modules/.bin/ts-node"),
      "--transpile-only",
      join(REPO, "bin/edgecloud.ts"),
      "synth",
      "--config",
      envFile,
      "--out",
      join(dir, "dist"),
      "--quiet",
    ],
    { cwd: REPO, env: process.env, stdoutFile: join(dir, "synth.out"), sample: false, timeoutMs: 15 * 60_000 },
  );
  if (r.code !== 0) throw new Error(`edgecloud synth of ${n} agents failed (exit ${r.code}):\n${r.stderr}`);
  rmSync(join(dir, "dist"), { recursive: true, force: true });
  return r.ms;
}

/**
 * `--program js`: the program and the library compiled by tsc (what the published package is: build/*.js) into a
 * temporary directory, run as JavaScript (`typescript: false`), so nothing is transpiled while Pulumi runs it.
 * Returns the program's folder.
 */
async function compileProgram(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), "edgecloud-bench-engine-js-"));
  tempDirs.add(out);
  const tsconfig = join(out, "tsconfig.json");
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(REPO, "tsconfig.build.json"),
      compilerOptions: {
        rootDir: REPO,
        outDir: out,
        declaration: false,
        types: ["node"],
        typeRoots: [join(REPO, "node_modules/@types")],
      },
      files: [join(REPO, "bench/engine/index.ts")],
      include: [],
    }),
  );
  const t0 = performance.now();
  const r = await runTree([process.execPath, join(REPO, "node_modules/typescript/bin/tsc"), "-p", tsconfig], {
    cwd: REPO,
    env: process.env,
    stdoutFile: join(out, "tsc.out"),
    sample: false,
    timeoutMs: 15 * 60_000,
  });
  if (r.code !== 0) throw new Error(`tsc failed (exit ${r.code}):\n${readFileSync(join(out, "tsc.out"), "utf8")}`);
  // the files the build script copies next to the JavaScript (npm run build)
  mkdirSync(join(out, "lib/manifests/schema"), { recursive: true });
  copyFileSync(join(REPO, "lib/steps/prelude.sh"), join(out, "lib/steps/prelude.sh"));
  copyFileSync(join(REPO, "lib/manifests/schema/k8s-v1.32.json"), join(out, "lib/manifests/schema/k8s-v1.32.json"));
  symlinkSync(join(REPO, "node_modules"), join(out, "node_modules"));
  const program = join(out, "bench/engine");
  const project = parse(readFileSync(join(REPO, "bench/engine/Pulumi.yaml"), "utf8")) as Record<string, unknown>;
  writeFileSync(
    join(program, "Pulumi.yaml"),
    stringify({ ...project, runtime: { name: "nodejs", options: { typescript: false } }, main: "index.js" }),
  );
  console.log(`compiled the program and the library with tsc in ${sec(performance.now() - t0)} (not timed below)`);
  return program;
}

async function runCase(n: number, tools: ReturnType<typeof engineTools>, program: string): Promise<Case> {
  const dir = mkdtempSync(join(tmpdir(), "edgecloud-bench-engine-"));
  tempDirs.add(dir);
  const keyPath = join(dir, "id_ed25519");
  // never used: nothing is dialed in a preview; the program reads it like an operator's key file
  writeFileSync(keyPath, "-----BEGIN OPENSSH PRIVATE KEY-----\nbench\n-----END OPENSSH PRIVATE KEY-----\n", {
    mode: 0o600,
  });
  const stack = await PulumiStack.create({ program, stack: `bench-${n}`, tools });
  tempDirs.add(stack.root);
  try {
    await stack.setConfig("agents", String(n));
    await stack.setConfig("keyPath", keyPath);
    await stack.setConfig("stepResources", STEP_RESOURCES);
    // synth first: it is cheap and fails fast on an environment problem
    const synthMs = await synthWall(n, dir, keyPath);
    console.log(`  N=${n} edgecloud synth: ${sec(synthMs)}`);
    const walls: number[] = [];
    const peak = new Map<Role, number>(ROLES.map((r) => [r, 0]));
    let peakTree = 0;
    let cpuEngine = 0;
    let cpuProgram = 0;
    let resources = 0;
    const loads: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      loads.push(load());
      const profiling = ENGINE_PROF ? ["--profiling", join(ENGINE_PROF, `engine-${n}-${i + 1}`)] : [];
      const r = await runTree(["pulumi", "preview", "--non-interactive", "--color", "never", ...profiling], {
        cwd: stack.projectDir,
        env: CPU_PROF
          ? { ...stack.env, EDGECLOUD_BENCH_CPU_PROF: join(CPU_PROF, `program-${n}-${i + 1}.cpuprofile`) }
          : stack.env,
        stdoutFile: join(dir, "preview.out"),
        sample: true,
        timeoutMs: 30 * 60_000,
      });
      if (r.code !== 0) {
        const out = readFileSync(r.stdoutFile, "utf8").slice(-20_000);
        throw new Error(
          `pulumi preview of ${n} agents failed (exit ${r.code}) after ${sec(r.ms)}:\n${out}\n${r.stderr}`,
        );
      }
      // the summary's `+ N to create` (the preview of a new stack creates everything); `--json` is not used: at
      // 1,000 agents before the gate fix its output was longer than the longest string Node can hold (512 MiB)
      const summary = readFileSync(r.stdoutFile, "utf8").match(/\+ (\d+) to create/);
      if (!summary) throw new Error(`pulumi preview of ${n} agents printed no "to create" summary`);
      resources = Number(summary[1]);
      rmSync(r.stdoutFile, { force: true });
      walls.push(r.ms);
      const s = r.sampler!;
      for (const role of ROLES) peak.set(role, Math.max(peak.get(role)!, s.peak.get(role)!));
      peakTree = Math.max(peakTree, s.peakTree);
      cpuEngine = Math.max(cpuEngine, s.cpuSeconds("engine"));
      cpuProgram = Math.max(cpuProgram, s.cpuSeconds("program"));
      console.log(
        `  N=${n} run ${i + 1}/${RUNS}: ${sec(r.ms)}, ${resources} resources, tree peak ${mib(s.peakTree)} (load ${loads[i]})`,
      );
    }
    return {
      n,
      resources,
      walls,
      peak,
      peakTree,
      cpuEngine,
      cpuProgram,
      synthMs,
      load: `${loads[0]} → ${load()}`,
    };
  } finally {
    await stack.remove();
    tempDirs.delete(stack.root);
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  }
}

async function main(): Promise<number> {
  const tools = engineTools();
  console.log(
    `pulumi preview of K3sHaCluster (3 etcd, 3 servers, N agents; executor in-process, provisioning.stepResources ${STEP_RESOURCES}; local backend), ${RUNS} run(s) per N, program ${PROGRAM === "js" ? "compiled by tsc, run as JavaScript" : "TypeScript through ts-node (transpile-only)"}, tools ${tools.binDir}`,
  );
  const program = PROGRAM === "js" ? await compileProgram() : join(REPO, "bench/engine");
  const cases: Case[] = [];
  for (const n of SIZES) cases.push(await runCase(n, tools, program));

  const rows = cases.map((c) => [
    String(c.n),
    String(c.resources),
    `${sec(Math.min(...c.walls))} / ${sec(median(c.walls))}`,
    mib(c.peak.get("engine")!),
    mib(c.peak.get("language host")!),
    mib(c.peak.get("program")!),
    mib(c.peak.get("dynamic provider")!),
    mib(c.peakTree),
    `${c.cpuEngine.toFixed(1)} / ${c.cpuProgram.toFixed(1)}`,
    `${sec(c.synthMs)} (×${(median(c.walls) / c.synthMs).toFixed(1)})`,
    c.load,
  ]);
  const head = [
    "N agents",
    "resources",
    "wall min / median",
    "engine RSS",
    "lang host RSS",
    "program RSS",
    "dyn provider RSS",
    "tree peak RSS",
    "CPU s engine / program",
    "synth (preview ×)",
    "load avg 1/5/15 (start → end)",
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(`\n${line(head)}\n| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  for (const r of rows) console.log(line(r));

  let ok = true;
  const at = (n: number) => cases.find((c) => c.n === n);
  const big = at(1000);
  const check = (what: string, value: string, met: boolean) => {
    console.log(`  ${what}: ${value} (${met ? "met" : "NOT met"})`);
    ok &&= met;
  };
  console.log("");
  if (big) {
    check("preview at 1,000 agents (median) ≤ 60 s", sec(median(big.walls)), median(big.walls) <= TARGET_WALL_MS);
    check(
      "peak RSS of the preview's process tree at 1,000 agents ≤ 2 GB",
      mib(big.peakTree),
      big.peakTree <= TARGET_RSS_BYTES,
    );
  }
  const hundred = at(100);
  if (big && hundred) {
    const ratio = median(big.walls) / median(hundred.walls);
    check("t(1,000) / t(100) ≤ 12", ratio.toFixed(2), ratio <= TARGET_LINEARITY);
  }
  if (!big) console.log("  (targets are checked when N = 1,000 is measured)");
  return ok ? 0 : 1;
}

main().then(
  (code) => {
    stopAll();
    process.exitCode = code;
  },
  (e: unknown) => {
    stopAll();
    console.error(e);
    process.exitCode = 2;
  },
);
