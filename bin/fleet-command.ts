import { existsSync } from "fs";
import { join, resolve } from "path";
import { parseArgs } from "util";
import { ValidationError, ValidationIssue } from "../lib/validation/issues";
import {
  FLEET_OPERATIONS,
  FLEET_PARALLEL,
  FleetOperation,
  fleetConfig,
  fleetParallel,
  fleetSecretFiles,
  resolveFleetSites,
  validateSiteEnvironments,
} from "../stacks/fleet/fleet-sites";
import type { FleetOptions } from "../stacks/fleet/run-fleet";
import type { FleetSummary } from "../stacks/fleet/fleet-summary";
import { renderFleetSummary } from "../stacks/fleet/fleet-summary";

export const FLEET_USAGE = `usage: edgecloud fleet <${FLEET_OPERATIONS.join("|")}> --sites <sites> [options]

Runs one Pulumi operation over many sites, each site its own stack of this project, at most --parallel at once
(the Pulumi Automation API over ./Pulumi.yaml); a failing site does not stop the others. Prints a summary per site.

options:
  --sites <sites>            comma-separated: bundled environment names (multi-site-*), environment files, or a
                             directory of environment files (one site per file, the stack named after the file)
  --parallel <n>             sites at once, ${FLEET_PARALLEL.min} to ${FLEET_PARALLEL.max}                                  [default: ${FLEET_PARALLEL.default}]
  --config <key=value>       plain stack config set on every site (repeatable), e.g. edgecloud:executor=in-process
  --secret-file <key=file>   secret stack config read from a file, {site} = the site's name (repeatable), e.g.
                             edgecloud:rancherManifestUrl=secrets/{site}.url; passed to pulumi on stdin
  --work-dir <dir>           the folder of this project's Pulumi.yaml                         [default: .]
  --log-dir <dir>            keep each site's engine output in <dir>/<site>.log
  --json                     print the summary as JSON
  --yes                      required by up and destroy (they change real hosts)
  -q, --quiet                no progress lines
  -h, --help                 this text

Exit codes: 0 every site succeeded, 1 invalid input (nothing ran), 2 usage error, 3 unexpected failure,
4 at least one site failed.`;

/** Exit codes of `edgecloud fleet` (those of the CLI, plus 4). */
export const FLEET_EXIT = { ok: 0, invalid: 1, usage: 2, failure: 3, sitesFailed: 4 } as const;

export interface FleetCliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** @default process.cwd() */
  readonly cwd?: string;
  /** Runs the fleet: tests and benchmarks inject the Pulumi CLI's location and a throw-away backend here. */
  readonly run?: (opts: FleetOptions) => Promise<FleetSummary>;
  /** Over FleetOptions (envVars, pulumiRoot). @default - none */
  readonly defaults?: Partial<Pick<FleetOptions, "envVars" | "pulumiRoot">>;
}

const OPTIONS = {
  sites: { type: "string" },
  parallel: { type: "string" },
  config: { type: "string", multiple: true },
  "secret-file": { type: "string", multiple: true },
  "work-dir": { type: "string" },
  "log-dir": { type: "string" },
  json: { type: "boolean", default: false },
  yes: { type: "boolean", default: false },
  quiet: { type: "boolean", short: "q", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

class UsageError extends Error {}

/** The validated inputs of a fleet run, or every problem with them. */
export function fleetInputs(argv: readonly string[], cwd: string): FleetInputs {
  const { values, positionals, tokens } = parseArgs({
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
  if (values.help === true) return { help: true };
  const operation = positionals[0];
  if (operation === undefined) throw new UsageError(`give an operation: ${FLEET_OPERATIONS.join(", ")}`);
  if (!(FLEET_OPERATIONS as readonly string[]).includes(operation))
    throw new UsageError(`unknown operation "${operation}"; expected ${FLEET_OPERATIONS.join(", ")}`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${positionals[1]}`);
  if (values.sites === undefined) throw new UsageError("--sites is required");
  const op = operation as FleetOperation;
  if ((op === "up" || op === "destroy") && values.yes !== true)
    throw new UsageError(`fleet ${op} changes real hosts on every site: add --yes`);

  const issues: ValidationIssue[] = [];
  const workDir = resolve(cwd, (values["work-dir"] as string | undefined) ?? ".");
  if (!existsSync(join(workDir, "Pulumi.yaml")))
    issues.push({
      path: "--work-dir",
      value: workDir,
      message: "has no Pulumi.yaml: run in the folder of this project's Pulumi.yaml or give --work-dir",
    });
  const { sites, issues: siteIssues } = resolveFleetSites(values.sites as string, { cwd });
  issues.push(...siteIssues);
  const { parallel, issues: parallelIssues } = fleetParallel(values.parallel as string | undefined);
  issues.push(...parallelIssues);
  const { config, issues: configIssues } = fleetConfig((values.config as string[] | undefined) ?? []);
  issues.push(...configIssues);
  const { secretFiles, issues: secretIssues } = fleetSecretFiles(
    (values["secret-file"] as string[] | undefined) ?? [],
    sites,
    cwd,
  );
  issues.push(...secretIssues);
  // destroy reads only the state: the environment files need not be valid (or still exist) to tear a site down
  if (op !== "destroy" && siteIssues.length === 0) issues.push(...validateSiteEnvironments(sites));
  if (issues.length > 0) throw new ValidationError(issues, `edgecloud fleet ${op}`);
  return {
    help: false,
    options: {
      operation: op,
      sites,
      parallel,
      workDir,
      config,
      secretFiles,
      ...(values["log-dir"] !== undefined ? { logDir: resolve(cwd, values["log-dir"] as string) } : {}),
    },
    json: values.json === true,
    quiet: values.quiet === true,
  };
}

export type FleetInputs =
  | { readonly help: true }
  | { readonly help: false; readonly options: FleetOptions; readonly json: boolean; readonly quiet: boolean };

/** `edgecloud fleet …`: returns the exit code. */
export async function runFleetCli(argv: readonly string[], io: FleetCliIo): Promise<number> {
  let inputs: FleetInputs;
  try {
    inputs = fleetInputs(argv, io.cwd ?? process.cwd());
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`edgecloud fleet: ${e.message}\n\n${FLEET_USAGE}`);
      return FLEET_EXIT.usage;
    }
    if (e instanceof ValidationError) {
      io.err(e.message);
      return FLEET_EXIT.invalid;
    }
    throw e;
  }
  if (inputs.help) {
    io.out(FLEET_USAGE);
    return FLEET_EXIT.ok;
  }
  const run = io.run ?? (async (o: FleetOptions) => (await import("../stacks/fleet/run-fleet")).runFleet(o));
  try {
    const summary = await run({
      ...io.defaults,
      ...inputs.options,
      ...(inputs.quiet ? {} : { onProgress: (l: string) => io.err(`  · ${l}`) }),
    });
    io.out(inputs.json ? JSON.stringify(summary, null, 2) : renderFleetSummary(summary));
    return summary.failed === 0 ? FLEET_EXIT.ok : FLEET_EXIT.sitesFailed;
  } catch (e) {
    io.err(`edgecloud fleet: failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return FLEET_EXIT.failure;
  }
}
