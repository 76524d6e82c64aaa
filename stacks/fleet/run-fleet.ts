import { spawn } from "child_process";
import { appendFileSync, mkdirSync, readFileSync } from "fs";
import { join } from "path";
import type { EngineEvent, LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import type { FleetOperation, FleetSite } from "./fleet-sites";
import { siteSecretFile } from "./fleet-sites";
import { FleetSummary, SiteOutcome, fleetSummary, siteOutcome } from "./fleet-summary";

export interface FleetOptions {
  readonly operation: FleetOperation;
  /** Validated sites (`resolveFleetSites`): each is its own stack. */
  readonly sites: readonly FleetSite[];
  /** How many sites run at once (`fleetParallel`). */
  readonly parallel: number;
  /** The folder of this project's `Pulumi.yaml` (its program reads `edgecloud:environment`). */
  readonly workDir: string;
  /** Plain stack config set on every site's stack, e.g. `{ "edgecloud:executor": "in-process" }`. @default - none */
  readonly config?: Readonly<Record<string, string>>;
  /**
   * Secret stack config set on every site's stack from files (`{site}` in a path is the site's name), handed to
   * `pulumi config set --secret` on its stdin (the Automation API's setConfig puts the value in argv).
   * @default - none: the stacks' own secret config
   */
  readonly secretFiles?: Readonly<Record<string, string>>;
  /** Environment of every `pulumi` process (backend URL, passphrase, PULUMI_HOME), over this process's. @default - none */
  readonly envVars?: Readonly<Record<string, string>>;
  /** A Pulumi CLI install: `<pulumiRoot>/bin/pulumi`. @default - `pulumi` on PATH */
  readonly pulumiRoot?: string;
  /** Each site's engine output goes to `<logDir>/<site>.log`. @default - not kept */
  readonly logDir?: string;
  /** One line when a site starts and when it ends. @default - nothing */
  readonly onProgress?: (line: string) => void;
}

/**
 * Runs one operation over many sites with the Pulumi Automation API (`@pulumi/pulumi/automation`): one
 * LocalWorkspace over `workDir`, one stack per site, at most `parallel` at once. A failing site is recorded and the
 * others go on; the summary says which failed and why (the first line, secrets replaced).
 *
 * Stacks are selected concurrently: every operation passes `--stack`, and the CLI writes the workspace's current
 * stack atomically (pulumi/pulumi v3.259.0 pkg/workspace/workspace.go projectWorkspace.Save → atomicWriteFile), so
 * concurrent selects only race over which stack is "current", which nothing here reads.
 */
export async function runFleet(opts: FleetOptions): Promise<FleetSummary> {
  const auto = await import("@pulumi/pulumi/automation");
  const envVars = { ...(opts.envVars ?? {}) };
  const pulumiCommand = await auto.PulumiCommand.get(opts.pulumiRoot !== undefined ? { root: opts.pulumiRoot } : {});
  const workspace = await auto.LocalWorkspace.create({ workDir: opts.workDir, envVars, pulumiCommand });
  if (opts.logDir !== undefined) mkdirSync(opts.logDir, { recursive: true, mode: 0o700 });
  const progress = opts.onProgress ?? (() => undefined);
  const t0 = Date.now();
  const outcomes = await bounded(opts.sites, opts.parallel, async (site) => {
    progress(`${site.name}: ${opts.operation} started`);
    const o = await runSite(auto.Stack, workspace, pulumiCommand, site, opts);
    const n = Object.entries(o.changes)
      .map(([op, k]) => `${k} ${op}`)
      .join(", ");
    progress(
      `${site.name}: ${o.result} in ${(o.durationMs / 1000).toFixed(1)} s${n ? ` (${n})` : ""}${o.error ? `: ${o.error}` : ""}`,
    );
    return o;
  });
  return fleetSummary(opts.operation, opts.parallel, outcomes, Date.now() - t0);
}

async function runSite(
  StackClass: typeof Stack,
  workspace: LocalWorkspace,
  pulumiCommand: PulumiCommand,
  site: FleetSite,
  opts: FleetOptions,
): Promise<SiteOutcome> {
  const t0 = Date.now();
  const events: EngineEvent[] = [];
  const secrets: string[] = [];
  const log =
    opts.logDir !== undefined
      ? (chunk: string) => appendFileSync(join(opts.logDir!, `${site.name}.log`), chunk, { mode: 0o600 })
      : undefined;
  const common = { onEvent: (e: EngineEvent) => events.push(e), color: "never" as const, onOutput: log, onError: log };
  let stack: Stack | undefined;
  try {
    // destroy and refresh act on what exists; preview and up create the stack of a new site
    stack =
      opts.operation === "destroy" || opts.operation === "refresh"
        ? await StackClass.select(site.name, workspace)
        : await StackClass.createOrSelect(site.name, workspace);
    if (!site.bundled) await stack.setConfig("edgecloud:environment", { value: site.file });
    const plain = Object.entries(opts.config ?? {});
    if (plain.length > 0) await stack.setAllConfig(Object.fromEntries(plain.map(([k, v]) => [k, { value: v }])));
    for (const [key, template] of Object.entries(opts.secretFiles ?? {})) {
      const value = readFileSync(siteSecretFile(template, site.name), "utf8");
      secrets.push(value);
      await setSecretConfig(
        pulumiCommand.command,
        opts.workDir,
        { ...process.env, ...opts.envVars },
        site.name,
        key,
        value,
      );
    }
    switch (opts.operation) {
      case "preview":
        await stack.preview(common);
        break;
      case "up":
        await stack.up(common);
        break;
      case "refresh":
        await stack.refresh(common);
        break;
      case "destroy":
        await stack.destroy(common);
        break;
    }
    return siteOutcome({ site: site.name, operation: opts.operation, events, durationMs: Date.now() - t0 });
  } catch (failure) {
    // the error line may quote any of the stack's secret config, not only what the fleet set: read them to redact them
    // (`pulumi config --show-secrets --json`, values on stdout, never printed)
    if (stack !== undefined) {
      try {
        const all = await stack.getAllConfig();
        for (const v of Object.values(all)) if (v.secret) secrets.push(v.value);
      } catch {
        // the stack's config cannot be read (its own failure): the values the fleet set are still redacted
      }
    }
    return siteOutcome({
      site: site.name,
      operation: opts.operation,
      events,
      durationMs: Date.now() - t0,
      failure,
      secrets,
    });
  }
}

/** `pulumi config set --secret <key>` with the value on stdin: never in argv (where `ps` shows it). */
function setSecretConfig(
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  stack: string,
  key: string,
  value: string,
): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(command, ["config", "set", "--secret", key, "--stack", stack, "--non-interactive"], {
      cwd,
      env,
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.on("error", rej);
    child.on("close", (code) =>
      code === 0 ? res() : rej(new Error(`pulumi config set --secret ${key} failed (exit ${code}): ${stderr.trim()}`)),
    );
    child.stdin!.end(value);
  });
}

/** Maps `items` through `fn`, at most `limit` at once, results in input order; `fn` must not reject. */
export async function bounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
