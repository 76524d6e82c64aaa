import { CHANGED_MARKER, renderDeleteBundle, renderStepBundle } from "./bundle";
import { HostStep } from "./host-step";
import { STEP_PRELUDE } from "./prelude";
import { shellQuote } from "./sh";

/**
 * How host steps become resources. `"per-step"`: one resource per step (the default, and what every stack made before
 * this option has). `"per-host-chain"`: the consecutive steps of one host that only wait on each other become one
 * resource that runs them in order — a fleet of agents needs 2 resources per host instead of 5, and a preview's cost
 * is per resource (see docs/provisioning.md, "Large fleets").
 */
export type StepResources = "per-step" | "per-host-chain";

/** Steps run as one resource: consecutive steps of one host, each waiting on the one before. */
export interface StepChain {
  /** The first member's id. */
  readonly id: string;
  readonly host: string;
  /** In run order; one member in `"per-step"` mode. */
  readonly members: readonly HostStep[];
  /** What the chain waits for: its members' dependencies outside the chain (step ids), first seen first. */
  readonly dependsOn: readonly string[];
}

/**
 * Groups `ordered` (a plan order: every dependency among these steps before its dependents) into chains. Step `s`
 * joins the chain its host has open when
 * `s` waits on the chain's last step and nothing else among these steps waits on that last step. `s`'s other
 * dependencies are hoisted: the chain starts when all its members' dependencies are done. That cannot make a cycle:
 * every member but the last has one dependent, the member after it, and the last has none yet, so no step outside
 * the chain waits on it and none of the hoisted dependencies can wait on it either. A dependent that joins later
 * waits on the chain's whole run.
 * The chains come in an order where each follows every chain it waits on. `"per-step"` makes one chain per step, in
 * order, with the step's own dependencies.
 */
export function groupStepChains(ordered: readonly HostStep[], mode: StepResources): StepChain[] {
  if (mode === "per-step")
    return ordered.map((s) => ({ id: s.id, host: s.host, members: [s], dependsOn: s.dependsOn }));
  const inside = new Set(ordered.map((s) => s.id));
  const dependents = new Map<string, number>();
  for (const s of ordered) for (const d of s.dependsOn) dependents.set(d, (dependents.get(d) ?? 0) + 1);
  interface Open {
    readonly id: string;
    readonly host: string;
    readonly members: HostStep[];
    readonly deps: Set<string>;
    /** The chains this one waits on (among these steps), for the order of the result. */
    readonly waitsOn: Set<Open>;
  }
  const chains: Open[] = [];
  const chainOf = new Map<string, Open>();
  const open = new Map<string, Open>();
  for (const s of ordered) {
    const c = open.get(s.host);
    const last = c?.members[c.members.length - 1];
    const joins =
      c !== undefined && last !== undefined && s.dependsOn.includes(last.id) && dependents.get(last.id) === 1;
    if (joins) {
      c.members.push(s);
      chainOf.set(s.id, c);
      for (const d of s.dependsOn) {
        if (chainOf.get(d) === c) continue;
        c.deps.add(d);
        if (inside.has(d)) c.waitsOn.add(chainOf.get(d)!);
      }
      continue;
    }
    const chain: Open = { id: s.id, host: s.host, members: [s], deps: new Set(s.dependsOn), waitsOn: new Set() };
    for (const d of s.dependsOn) if (inside.has(d)) chain.waitsOn.add(chainOf.get(d)!);
    chains.push(chain);
    chainOf.set(s.id, chain);
    open.set(s.host, chain);
  }
  // every chain after the chains it waits on (a later member may have added a chain opened after this one)
  const sorted: Open[] = [];
  const placed = new Set<Open>();
  const place = (c: Open): void => {
    if (placed.has(c)) return;
    placed.add(c);
    for (const w of c.waitsOn) place(w);
    sorted.push(c);
  };
  chains.forEach(place);
  return sorted.map((c) => ({ id: c.id, host: c.host, members: c.members, dependsOn: [...c.deps] }));
}

