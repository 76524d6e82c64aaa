import { z } from "zod";
import { IssueCollector, parseInto } from "../validation/issues";
import { HostStep } from "./host-step";
import type { StepLimits } from "./step-limiter";
import type { StepResources } from "./step-chains";

/**
 * How many host steps run at once (the in-process executor and the lab's executor enforce it; the command executor
 * is bounded by the engine alone: `pulumi up --parallel N`, see docs/provisioning.md).
 */
export interface ProvisioningLimits {
  /**
   * SSH sessions running host steps at once, over every host of the stack.
   * @default 32
   */
  readonly maxConcurrentSteps?: number;
  /**
   * Hosts with at least one step running at once.
   * @default - maxConcurrentSteps
   */
  readonly maxConcurrentHosts?: number;
  /**
   * Steps running at once on one host (steps a host's plan does not order run side by side up to this many). Keep it
   * under sshd's MaxStartups: past 10 connections not yet authenticated sshd drops 30 % of new ones, rising to all
   * at 100 (sshd_config(5) of OpenSSH 9.2p1, Debian 12's openssh-server: "The default is 10:30:100"); every session
   * through one jump host counts against the jump host's.
   * @default 4
   */
  readonly maxStepsPerHost?: number;
  /**
   * One resource per host step, or one per chain of a host's consecutive steps that only wait on each other
   * (`groupStepChains`): at 1,000 agents a preview registers 2,000 resources instead of 5,000. Choose it when the stack
   * is created: changing it on a stack that exists replaces every host step's resource, which runs each old step's
   * delete program (an uninstall) before the new chains run again.
   * @default "per-step"
   */
  readonly stepResources?: StepResources;
}

export const PROVISIONING_DEFAULTS = { maxConcurrentSteps: 32, maxStepsPerHost: 4 } as const;

/** The largest bound accepted (a typo guard: 10,000 sessions at once is no bound). */
export const PROVISIONING_MAX = 4096;

const bound = z
  .number()
  .min(1)
  .max(PROVISIONING_MAX)
  .refine((n) => Number.isInteger(n), "must be a whole number");

export const ProvisioningLimitsSchema = z.strictObject({
  maxConcurrentSteps: bound.optional(),
  maxConcurrentHosts: bound.optional(),
  maxStepsPerHost: bound.optional(),
  stepResources: z.enum(["per-step", "per-host-chain"]).optional(),
});

/**
 * Validates `input` (a `provisioning` field) and returns its limits with every default applied; records each problem
 * under `path` and returns undefined when there is one.
 */
export function parseProvisioningLimits(
  input: unknown,
  issues: IssueCollector,
  path = "provisioning",
): StepLimits | undefined {
  const p = parseInto(ProvisioningLimitsSchema, input ?? {}, issues, path);
  if (!p) return undefined;
  const steps = p.maxConcurrentSteps ?? PROVISIONING_DEFAULTS.maxConcurrentSteps;
  const limits: StepLimits = {
    maxConcurrentSteps: steps,
    maxConcurrentHosts: p.maxConcurrentHosts ?? steps,
    maxStepsPerHost: p.maxStepsPerHost ?? Math.min(PROVISIONING_DEFAULTS.maxStepsPerHost, steps),
  };
  let ok = true;
  for (const k of ["maxConcurrentHosts", "maxStepsPerHost"] as const) {
    if (p[k] !== undefined && p[k] > steps) {
      issues.add(
        `${path}.${k}`,
        p[k],
        `is more than maxConcurrentSteps (${steps}${p.maxConcurrentSteps === undefined ? ", the default" : ""}): no more than ${steps} steps run at once; raise maxConcurrentSteps or lower ${k}`,
      );
      ok = false;
    }
  }
  return ok ? limits : undefined;
}

/** `parseProvisioningLimits` that throws a ValidationError naming every problem. */
export function provisioningLimits(input: unknown, path = "provisioning"): StepLimits {
  const issues = new IssueCollector();
  const limits = parseProvisioningLimits(input, issues, path);
  issues.throwIfAny("invalid provisioning limits");
  return limits!;
}

/**
 * Per step, the number of steps on the longest chain that waits on it (0 for a step nothing waits on), over the
 * dependencies among `steps`: a limiter that starts the highest first keeps the critical path moving when it has to
 * queue.
 */
export function stepPriorities(steps: readonly HostStep[]): Map<string, number> {
  const ids = new Set(steps.map((s) => s.id));
  const dependents = new Map<string, string[]>();
  for (const s of steps)
    for (const d of s.dependsOn) if (ids.has(d)) dependents.set(d, [...(dependents.get(d) ?? []), s.id]);
  const memo = new Map<string, number>();
  const depth = (id: string): number => {
    const m = memo.get(id);
    if (m !== undefined) return m;
    let best = 0;
    for (const n of dependents.get(id) ?? []) best = Math.max(best, depth(n) + 1);
    memo.set(id, best);
    return best;
  };
  return new Map(steps.map((s) => [s.id, depth(s.id)]));
}

/**
 * Tracks the waves of a set of steps (wave n: the longest chain of dependencies among these steps leading to it has
 * n steps) and says, when a step finishes, whether its wave is now complete. Only ids, names and counts: never a
 * script or a file.
 */
export class WaveProgress {
  private readonly waveOf = new Map<string, number>();
  private readonly left: number[] = [];
  private readonly size: number[] = [];
  private readonly hosts: Set<string>[] = [];
  private readonly changed: number[] = [];
  private readonly counted: boolean[] = [];
  private done = 0;
  readonly total: number;

  constructor(steps: readonly HostStep[]) {
    const ids = new Set(steps.map((s) => s.id));
    const byId = new Map(steps.map((s) => [s.id, s]));
    const level = (id: string, path: Set<string> = new Set()): number => {
      const known = this.waveOf.get(id);
      if (known !== undefined) return known;
      if (path.has(id)) throw new Error(`step dependency cycle through "${id}"`);
      path.add(id);
      const s = byId.get(id)!;
      const l = s.dependsOn.filter((d) => ids.has(d)).reduce((m, d) => Math.max(m, level(d, path) + 1), 0);
      path.delete(id);
      this.waveOf.set(id, l);
      return l;
    };
    for (const s of steps) {
      const l = level(s.id);
      this.size[l] = (this.size[l] ?? 0) + 1;
      this.left[l] = (this.left[l] ?? 0) + 1;
      (this.hosts[l] ??= new Set()).add(s.host);
      this.changed[l] ??= 0;
    }
    this.total = steps.length;
  }

  get waves(): number {
    return this.size.length;
  }

  /**
   * Records that step `id` finished (with its `changed=N` count when known); returns the summary line of its wave
   * when that was the wave's last step, e.g. `wave 2/4 done: 33 steps on 33 hosts, 30 changed; 39 of 80 steps done`
   * (", N changed" only when some step of the wave reported its count).
   */
  finished(id: string, changed?: number): string | undefined {
    const w = this.waveOf.get(id);
    if (w === undefined) return undefined;
    this.done++;
    if (changed !== undefined) this.counted[w] = true;
    if ((changed ?? 0) > 0) this.changed[w]!++;
    if (--this.left[w]! > 0) return undefined;
    const n = this.size[w]!;
    const h = this.hosts[w]!.size;
    return (
      `wave ${w + 1}/${this.waves} done: ${n} step${n === 1 ? "" : "s"} on ${h} host${h === 1 ? "" : "s"}` +
      `${this.counted[w] ? `, ${this.changed[w]} changed` : ""}; ${this.done} of ${this.total} steps done`
    );
  }
}
