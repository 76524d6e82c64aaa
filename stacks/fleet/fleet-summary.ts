import type { FleetOperation } from "./fleet-sites";

/**
 * The part of an engine event the summary reads. The engine's event stream (`pulumi … --event-log`, the Automation
 * API's `onEvent`) carries these fields: pulumi/pulumi v3.259.0 sdk/go/common/apitype/events.go (EngineEvent,
 * ResourcePreEvent, DiagnosticEvent, SummaryEvent).
 */
export interface FleetEngineEvent {
  readonly resourcePreEvent?: { readonly metadata: { readonly op: string } };
  readonly diagnosticEvent?: { readonly message: string; readonly severity: string };
  readonly summaryEvent?: { readonly resourceChanges?: Readonly<Record<string, number>> };
}

export type SiteResult = "ok" | "failed";

/** What happened to one site. */
export interface SiteOutcome {
  readonly site: string;
  readonly operation: FleetOperation;
  readonly result: SiteResult;
  /**
   * Resources by the step the engine took (`create`, `update`, `delete`, `same`, `replace`, …): the engine's summary
   * event, or, when it stopped before one, its resource steps counted.
   */
  readonly changes: Readonly<Record<string, number>>;
  /** From selecting the stack to the end of the operation. */
  readonly durationMs: number;
  /** The first line that says what went wrong; the site's secret values replaced by `[secret]`. */
  readonly error?: string;
}

export interface SiteOutcomeInput {
  readonly site: string;
  readonly operation: FleetOperation;
  readonly events: readonly FleetEngineEvent[];
  readonly durationMs: number;
  /** What the operation threw, if it failed. */
  readonly failure?: unknown;
  /** Values never to print (the secret config the fleet set on the site's stack). */
  readonly secrets?: readonly string[];
}

/** One site's outcome from its engine events. */
export function siteOutcome(input: SiteOutcomeInput): SiteOutcome {
  const summary = [...input.events].reverse().find((e) => e.summaryEvent)?.summaryEvent;
  const changes: Record<string, number> = {};
  if (summary?.resourceChanges) {
    for (const [op, n] of Object.entries(summary.resourceChanges)) if (n > 0) changes[op] = n;
  } else {
    for (const e of input.events) {
      const op = e.resourcePreEvent?.metadata.op;
      if (op !== undefined) changes[op] = (changes[op] ?? 0) + 1;
    }
  }
  const base = { site: input.site, operation: input.operation, changes, durationMs: input.durationMs };
  if (input.failure === undefined) return { ...base, result: "ok" };
  return { ...base, result: "failed", error: redact(firstErrorLine(input.events, input.failure), input.secrets ?? []) };
}

// the Node.js SDK's wrapper line around a program's exception (@pulumi/pulumi 3.270.0 cmd/run/run.ts:
// "Running program '…' failed with an unhandled exception:")
const WRAPPER = /^Running program .* failed with an unhandled exception:?$/;

/**
 * The first line that says what went wrong: the engine's first error diagnostic (its wrapper line and Node's
 * `<ref *1>` marker dropped), else the first `error:` line of what the command printed, else the error's first line.
 */
export function firstErrorLine(events: readonly FleetEngineEvent[], failure: unknown): string {
  for (const e of events) {
    const d = e.diagnosticEvent;
    if (d?.severity !== "error") continue;
    const line = meaningfulLine(d.message);
    if (line !== undefined) return line;
  }
  const text = failure instanceof Error ? failure.message : String(failure);
  const lines = text.split("\n").map((l) => l.trim());
  const err = lines.find((l) => /^error: /.test(l));
  if (err !== undefined) return err.slice("error: ".length);
  return meaningfulLine(text) ?? "failed";
}

function meaningfulLine(message: string): string | undefined {
  return message
    .split("\n")
    .map((l) => l.trim().replace(/^<ref \*\d+> /, ""))
    .find((l) => l !== "" && !WRAPPER.test(l));
}

