/**
 * How many host steps may run at once: over every host, per host, and how many hosts may have one running.
 * Plain numbers (see `ProvisioningLimits` for the typed, validated, defaulted form).
 */
export interface StepLimits {
  readonly maxConcurrentSteps: number;
  readonly maxConcurrentHosts: number;
  readonly maxStepsPerHost: number;
}

/** Counts of what is running now and the highest counts seen since the limiter was made. */
export interface StepLimiterStats {
  readonly running: number;
  readonly activeHosts: number;
  readonly waiting: number;
  readonly maxRunning: number;
  readonly maxActiveHosts: number;
  readonly maxPerHost: number;
}

export interface StepLimiter {
  /**
   * Resolves, with the function that gives the slot back, once a step on `host` may start under `limits` (each
   * request carries its own: a request waits while any of its own bounds is reached). Among waiting requests that
   * fit, the highest `priority` starts first (e.g. the length of the longest chain of steps waiting on this one),
   * then the oldest. Releasing twice releases once.
   */
  acquire(host: string, limits: StepLimits, priority?: number): Promise<() => void>;
  stats(): StepLimiterStats;
}

/**
 * A counting limiter for host steps: at most `maxConcurrentSteps` steps at once, at most `maxStepsPerHost` on one
 * host, at most `maxConcurrentHosts` hosts with a step running; a request that does not fit waits without holding up
 * requests behind it that do fit (a busy host does not stall the others).
 *
 * Self-contained (no import, no class, every inner function declared before it is referenced): HostStepRun's dynamic
 * provider calls it, and Pulumi serializes the provider with every function it references into the provider process.
 */
export function createStepLimiter(): StepLimiter {
  const perHost = new Map<string, number>();
  let running = 0;
  let seq = 0;
  let maxRunning = 0;
  let maxActiveHosts = 0;
  let maxPerHost = 0;
  const queue: { host: string; limits: StepLimits; priority: number; seq: number; grant: () => void }[] = [];
  const fits = (host: string, l: StepLimits): boolean => {
    const onHost = perHost.get(host) ?? 0;
    return (
      running < l.maxConcurrentSteps &&
      onHost < l.maxStepsPerHost &&
      (onHost > 0 || perHost.size < l.maxConcurrentHosts)
    );
  };
  const pump = (): void => {
    for (let i = 0; i < queue.length;) {
      const w = queue[i]!;
      if (fits(w.host, w.limits)) {
        queue.splice(i, 1);
        w.grant();
      } else i++;
    }
  };
  const take = (host: string): (() => void) => {
    running++;
    const n = (perHost.get(host) ?? 0) + 1;
    perHost.set(host, n);
    maxRunning = Math.max(maxRunning, running);
    maxActiveHosts = Math.max(maxActiveHosts, perHost.size);
    maxPerHost = Math.max(maxPerHost, n);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      running--;
      const left = (perHost.get(host) ?? 1) - 1;
      if (left > 0) perHost.set(host, left);
      else perHost.delete(host);
      pump();
    };
  };
  return {
    acquire(host, limits, priority = 0) {
      return new Promise((resolve) => {
        const w = { host, limits, priority, seq: seq++, grant: () => resolve(take(host)) };
        // queued by priority (highest first), then arrival
        let at = queue.findIndex((q) => q.priority < w.priority);
        if (at < 0) at = queue.length;
        queue.splice(at, 0, w);
        pump();
      });
    },
    stats() {
      return {
        running,
        activeHosts: perHost.size,
        waiting: queue.length,
        maxRunning,
        maxActiveHosts,
        maxPerHost,
      };
    },
  };
}
