import {
  createStepLimiter,
  HostStep,
  parseChanged,
  ProvisioningLimits,
  provisioningLimits,
  renderDeleteBundle,
  renderStepBundle,
  stepPriorities,
  StepPlan,
} from "../../lib/steps";
import { run, RunResult } from "./proc";

/** How the executor reaches a host: the lab's SSH (`Lab.sshArgv`), or anything that returns argv for `bash -s`. */
export interface StepTransport {
  /** argv (program first) that runs `bash -s` as root on the host, reading the bundle from stdin. */
  sshArgv(host: string): string[];
  /** Kills the processes SSH sessions started on the host (for `CutHook.remote: "kill"`). */
  killSessions?(host: string): unknown;
}

export interface StepRun {
  readonly id: string;
  readonly host: string;
  readonly name: string;
  /** Exit 0 and the changed-marker line printed. */
  readonly ok: boolean;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** From the bundle's last line; undefined when the script died before printing it. */
  readonly changed: number | undefined;
  /** Wall time of this step's SSH session (connect, run, close). */
  readonly ms: number;
  /** Start and end, ms since the run started. */
  readonly startMs: number;
  readonly endMs: number;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the `cut` hook killed this step's SSH session. */
  readonly cut: boolean;
}

export interface PlanRun {
  readonly mode: "create" | "delete";
  readonly ok: boolean;
  readonly wallMs: number;
  /** Every step that ran, in plan order. */
  readonly steps: readonly StepRun[];
  readonly failed: readonly StepRun[];
  /** Steps not started because a step they (transitively) wait for failed. */
  readonly skipped: readonly string[];
  /** Steps that reported changed > 0. */
  readonly changedSteps: readonly StepRun[];
  /** Each step's own measured duration (for `criticalPath`). */
  readonly durations: ReadonlyMap<string, number>;
  get(id: string): StepRun;
}

export interface CutHook {
  readonly stepId: string;
  /** Kill the SSH client this long after the session started… */
  readonly afterMs?: number;
  /** …or as soon as the step's stdout/stderr matches. */
  readonly onOutput?: RegExp;
  /**
   * What happens on the host. "keep-running": only the connection drops; the remote script keeps going on what
   * is already in its stdin pipe (what a real network cut does: sshd sends no SIGHUP to a session without a pty).
   * "kill": the step's remote processes are SIGKILLed at the same moment (a half-done step).
   * @default "kill"
   */
  readonly remote?: "keep-running" | "kill";
}

export interface ExecuteOptions {
  /** @default "create" */
  readonly mode?: "create" | "delete";
  /** Runs only the steps it accepts; dependencies outside the selection count as done. @default - every step */
  readonly only?: (step: HostStep) => boolean;
  /** Awaited before a step starts (e.g. to stop an etcd member while the servers' steps run). */
  readonly beforeStep?: (step: HostStep) => Promise<void> | void;
  /** Called when a step ends. */
  readonly afterStep?: (step: HostStep, result: StepRun) => Promise<void> | void;
  /** Cuts one step's SSH session mid-script (fault test): the client is SIGKILLed, the TCP connection drops. */
  readonly cut?: CutHook;
  /** At most this many SSH sessions at once. @default - unlimited, like the Pulumi engine with default parallelism */
  readonly parallel?: number;
  /**
   * The in-process executor's bounds (overall, per host, hosts at once) through the same limiter HostStepRun uses;
   * among ready steps that must queue, the longest chain waiting on a step starts it first. A step's `ms` and
   * `startMs` count from when it got its slot (its wait is not its duration).
   * @default - no limiter
   */
  readonly limits?: ProvisioningLimits;
  /** Per-step timeout. @default 300000 */
  readonly stepTimeoutMs?: number;
}

/**
 * Runs a plan's steps over SSH — exactly the bundle Pulumi's command provider would send to `bash -s` — starting
 * each step as soon as every step it depends on has succeeded (delete: as soon as every step that depended on it
 * has been deleted). A failed step's dependents are skipped; independent steps go on.
 */