/** Replaces every secret value, and every line of a multi-line one (a key's lines), by `[secret]`. */
export function redact(text: string, secrets: readonly string[]): string {
  const needles = new Set<string>();
  for (const s of secrets) {
    if (s.trim().length >= 4) needles.add(s.trim());
    for (const l of s.split("\n")) if (l.trim().length >= 8) needles.add(l.trim());
  }
  let out = text;
  // longest first, so a whole value goes before one of its lines
  for (const n of [...needles].sort((a, b) => b.length - a.length)) out = out.split(n).join("[secret]");
  return out;
}

/** A fleet run: every site's outcome, totals, and the wall time against the sum of the sites' durations. */
export interface FleetSummary {
  readonly operation: FleetOperation;
  readonly parallel: number;
  readonly sites: readonly SiteOutcome[];
  readonly ok: number;
  readonly failed: number;
  /** Resources by step, over every site. */
  readonly changes: Readonly<Record<string, number>>;
  /** From the first site's start to the last site's end. */
  readonly wallMs: number;
  /** The sites' durations added up: what running them one after another would take. */
  readonly sumMs: number;
  /**
   * sumMs / wallMs: how many sites ran at once on average — the speed-up over one site at a time if running together
   * slowed no site down. Sites sharing the same cores do slow each other: `npm run bench:fleet` measures the real
   * speed-up (the wall time at parallel 1 over that at parallel P).
   */
  readonly speedup: number;
}

export function fleetSummary(
  operation: FleetOperation,
  parallel: number,
  sites: readonly SiteOutcome[],
  wallMs: number,
): FleetSummary {
  const changes: Record<string, number> = {};
  for (const s of sites) for (const [op, n] of Object.entries(s.changes)) changes[op] = (changes[op] ?? 0) + n;
  const sumMs = sites.reduce((t, s) => t + s.durationMs, 0);
  return {
    operation,
    parallel,
    sites,
    ok: sites.filter((s) => s.result === "ok").length,
    failed: sites.filter((s) => s.result === "failed").length,
    changes,
    wallMs,
    sumMs,
    speedup: wallMs > 0 ? sumMs / wallMs : 0,
  };
}

/** The ops shown as columns; every other op (read, import, discard, …) is added up under `other`. */
const COLUMNS = ["create", "update", "replace", "delete", "same"] as const;

/** The printed summary: one row per site, the totals, the parallel speed-up. */
export function renderFleetSummary(s: FleetSummary): string {
  const count = (c: Readonly<Record<string, number>>, op: string): number =>
    op === "other"
      ? Object.entries(c)
          .filter(([k]) => !(COLUMNS as readonly string[]).includes(k))
          .reduce((t, [, n]) => t + n, 0)
      : (c[op] ?? 0);
  const ops = [...COLUMNS, "other"];
  const head = ["site", "operation", "result", ...ops, "duration", "error"];
  const rows = s.sites.map((o) => [
    o.site,
    o.operation,
    o.result,
    ...ops.map((op) => String(count(o.changes, op))),
    seconds(o.durationMs),
    o.error ?? "",
  ]);
  const numeric = new Set(ops.map((_, i) => i + 3).concat([ops.length + 3]));
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: readonly string[]): string =>
    `  ${r.map((c, i) => (numeric.has(i) ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join("  ")}`.trimEnd();
  const total = ops.map((op) => `${count(s.changes, op)} ${op}`).join(", ");
  return [
    `fleet ${s.operation}: ${s.sites.length} site${s.sites.length === 1 ? "" : "s"}, parallel ${s.parallel}`,
    "",
    fmt(head),
    fmt(width.map((w) => "-".repeat(w))),
    ...rows.map(fmt),
    "",
    `  ${s.ok} ok, ${s.failed} failed; resources: ${total}`,
    `  wall ${seconds(s.wallMs)}, sites added up ${seconds(s.sumMs)}: ${s.speedup.toFixed(2)}× (sites running on average; at most ${s.parallel})`,
  ].join("\n");
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