/** The chain's resource name part: the step's name alone, or `<first>--<last>` for a chain of several. */
export function chainName(chain: StepChain): string {
  const first = chain.members[0]!;
  const last = chain.members[chain.members.length - 1]!;
  return chain.members.length === 1 ? first.name : `${first.name}--${last.name}`;
}

/**
 * The program that runs a chain's member programs in order, each from a 0600 file in a private temporary directory
 * with stdin from /dev/null (as `bash -s` would run it alone), stopping at the first that fails with its exit code.
 * The prelude is written there once and each member sources it where its own program has it inline.
 * Each member's stdout follows an `edgecloud-chain-step: <id>` line; the last line is the chain's changed count, the
 * sum of its members'. A chain of one is the member's own program, unchanged.
 */
export function renderChainBundle(members: readonly HostStep[]): string {
  if (members.length === 1) return renderStepBundle(members[0]!);
  return chainRunner(
    members,
    "step",
    members.map((m) => renderStepBundle(m, SOURCE_PRELUDE)),
  );
}

/** The inverse: the members' delete programs in reverse order, run the same way. */
export function renderChainDeleteBundle(members: readonly HostStep[]): string {
  if (members.length === 1) return renderDeleteBundle(members[0]!);
  const reversed = [...members].reverse();
  return chainRunner(
    reversed,
    "delete",
    reversed.map((m) => renderDeleteBundle(m, SOURCE_PRELUDE)),
  );
}

/** In a chain each member program sources the prelude the chain wrote once (its text, not a host file). */
const SOURCE_PRELUDE = '. "$EC_CHAIN_PRELUDE"';

/** The line before each member's stdout in a chain's stdout. */
export const CHAIN_STEP_MARKER = "edgecloud-chain-step: ";

function chainRunner(members: readonly HostStep[], what: "step" | "delete", programs: readonly string[]): string {
  const host = members[0]!.host;
  const delimiter = (i: number) => `EC_CHAIN_${what.toUpperCase()}_${i}_EOF`;
  programs.forEach((p, i) => {
    // the member programs go in verbatim (no base64: a chain's bundle is no larger than its members'), so the
    // delimiter must not be a line of any of them
    if (p.split("\n").includes(delimiter(i)))
      throw new Error(`step "${members[i]!.id}": its program contains the line ${delimiter(i)}`);
  });
  return [
    "#!/usr/bin/env bash",
    `# edgecloud chain ${what} ${host}: ${members.map((m) => m.name).join(" ")} (${[...new Set(members.map((m) => m.component))].join(", ")})`,
    "set -euo pipefail",
    "umask 077",
    "ec_chain_dir=$(mktemp -d)",
    "trap 'rm -rf \"$ec_chain_dir\"' EXIT",
    'export EC_CHAIN_PRELUDE="$ec_chain_dir/prelude"',
    `cat >"$EC_CHAIN_PRELUDE" <<'EC_CHAIN_PRELUDE_EOF'`,
    STEP_PRELUDE.replace(/\n$/, ""),
    "EC_CHAIN_PRELUDE_EOF",
    "ec_chain_changed=0",
    // $1: the member's id (a fixed word of this program); the member's program on stdin
    "ec_chain_run() {",
    '  cat >"$ec_chain_dir/program"',
    `  echo "${CHAIN_STEP_MARKER}$1"`,
    "  local rc=0",
    '  bash "$ec_chain_dir/program" </dev/null >"$ec_chain_dir/out" || rc=$?',
    '  cat "$ec_chain_dir/out"',
    '  if [ "$rc" != 0 ]; then echo "edgecloud: chain: $1 failed (exit $rc)" >&2; exit "$rc"; fi',
    `  local n; n=$(sed -n 's/^${CHANGED_MARKER}\\([0-9][0-9]*\\)$/\\1/p' "$ec_chain_dir/out" | tail -n 1)`,
    "  ec_chain_changed=$((ec_chain_changed + ${n:-0}))",
    "}",
    ...programs.map(
      (p, i) =>
        `ec_chain_run ${shellQuote(members[i]!.id)} <<'${delimiter(i)}'\n${p.replace(/\n$/, "")}\n${delimiter(i)}`,
    ),
    `echo "${CHANGED_MARKER}$ec_chain_changed"`,
    "",
  ].join("\n");
}
