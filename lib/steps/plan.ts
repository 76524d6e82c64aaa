import { HostStep } from "./host-step";

/** An ordered, validated set of host steps: every dependency exists and there is no cycle. */
export interface StepPlan {
  readonly steps: readonly HostStep[];
}

/** Validates ids and dependencies and returns the steps in a dependency-respecting order (stable). */
export function makePlan(steps: readonly HostStep[]): StepPlan {
  const byId = new Map<string, HostStep>();
  for (const s of steps) {
    if (byId.has(s.id)) throw new Error(`step "${s.id}" is defined twice; step ids (host/name) must be unique`);
    byId.set(s.id, s);
  }
  for (const s of steps) {
    for (const d of s.dependsOn) {
      if (!byId.has(d)) throw new Error(`step "${s.id}" depends on "${d}", which is not in the plan`);
    }
  }
  return { steps: topoSort(steps, byId) };
}

function topoSort(steps: readonly HostStep[], byId: Map<string, HostStep>): HostStep[] {
  const out: HostStep[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (s: HostStep, path: string[]): void => {
    const st = state.get(s.id);
    if (st === "done") return;
    if (st === "visiting") throw new Error(`step dependency cycle: ${[...path, s.id].join(" -> ")}`);
    state.set(s.id, "visiting");
    for (const d of s.dependsOn) visit(byId.get(d)!, [...path, s.id]);
    state.set(s.id, "done");
    out.push(s);
  };
  for (const s of steps) visit(s, []);
  return out;
}

/** Steps grouped into waves: every step of wave n depends only on steps of earlier waves. */
export function planWaves(plan: StepPlan): HostStep[][] {
  const level = new Map<string, number>();
  const waves: HostStep[][] = [];
  for (const s of plan.steps) {
    const l = s.dependsOn.reduce((m, d) => Math.max(m, (level.get(d) ?? 0) + 1), 0);
    level.set(s.id, l);
    (waves[l] ??= []).push(s);
  }
  return waves;
}

/** The longest dependency chain, weighted by each step's measured duration (ms). */
export function criticalPath(plan: StepPlan, durationMs: ReadonlyMap<string, number>): { ms: number; ids: string[] } {
  const best = new Map<string, { ms: number; ids: string[] }>();
  for (const s of plan.steps) {
    const own = durationMs.get(s.id) ?? 0;
    let prev = { ms: 0, ids: [] as string[] };
    for (const d of s.dependsOn) {
      const b = best.get(d)!;
      if (b.ms > prev.ms) prev = b;
    }
    best.set(s.id, { ms: prev.ms + own, ids: [...prev.ids, s.id] });
  }
  let top = { ms: 0, ids: [] as string[] };
  for (const b of best.values()) if (b.ms > top.ms) top = b;
  return top;
}

/** Steps on one host, in plan order. */
export function stepsForHost(plan: StepPlan, host: string): HostStep[] {
  return plan.steps.filter((s) => s.host === host);
}

/** The plan for deletion: inverse order, each step waiting for the steps that depended on it. */
export function deleteOrder(plan: StepPlan): HostStep[] {
  return [...plan.steps].reverse();
}