export async function executePlan(
  transport: StepTransport,
  plan: StepPlan,
  opts: ExecuteOptions = {},
): Promise<PlanRun> {
  const mode = opts.mode ?? "create";
  const selected = plan.steps.filter((s) => opts.only?.(s) ?? true);
  const ids = new Set(selected.map((s) => s.id));
  // edges: waitsFor[x] = steps x must wait for (within the selection)
  const waitsFor = new Map<string, Set<string>>();
  const unblocks = new Map<string, string[]>();
  for (const s of selected) waitsFor.set(s.id, new Set());
  for (const s of selected) {
    for (const d of s.dependsOn) {
      if (!ids.has(d)) continue;
      const [before, after] = mode === "create" ? [d, s.id] : [s.id, d];
      waitsFor.get(after)!.add(before);
      unblocks.set(before, [...(unblocks.get(before) ?? []), after]);
    }
  }
  const byId = new Map(selected.map((s) => [s.id, s]));
  const results = new Map<string, StepRun>();
  const skipped = new Set<string>();
  const limit = opts.parallel ?? Infinity;
  const limiter = opts.limits ? createStepLimiter() : undefined;
  const limits = opts.limits ? provisioningLimits(opts.limits) : undefined;
  const priority = mode === "create" ? stepPriorities(selected) : new Map<string, number>();
  const t0 = Date.now();
  let running = 0;
  const ready: string[] = selected.filter((s) => waitsFor.get(s.id)!.size === 0).map((s) => s.id);
  if (mode === "delete") ready.reverse();

  await new Promise<void>((resolveAll, rejectAll) => {
    const finish = (): void => {
      if (running === 0 && ready.length === 0) resolveAll();
    };
    const skip = (id: string): void => {
      for (const n of unblocks.get(id) ?? []) {
        if (!skipped.has(n)) {
          skipped.add(n);
          skip(n);
        }
      }
    };
    const pump = (): void => {
      while (running < limit && ready.length > 0) {
        const id = ready.shift()!;
        running++;
        runOne(byId.get(id)!)
          .then((r) => {
            results.set(id, r);
            running--;
            if (r.ok) {
              for (const n of unblocks.get(id) ?? []) {
                const w = waitsFor.get(n)!;
                w.delete(id);
                if (w.size === 0 && !skipped.has(n)) ready.push(n);
              }
            } else {
              skip(id);
            }
            pump();
            finish();
          })
          .catch(rejectAll);
      }
      finish();
    };
    const runOne = async (step: HostStep): Promise<StepRun> => {
      const release = limiter ? await limiter.acquire(step.host, limits!, priority.get(step.id) ?? 0) : undefined;
      try {
        return await runSlot(step);
      } finally {
        release?.();
      }
    };
    const runSlot = async (step: HostStep): Promise<StepRun> => {
      await opts.beforeStep?.(step);
      const bundle = mode === "create" ? renderStepBundle(step) : renderDeleteBundle(step);
      const [cmd, ...args] = transport.sshArgv(step.host);
      const startMs = Date.now() - t0;
      let cut = false;
      const hook = opts.cut?.stepId === step.id ? opts.cut : undefined;
      let timer: NodeJS.Timeout | undefined;
      const cutNow = (kill: () => void): void => {
        if (cut) return;
        cut = true;
        // remote first: once the connection drops, the session's bash is reparented and harder to find
        if ((hook?.remote ?? "kill") === "kill") transport.killSessions?.(step.host);
        kill();
      };
      const r: RunResult = await run(cmd, args, {
        stdin: bundle,
        timeoutMs: opts.stepTimeoutMs ?? 300_000,
        onSpawn: (kill) => {
          if (hook?.afterMs !== undefined) {
            timer = setTimeout(() => cutNow(kill), hook.afterMs);
          }
        },
        onOutput: (chunk, _stream, kill) => {
          if (hook?.onOutput?.test(chunk)) cutNow(kill);
        },
      });
      if (timer) clearTimeout(timer);
      const changed = parseChanged(r.stdout);
      const result: StepRun = {
        id: step.id,
        host: step.host,
        name: step.name,
        ok: r.code === 0 && changed !== undefined,
        code: r.code,
        signal: r.signal,
        changed,
        ms: r.ms,
        startMs,
        endMs: Date.now() - t0,
        stdout: r.stdout,
        stderr: r.stderr,
        cut,
      };
      await opts.afterStep?.(step, result);
      return result;
    };
    pump();
  });

  const order = mode === "create" ? selected : [...selected].reverse();
  const steps = order.map((s) => results.get(s.id)).filter((r): r is StepRun => r !== undefined);
  const failed = steps.filter((r) => !r.ok);
  return {
    mode,
    ok: failed.length === 0 && skipped.size === 0,
    wallMs: Date.now() - t0,
    steps,
    failed,
    skipped: [...skipped],
    changedSteps: steps.filter((r) => (r.changed ?? 0) > 0),
    durations: new Map(steps.map((r) => [r.id, r.ms])),
    get(id: string): StepRun {
      const r = results.get(id);
      if (!r) throw new Error(`step "${id}" did not run (${skipped.has(id) ? "skipped" : "not selected"})`);
      return r;
    },
  };
}

/** One line per failed step with the tail of its stderr: for test failure messages. */
export function describeFailures(r: PlanRun): string {
  const lines = r.failed.map(
    (f) =>
      `${f.id}: exit ${f.code ?? f.signal}${f.cut ? " (cut)" : ""}\n    ${f.stderr.trim().split("\n").slice(-12).join("\n    ")}`,
  );
  if (r.skipped.length) lines.push(`skipped: ${r.skipped.join(", ")}`);
  return lines.join("\n") || "no failures";
}
