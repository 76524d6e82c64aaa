import { resolve } from "path";
import { parseArgs as parseArgv } from "util";
import { ValidationError } from "../lib/validation/issues";
import { Environment, environmentFile, loadEnvironment } from "../stacks/environment";
import { secretEnvVar, synthSecretResolver } from "../stacks/secret-refs";
import { SynthOutput, synthesize } from "../stacks/synth";
import { DistSummary, writeDist } from "../stacks/write-dist";
import { FleetCliIo, runFleetCli } from "./fleet-command";

/** Where the CLI writes: injectable so tests run it in-process. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** @default process.cwd() */
  readonly cwd?: string;
  /** What `fleet` runs with (tests and benchmarks). @default - the Automation API, `pulumi` on PATH */
  readonly fleet?: Pick<FleetCliIo, "run" | "defaults">;
}

export const USAGE = `usage: edgecloud <command> [options]

commands:
  synth      render an environment into <out>/<env>/: host scripts, manifests, topology.svg, and print a summary
  validate   check an environment's configuration only; print every problem at once
  fleet      preview, up, refresh or destroy many sites (one stack each) in parallel: edgecloud fleet --help

options:
  --env <name>       a bundled environment (environments/<name>.yaml)            [default: default]
  --config <file>    an environment file of your own (YAML or JSON)
  --out <dir>        output root for synth                                        [default: dist]
  --placeholders     synth with fixed placeholder secrets instead of generated ones (reviewable, reproducible)
  -q, --quiet        no progress lines
  -h, --help         this text

synth and validate connect to no host or cluster and need no Pulumi CLI; fleet runs the Pulumi CLI.`;

/** Exit codes: 0 success, 1 invalid configuration, 2 usage error, 3 unexpected failure. */
export const EXIT = { ok: 0, invalid: 1, usage: 2, failure: 3 } as const;

interface Args {
  command?: string;
  env?: string;
  config?: string;
  out: string;
  placeholders: boolean;
  quiet: boolean;
  help: boolean;
}

class UsageError extends Error {}

const OPTIONS = {
  env: { type: "string" },
  config: { type: "string" },
  out: { type: "string", default: "dist" },
  placeholders: { type: "boolean", default: false },
  quiet: { type: "boolean", short: "q", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** node:util's parseArgs, non-strict so that every problem gets this CLI's own wording from its tokens. */
function parseArgs(argv: readonly string[]): Args {
  const { values, positionals, tokens } = parseArgv({
    args: [...argv],
    options: OPTIONS,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  for (const t of tokens) {
    if (t.kind !== "option") continue;
    const known = (OPTIONS as Record<string, { type: string }>)[t.name];
    if (!known) throw new UsageError(`unknown option ${t.rawName}`);
    if (known.type === "string" && (t.value === undefined || (t.inlineValue === false && t.value.startsWith("-"))))
      throw new UsageError(`${t.rawName} needs a value`);
    if (known.type === "boolean" && t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${positionals[1]}`);
  if (values.env !== undefined && values.config !== undefined)
    throw new UsageError("give either --env or --config, not both");
  return {
    command: positionals[0],
    env: values.env as string | undefined,
    config: values.config as string | undefined,
    out: values.out as string,
    placeholders: values.placeholders === true,
    quiet: values.quiet === true,
    help: values.help === true,
  };
}

/** Runs the CLI; returns the exit code (never calls process.exit). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // fleet has options of its own (bin/fleet-command.ts)
  if (argv[0] === "fleet") return runFleetCli(argv.slice(1), { ...io, ...io.fleet });
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`edgecloud: ${e.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (args.help || args.command === undefined) {
    (args.help ? io.out : io.err)(USAGE);
    return args.help ? EXIT.ok : EXIT.usage;
  }
  if (args.command !== "synth" && args.command !== "validate") {
    io.err(`edgecloud: unknown command "${args.command}"; expected synth, validate or fleet\n\n${USAGE}`);
    return EXIT.usage;
  }
  const cwd = io.cwd ?? process.cwd();
  const progress = args.quiet ? () => undefined : (m: string) => io.err(`  · ${m}`);
  const started = Date.now();
  try {
    const file = args.config !== undefined ? resolve(cwd, args.config) : environmentFile(args.env ?? "default");
    progress(`reading ${file}`);
    const kind = args.placeholders || args.command === "validate" ? "placeholder" : "generated";
    const generated: string[] = [];
    const env = loadEnvironment(file, { secrets: synthSecretResolver(kind, generated) });
    if (args.command === "validate") {
      io.out(`${file}: environment "${env.name}" is valid (${env.hosts.length} hosts)`);
      return EXIT.ok;
    }
    const out = await synthesize(env, { material: kind, onProgress: progress });
    const notes = generated.map((n) => `secret "${n}" was generated for this run; set ${secretEnvVar(n)} to choose it`);
    const dir = resolve(cwd, args.out, env.name);
    progress(`writing ${dir}`);
    const dist = writeDist(out, dir);
    io.out(summary(env, { ...out, notes: [...notes, ...out.notes] }, dist, Date.now() - started));
    return EXIT.ok;
  } catch (e) {
    if (e instanceof ValidationError) {
      io.err(`edgecloud ${args.command}: ${e.message}`);
      return EXIT.invalid;
    }
    io.err(`edgecloud ${args.command}: failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return EXIT.failure;
  }
}

/** The printed summary: hosts × steps, objects per component, where it went. */
export function summary(env: Environment, out: SynthOutput, dist: DistSummary, ms: number): string {
  const rows = env.hosts.map((h) => {
    const steps = out.hosts[h.name] ?? [];
    return [
      h.name,
      h.roles.join(","),
      `${h.os}/${h.arch}`,
      String(steps.length),
      String(steps.reduce((n, s) => n + s.files.length, 0)),
    ];
  });
  const lines = [
    `environment "${env.name}" → ${dist.dir}`,
    "",
    ...table(["host", "roles", "os/arch", "steps", "files"], rows),
  ];
  lines.push(
    `  ${out.plan.steps.length} steps on ${env.hosts.length} hosts, ${dist.files} files (${dist.secretFiles} secret)`,
    "",
  );
  const comps = Object.entries(dist.manifests);
  if (comps.length > 0) {
    lines.push(
      ...table(
        ["component", "objects"],
        comps.map(([c, n]) => [c, String(n)]),
      ),
    );
    lines.push(`  ${comps.reduce((n, [, k]) => n + k, 0)} objects, valid against Kubernetes v1.32 (strict)`, "");
  }
  const dirs = [...new Set(dist.artifacts.map((a) => a.slice(0, a.lastIndexOf("/") + 1)))];
  for (const d of dirs) {
    const names = dist.artifacts.filter((a) => a.startsWith(d) && !a.slice(d.length).includes("/"));
    lines.push(`${d}: ${names.map((a) => a.slice(d.length)).join(", ")}`);
  }
  if (dirs.length > 0) lines.push("");
  for (const n of out.notes) lines.push(`note: ${n}`);
  lines.push(`topology: ${dist.dir}/topology.svg`, `done in ${(ms / 1000).toFixed(1)} s`);
  return lines.join("\n");
}

function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    `  ${r.map((c, i) => (/^\d+$/.test(c) || (i > 0 && /^(steps|files|objects)$/.test(c)) ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join("  ")}`.trimEnd();
  return [fmt(head), fmt(w.map((n) => "-".repeat(n))), ...rows.map(fmt)];
}
