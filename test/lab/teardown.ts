import { spawn, spawnSync } from "child_process";
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "fs";
import { join } from "path";

/** What a lab started, persisted to `<dir>/state.json` before each thing is created so any process can undo it. */
export interface LabState {
  readonly id: string;
  /** The process that owns the lab; a state file whose owner is dead is reaped by the next lab start. */
  readonly ownerPid: number;
  readonly dir: string;
  readonly hubNetns: string;
  readonly hosts: LabHostRecord[];
}

export interface LabHostRecord {
  readonly name: string;
  readonly netns: string;
  readonly merged: string;
  nspawnPid: number;
  initPid: number;
  /** e.g. `pid:[4026532301]`: every process of the container lives in this PID namespace. */
  pidNs: string;
  /** A kubelet host's own cgroups (one per hierarchy), removed depth-first at teardown. */
  cgroups?: string[];
}

export interface TeardownReport {
  readonly ms: number;
  /** Hosts whose systemd powered off by itself after SIGRTMIN+4. */
  readonly graceful: string[];
  /** Processes that had to be SIGKILLed ("host: pid comm"). */
  readonly killed: string[];
  /** Anything still present after teardown; empty on success. */
  readonly leftovers: string[];
}

const DEFAULT_WORK_ROOT = "/var/tmp/edgecloud-lab";
/** systemd's "poweroff" signal: SIGRTMIN+4 (glibc's SIGRTMIN is 34). */
const SIGRTMIN_PLUS_4 = 38;
const active = new Map<string, LabState>();
let handlersInstalled = false;

/**
 * Records (and persists) a lab's state, and makes sure it is torn down when its owner goes away: signal and exit
 * handlers in this process, and a detached watchdog process (see watchdog.ts) for what handlers cannot catch —
 * SIGKILL, and jest, whose sandboxed `process` object never delivers signals or `exit` to handlers registered
 * from a test file.
 */
export function registerLab(state: LabState): void {
  const first = !active.has(state.id);
  active.set(state.id, state);
  writeFileSync(join(state.dir, "state.json"), JSON.stringify(state, null, 2));
  installHandlers();
  if (first) startWatchdog(state);
}

function startWatchdog(state: LabState): void {
  const out = openSync(join(state.dir, "..", `${state.id}.watchdog.log`), "a");
  const child = spawn(
    process.execPath,
    [
      "-r",
      require.resolve("ts-node/register/transpile-only"),
      join(__dirname, "watchdog.ts"),
      state.dir,
      String(state.ownerPid),
    ],
    { detached: true, stdio: ["ignore", out, out], cwd: join(__dirname, "..", "..") },
  );
  closeSync(out);
  child.unref();
}

export function unregisterLab(state: LabState): void {
  active.delete(state.id);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (sig: NodeJS.Signals): void => {
    for (const s of [...active.values()]) {
      teardown(s, (m) => process.stderr.write(`edgecloud-lab: ${m}\n`));
      active.delete(s.id);
    }
    process.removeListener(sig, onSignal);
    process.kill(process.pid, sig);
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, onSignal);
  process.on("exit", () => {
    for (const s of [...active.values()]) {
      teardown(s, (m) => process.stderr.write(`edgecloud-lab: ${m}\n`));
      active.delete(s.id);
    }
  });
}

/**
 * Stops everything a lab started, synchronously (it also runs from signal and exit handlers):
 * 1. asks each container's systemd to power off (SIGRTMIN+4 to its PID 1) and waits for systemd-nspawn to exit;
 * 2. SIGKILLs whatever is left of each container by PID: every process in its PID namespace, every descendant of
 *    its systemd-nspawn, every process whose root is its overlay (killing nspawn alone orphans the container's
 *    systemd and services, and SIGTERM does not stop a systemd init);
 * 3. unmounts the overlays, deletes the network namespaces (and with them the veths and the bridge);
 * 4. verifies that no such process, mount or namespace is left, then removes the work directory.
 */
