import { spawn, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  lstatSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "fs";
import { tmpdir } from "os";
import { join, relative, resolve } from "path";
import { parse, stringify } from "yaml";

/** The repository root. */
export const REPO = resolve(__dirname, "../..");

/** The engine binaries built by `bash scripts/build-tools.sh` (never downloaded). */
export interface EngineTools {
  readonly binDir: string;
  /** True when `pulumi-resource-<name>` was built (command, kubernetes: not served by the Go proxy here). */
  readonly hasPlugin: (name: string) => boolean;
  readonly hasBinary: (name: string) => boolean;
}

export function engineTools(): EngineTools {
  const r = spawnSync("bash", [join(REPO, "scripts/build-tools.sh"), "--print-bin-dir"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`scripts/build-tools.sh --print-bin-dir failed:\n${r.stderr}`);
  const binDir = r.stdout.trim();
  const hasBinary = (name: string): boolean => existsSync(join(binDir, name));
  for (const b of ["pulumi", "pulumi-language-nodejs"]) {
    if (!hasBinary(b)) throw new Error(`${join(binDir, b)} is missing: run \`bash scripts/build-tools.sh\` first`);
  }
  return { binDir, hasBinary, hasPlugin: (name) => hasBinary(`pulumi-resource-${name}`) };
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** One resource step of `pulumi preview --json`. */
export interface PreviewStep {
  readonly op: string;
  readonly urn: string;
}

export interface UpdateSummary {
  /** `resourceChanges` of the update in `pulumi stack history`: e.g. `{ create: 5 }`, `{ same: 5 }`. */
  readonly changes: Readonly<Record<string, number>>;
  readonly result: string;
  readonly ms: number;
  readonly stdout: string;
}

export interface StackOptions {
  /** The program's folder (holds Pulumi.yaml and index.ts), e.g. `stacks/lab`. */
  readonly program: string;
  readonly stack: string;
  readonly tools: EngineTools;
  /** Runs every pulumi command inside this network namespace (`/run/netns/<name>`), e.g. the lab's bridge. */
  readonly netnsPath?: string;
  readonly log?: (message: string) => void;
}

/**
 * A stack on a throw-away local backend (`pulumi login file://…`) with a passphrase secrets provider, driven through
 * the real CLI. Plugins come only from the tools' bin dir and the npm SDK (the dynamic-provider shim); automatic
 * plugin acquisition is disabled, so a missing plugin fails instead of being downloaded.
 */
export class PulumiStack {
  readonly backendDir: string;
  /** A throw-away project folder: Pulumi.yaml pointing at the program, the stack's config file, node_modules link. */
  readonly projectDir: string;
  readonly env: NodeJS.ProcessEnv;
  private readonly home: string;

  private constructor(
    private readonly opts: StackOptions,
    readonly root: string,
  ) {
    this.backendDir = join(root, "backend");
    this.projectDir = join(root, "project");
    this.home = join(root, "home");
    this.env = {
      PATH: [
        opts.tools.binDir,
        join(REPO, "node_modules/@pulumi/pulumi"),
        join(REPO, "node_modules/.bin"),
        process.env.PATH,
      ].join(":"),
      HOME: process.env.HOME,
      LANG: "C.UTF-8",
      PULUMI_HOME: this.home,
      PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("base64"),
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_SKIP_CONFIRMATIONS: "true",
      PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
      PULUMI_SELF_MANAGED_STATE_NO_LEGACY_WARNING: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
      PULUMI_NODEJS_TRANSPILE_ONLY: "true",
      PULUMI_NODEJS_TSCONFIG_PATH: join(REPO, "tsconfig.json"),
      NO_COLOR: "1",
    };
  }

  static async create(opts: StackOptions): Promise<PulumiStack> {
    const root = mkdtempSync(join(process.env.EDGECLOUD_ENGINE_WORKDIR ?? tmpdir(), "edgecloud-engine-"));
    const s = new PulumiStack(opts, root);
    try {
      // The repository stays untouched (stack config, secrets salt): the project folder is a throw-away copy of
      // Pulumi.yaml whose `main` points back at the program, with node_modules linked so the language host, the
      // dynamic-provider shim and the program resolve the repository's packages.
      mkdirSync(s.projectDir, { recursive: true });
      mkdirSync(s.backendDir, { recursive: true });
      const project = parse(readFileSync(join(opts.program, "Pulumi.yaml"), "utf8")) as Record<string, unknown>;
      project.main = relative(s.projectDir, resolve(opts.program, (project.main as string | undefined) ?? "."));
      writeFileSync(join(s.projectDir, "Pulumi.yaml"), stringify(project));
      symlinkSync(join(REPO, "node_modules"), join(s.projectDir, "node_modules"));
      await s.must(["login", `file://${s.backendDir}`]);
      await s.must(["stack", "init", opts.stack, "--secrets-provider", "passphrase"]);
    } catch (e) {
      rmSync(root, { recursive: true, force: true });
      throw e;
    }
    return s;
  }

  /** Runs `pulumi <args>` in the project folder. Never rejects for a non-zero exit. */
  run(
    args: readonly string[],
    timeoutMs = 15 * 60_000,
    onStdout?: (chunk: string) => void,
    input?: string,
  ): Promise<CommandResult> {
    const argv = ["pulumi", ...args, "--non-interactive", "--color", "never"];
    const full = this.opts.netnsPath ? ["nsenter", `--net=${this.opts.netnsPath}`, "--", ...argv] : argv;
    const t0 = Date.now();
    return new Promise((res, rej) => {
      const child = spawn(full[0]!, full.slice(1), {
        cwd: this.projectDir,
        env: this.env,
        stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      if (input !== undefined) child.stdin!.end(input);
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.stdout!.setEncoding("utf8").on("data", (c: string) => {
        stdout += c;
        onStdout?.(c);
      });
      child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
      child.on("error", (e) => {
        clearTimeout(timer);
        rej(e);
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        res({ code, stdout, stderr, ms: Date.now() - t0 });
      });
    });
  }

  /** Like run, but throws with the command's output unless it exits 0. */
  async must(args: readonly string[], timeoutMs?: number, input?: string): Promise<CommandResult> {
    const r = await this.run(args, timeoutMs, undefined, input);
    if (r.code !== 0)
      throw new Error(`pulumi ${args.join(" ")} failed (exit ${r.code}) after ${r.ms} ms:\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  async setConfig(key: string, value: string, opts: { secret?: boolean } = {}): Promise<void> {
    await this.must(["config", "set", key, value, ...(opts.secret ? ["--secret"] : ["--plaintext"])]);
  }

  /** A secret config value read by the CLI from its stdin (never in argv: `pulumi config set --secret key < value`). */
  async setSecretConfig(key: string, value: string): Promise<void> {
    await this.must(["config", "set", key, "--secret"], undefined, value);
  }

  /** Structured config (objects, arrays) as JSON; the program reads it with `config.requireObject`. */
  async setConfigObject(key: string, value: unknown, opts: { secret?: boolean } = {}): Promise<void> {
    await this.setConfig(key, JSON.stringify(value), opts);
  }

  /** `pulumi preview --json`: the step each resource would take (`same` ones included). */
  async preview(): Promise<PreviewStep[]> {
    const r = await this.must(["preview", "--json", "--diff"]);
    const parsed = JSON.parse(r.stdout) as { steps?: { op: string; urn: string }[] };
    return (parsed.steps ?? []).map((s) => ({ op: s.op, urn: s.urn }));
  }

  /** `pulumi up` (only `targets` when given) and the update's resource changes as recorded in the stack history. */
  async up(targets: readonly string[] = []): Promise<UpdateSummary> {
    const r = await this.must(["up", "--yes", "--skip-preview", ...targets.flatMap((t) => ["--target", t])]);
    this.opts.log?.(`pulumi up: ${r.ms} ms`);
    return { ...(await this.lastUpdate()), ms: r.ms, stdout: r.stdout };
  }

  /**
   * `pulumi up --json` (only `targets` when given): the engine's events as they stream, each handed to `onEvent` when
   * it arrives, and the resource steps they describe (op, resource, when it started and ended). Rejects unless it
   * exits 0, with the failed steps' diagnostics.
   */
  async upWithEvents(targets: readonly string[] = [], onEvent?: (e: EngineEvent) => void): Promise<UpdateWithSteps> {
    const events: EngineEvent[] = [];
    const parser = new JsonStream((v) => {
      const e = { ...(v as EngineEvent), receivedMs: Date.now() };
      events.push(e);
      onEvent?.(e);
    });
    const r = await this.run(
      ["up", "--yes", "--skip-preview", "--json", ...targets.flatMap((t) => ["--target", t])],
      undefined,
      (chunk) => parser.push(chunk),
    );
    if (r.code !== 0) {
      const diags = events
        .filter((e) => e.diagnosticEvent && e.diagnosticEvent.severity === "error")
        .map((e) => e.diagnosticEvent!.message)
        .join("\n");
      throw new Error(`pulumi up --json failed (exit ${r.code}) after ${r.ms} ms:\n${diags}\n${r.stderr}`);
    }
    this.opts.log?.(`pulumi up: ${r.ms} ms`);
    return { ...(await this.lastUpdate()), ms: r.ms, stdout: r.stdout, events, steps: engineSteps(events) };
  }

  async destroy(): Promise<UpdateSummary> {
    const r = await this.must(["destroy", "--yes", "--skip-preview"]);
    this.opts.log?.(`pulumi destroy: ${r.ms} ms`);
    return { ...(await this.lastUpdate()), ms: r.ms, stdout: r.stdout };
  }

  private async lastUpdate(): Promise<{ changes: Record<string, number>; result: string }> {
    const r = await this.must(["stack", "history", "--json", "--show-secrets=false"]);
    const history = JSON.parse(r.stdout) as {
      version: number;
      result: string;
      resourceChanges?: Record<string, number>;
    }[];
    const last = history.reduce((a, b) => (b.version > a.version ? b : a));
    return { changes: last.resourceChanges ?? {}, result: last.result };
  }

  /** The checkpoint with secrets decrypted (to learn the plaintext values that must never appear in the state). */
  async exportWithSecrets(): Promise<StackCheckpoint> {
    const r = await this.must(["stack", "export", "--show-secrets"]);
    return JSON.parse(r.stdout) as StackCheckpoint;
  }

  /** Every file the engine wrote (the state, its backups and history, the stack's config file), path → content. */
  backendFiles(): Map<string, string> {
    const files = new Map<string, string>();
    const walk = (d: string): void => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        const st = lstatSync(p);
        if (st.isSymbolicLink()) continue;
        if (st.isDirectory()) walk(p);
        else files.set(p, readFileSync(p, "utf8"));
      }
    };
    // the backend (state, backups, history) and the project folder (the stack's config file)
    for (const d of [this.backendDir, this.projectDir]) if (existsSync(d)) walk(d);
    return files;
  }

  /** Removes the stack (after destroy) and the backend. */
  async remove(): Promise<void> {
    await this.run(["stack", "rm", "--yes", "--force"]);
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A resource step's metadata in an engine event (apitype.StepEventMetadata). */
export interface StepEventMetadata {
  readonly op: string;
  readonly urn: string;
  readonly type: string;
}

/** One engine event of `pulumi up --json` (apitype.EngineEvent), with the time this process received it. */
export interface EngineEvent {
  readonly sequence: number;
  readonly timestamp: number;
  readonly receivedMs: number;
  readonly resourcePreEvent?: { readonly metadata: StepEventMetadata };
  readonly resOutputsEvent?: { readonly metadata: StepEventMetadata };
  readonly resOpFailedEvent?: { readonly metadata: StepEventMetadata };
  readonly diagnosticEvent?: { readonly message: string; readonly severity: string; readonly urn?: string };
  readonly summaryEvent?: { readonly resourceChanges?: Record<string, number> };
}

/** A resource step the engine took: its op, the resource's name, and the event sequence (and time) it began and ended. */
export interface EngineStep {
  readonly op: string;
  /** The resource's name (last URN segment). */
  readonly name: string;
  readonly urn: string;
  readonly type: string;
  readonly startSeq: number;
  readonly endSeq?: number;
  readonly startMs: number;
  readonly endMs?: number;
  readonly failed: boolean;
}

export interface UpdateWithSteps extends UpdateSummary {
  readonly events: readonly EngineEvent[];
  /** Every step but `same`, in the order the engine began them. */
  readonly steps: readonly EngineStep[];
}

/** The steps of an update from its events: a `resourcePreEvent` begins one, `resOutputsEvent`/`resOpFailedEvent` ends it. */
export function engineSteps(events: readonly EngineEvent[]): EngineStep[] {
  const open = new Map<string, EngineStep>();
  const done: EngineStep[] = [];
  const key = (m: StepEventMetadata) => `${m.op} ${m.urn}`;
  for (const e of events) {
    if (e.resourcePreEvent) {
      const m = e.resourcePreEvent.metadata;
      if (m.op === "same") continue;
      open.set(key(m), {
        op: m.op,
        urn: m.urn,
        type: m.type,
        name: m.urn.split("::").pop()!,
        startSeq: e.sequence,
        startMs: e.receivedMs,
        failed: false,
      });
    }
    const end = e.resOutputsEvent?.metadata ?? e.resOpFailedEvent?.metadata;
    if (end && open.has(key(end))) {
      const s = open.get(key(end))!;
      open.delete(key(end));
      done.push({ ...s, endSeq: e.sequence, endMs: e.receivedMs, failed: !!e.resOpFailedEvent });
    }
  }
  return [...done, ...open.values()].sort((a, b) => a.startSeq - b.startSeq);
}

/** Splits a stream of concatenated JSON values (pretty-printed or one per line) into values. */
class JsonStream {
  private buf = "";
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private scanned = 0;

  constructor(private readonly onValue: (v: unknown) => void) {}

  push(chunk: string): void {
    this.buf += chunk;
    for (let i = this.scanned; i < this.buf.length; i++) {
      const ch = this.buf[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === "\\") this.escaped = true;
        else if (ch === '"') this.inString = false;
      } else if (ch === '"') this.inString = true;
      else if (ch === "{") {
        if (this.depth++ === 0) this.start = i;
      } else if (ch === "}" && --this.depth === 0) {
        this.onValue(JSON.parse(this.buf.slice(this.start, i + 1)));
        this.buf = this.buf.slice(i + 1);
        i = -1;
        this.start = -1;
      }
    }
    this.scanned = this.buf.length;
  }
}

export interface StackCheckpoint {
  readonly deployment: {
    readonly resources?: readonly {
      readonly urn: string;
      readonly type: string;
      readonly outputs?: Record<string, unknown>;
    }[];
  };
}

/** The resources of a checkpoint by their name (the last URN segment), secrets revealed (`stack export --show-secrets`). */
export function resourcesByName(cp: StackCheckpoint): Map<string, { type: string; outputs: Record<string, unknown> }> {
  return new Map(
    (cp.deployment.resources ?? []).map((r) => [
      r.urn.split("::").pop()!,
      { type: r.type, outputs: reveal(r.outputs ?? {}) as Record<string, unknown> },
    ]),
  );
}

/** The checkpoint's marker for a secret value (`{ [SECRET_SIG]: SECRET_SIG_VALUE, plaintext: "<json>" }`). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function reveal(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reveal);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (SECRET_SIG in o && typeof o.plaintext === "string") return reveal(JSON.parse(o.plaintext));
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, reveal(x)]));
  }
  return v;
}