export function teardown(
  state: LabState,
  log: (m: string) => void = () => undefined,
  graceMs = 15_000,
): TeardownReport {
  const t0 = Date.now();
  const graceful: string[] = [];
  const killed = new Set<string>();
  const leftovers: string[] = [];
  const hosts = state.hosts;
  const asked: LabHostRecord[] = [];
  for (const h of hosts) {
    if (!h.initPid && h.nspawnPid && isNspawn(h.nspawnPid)) h.initPid = childInOtherPidNs(h.nspawnPid) ?? 0;
    if (!h.pidNs && h.initPid) h.pidNs = pidNamespace(h.initPid) ?? "";
    if (h.initPid && h.pidNs && pidNamespace(h.initPid) === h.pidNs && signal(h.initPid, SIGRTMIN_PLUS_4))
      asked.push(h);
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && asked.some((h) => isNspawn(h.nspawnPid))) sleepSync(100);
  for (const h of asked) if (!isNspawn(h.nspawnPid) && containerProcs(h).length === 0) graceful.push(h.name);

  for (let round = 0; round < 50; round++) {
    const procs = hosts.flatMap((h) => containerProcs(h).map((p) => ({ h, p })));
    if (procs.length === 0) break;
    for (const { h, p } of procs) {
      if (signal(p.pid, "SIGKILL")) killed.add(`${h.name}: ${p.pid} ${p.comm}`);
    }
    sleepSync(100);
  }

  for (const h of hosts) {
    if (isMounted(h.merged)) {
      let r = spawnSync("umount", [h.merged]);
      if (r.status !== 0) r = spawnSync("umount", ["-l", h.merged]);
      if (r.status !== 0) leftovers.push(`mount ${h.merged}: ${r.stderr}`);
    }
  }
  for (const h of hosts) for (const cg of h.cgroups ?? []) removeCgroup(cg, leftovers);
  for (const ns of [...hosts.map((h) => h.netns), state.hubNetns]) {
    if (existsSync(`/run/netns/${ns}`)) {
      const r = spawnSync("ip", ["netns", "del", ns]);
      if (r.status !== 0) leftovers.push(`netns ${ns}: ${r.stderr}`);
    }
  }

  // verify
  for (const h of hosts) {
    for (const p of containerProcs(h)) leftovers.push(`${h.name}: process ${p.pid} ${p.comm}`);
    if (isMounted(h.merged)) leftovers.push(`${h.name}: ${h.merged} still mounted`);
    if (existsSync(`/run/netns/${h.netns}`)) leftovers.push(`${h.name}: netns ${h.netns} still present`);
  }
  if (existsSync(`/run/netns/${state.hubNetns}`)) leftovers.push(`netns ${state.hubNetns} still present`);
  if (leftovers.length === 0 && process.env.EDGECLOUD_LAB_KEEP !== "1") {
    rmSync(state.dir, { recursive: true, force: true });
    rmSync(join(state.dir, "..", `${state.id}.watchdog.log`), { force: true });
  }
  const ms = Date.now() - t0;
  log(
    `lab ${state.id} torn down in ${(ms / 1000).toFixed(1)} s: ${graceful.length}/${hosts.length} powered off, ` +
      `${killed.size} processes killed${killed.size ? ` (${[...killed].slice(0, 20).join("; ")})` : ""}` +
      `${leftovers.length ? `, LEFT: ${leftovers.join("; ")}` : ""}`,
  );
  return { ms, graceful, killed: [...killed], leftovers };
}

/** Tears down labs whose owning process is gone (a run killed with SIGKILL, a crashed runner). */
export function reapStaleLabs(
  workRoot: string = process.env.EDGECLOUD_LAB_WORKDIR ?? DEFAULT_WORK_ROOT,
  log: (m: string) => void = () => undefined,
  all = false,
): number {
  if (!existsSync(workRoot)) return 0;
  let n = 0;
  for (const e of readdirSync(workRoot)) {
    const file = join(workRoot, e, "state.json");
    if (!existsSync(file)) continue;
    let state: LabState;
    try {
      state = JSON.parse(readFileSync(file, "utf8")) as LabState;
    } catch {
      continue;
    }
    if (!all && (alive(state.ownerPid) || active.has(state.id))) continue;
    log(`reaping lab ${state.id} left by process ${state.ownerPid}`);
    teardown(state, log);
    n++;
  }
  return n;
}

export function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
}

/** Process state letter from /proc/PID/stat ("Z" zombie: dead, waiting to be reaped); undefined when gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return undefined;
  }
}

function allProcs(): Proc[] {
  const out: Proc[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const [state, ppid] = stat.slice(close + 2).split(" ");
      if (state === "Z" || state === "X") continue; // dead; the runner reaps it when its event loop runs
      out.push({ pid: Number(e), ppid: Number(ppid), comm });
    } catch {
      /* exited */
    }
  }
  return out;
}

/** Every live process that belongs to the host's container: its PID namespace, nspawn's subtree, its root. */
function containerProcs(h: LabHostRecord): Proc[] {
  const procs = allProcs();
  const ours = new Set<number>();
  const byParent = new Map<number, number[]>();
  for (const p of procs) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p.pid]);
  if (h.nspawnPid && isNspawn(h.nspawnPid)) {
    const stack = [h.nspawnPid];
    while (stack.length) {
      const pid = stack.pop()!;
      ours.add(pid);
      stack.push(...(byParent.get(pid) ?? []));
    }
  }
  for (const p of procs) {
    if (h.pidNs && pidNamespace(p.pid) === h.pidNs) ours.add(p.pid);
    else if (rootOf(p.pid) === h.merged) ours.add(p.pid);
  }
  return procs.filter((p) => ours.has(p.pid) && p.pid !== process.pid);
}

function rootOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/root`);
  } catch {
    return undefined;
  }
}

function isNspawn(pid: number): boolean {
  const st = procState(pid);
  if (st === undefined || st === "Z" || st === "X") return false;
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "systemd-nspawn";
  } catch {
    return false;
  }
}

function childInOtherPidNs(pid: number): number | undefined {
  const own = pidNamespace(process.pid);
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    return kids.find((k) => pidNamespace(k) !== own);
  } catch {
    return undefined;
  }
}

/** rmdir of a cgroup and everything below it, deepest first (a cgroup with children or tasks cannot go). */
function removeCgroup(dir: string, leftovers: string[]): void {
  if (!existsSync(dir)) return;
  const depthFirst = (d: string): string[] => [
    ...readdirSync(d, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => depthFirst(join(d, e.name))),
    d,
  ];
  for (let round = 0; round < 30; round++) {
    for (const d of depthFirst(dir)) {
      try {
        rmdirSync(d);
      } catch {
        /* tasks still leaving; next round */
      }
    }
    if (!existsSync(dir)) return;
    sleepSync(100);
  }
  leftovers.push(`cgroup ${dir} still present`);
}

function isMounted(path: string): boolean {
  try {
    return readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .some((l) => l.split(" ")[4] === path);
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals | number): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
