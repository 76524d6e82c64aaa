import * as pulumi from "@pulumi/pulumi";
import type { Client, ClientChannel, ConnectConfig } from "ssh2";
import { parseChanged } from "../steps/bundle";
import { createStepLimiter, StepLimiter, StepLimits } from "../steps/step-limiter";

/** One SSH endpoint as the provider sees it (plain values). */
export interface SshTarget {
  readonly host: string;
  /** @default 22 */
  readonly port?: number;
  readonly user: string;
  /** OpenSSH or PEM private key (a secret). */
  readonly privateKey: string;
  /** Pinned OpenSSH public key line (`ssh-ed25519 AAAA…`); any other key is refused. @default - the first key seen is trusted */
  readonly hostKey?: string;
}

/** Where a step runs: the host, optionally reached through a jump host, and how to become root there. */
export interface HostStepConnection extends SshTarget {
  /** Reached through a channel forwarded by this host (`ssh -J`). @default - direct */
  readonly jumpHost?: SshTarget;
  /** For a non-root user whose sudo asks for a password: the first stdin line of `sudo -S`. @default - `sudo -n` */
  readonly sudoPassword?: string;
}

type Inputs<T> = { readonly [K in keyof T]: pulumi.Input<T[K]> };

export interface HostStepConnectionArgs extends Inputs<Omit<HostStepConnection, "jumpHost">> {
  readonly jumpHost?: pulumi.Input<Inputs<SshTarget>>;
}

export interface HostStepRunArgs {
  readonly connection: pulumi.Input<HostStepConnectionArgs>;
  /** The step's full program (`renderStepBundle`), sent on the stdin of `bash -s` as root; kept secret. */
  readonly bundle: pulumi.Input<string>;
  /** The inverse program (`renderDeleteBundle`), run the same way on delete. @default - nothing runs on delete */
  readonly deleteBundle?: pulumi.Input<string>;
  /** What makes the step run again when it changes (the bundle's hash, a gate). */
  readonly trigger: pulumi.Input<string>;
  /** Keep `stdout` secret in state (e.g. when the program prints a kubeconfig). @default false */
  readonly secretStdout?: boolean;
  /**
   * How many steps run at once, shared by every HostStepRun of the stack (one limiter in the dynamic-provider
   * process); a step waits while any of its own bounds is reached. Not compared on diff (changing it re-runs nothing).
   * @default - {@link DEFAULT_STEP_LIMITS}
   */
  readonly limits?: StepLimits;
  /** Among steps waiting for a slot the highest starts first (the length of the chain waiting on it). @default 0 */
  readonly priority?: number;
}

/** The provider's view of a run's inputs. */
export interface HostStepRunInputs {
  readonly connection: HostStepConnection;
  readonly bundle: string;
  readonly deleteBundle: string;
  readonly trigger: string;
  /** Absent in the state of resources made before the limits existed. */
  readonly limits?: StepLimits;
  readonly priority?: number;
}

/** The provider's outputs: the inputs, plus what the last run printed. */
export interface HostStepRunOutputs extends HostStepRunInputs {
  readonly stdout: string;
  /** The `edgecloud-step: changed=N` count of the last run; null when the program printed none. */
  readonly changed: number | null;
  /** sha256 of the bundle that ran last. */
  readonly hash: string;
  /** The step's own log lines of the last run (`ec_log`: stderr lines starting `edgecloud: `), at most the last 100. */
  readonly log: string;
}

/** What the provider compares: any difference is an in-place update (the bundle runs again), never a replace. */
const DIFF_KEYS = ["bundle", "deleteBundle", "trigger", "connection"] as const;
const CONNECT_TRIES = 20;
/** `ProvisioningLimits`' defaults (lib/steps/provisioning.ts), for a run whose inputs carry none. */
export const DEFAULT_STEP_LIMITS: StepLimits = { maxConcurrentSteps: 32, maxConcurrentHosts: 32, maxStepsPerHost: 4 };
const DIAL_TIMEOUT_MS = 15_000;

/*
 * Pulumi serializes this provider (and every function and value it references) into the dynamic-provider process,
 * which evaluates the text without this module's imports: packages are required by name inside the functions
 * (`require("ssh2")`), helpers are plain functions of this file, and nothing below may import a relative module at
 * run time. test/lib/pulumi/host-step-run.test.ts evaluates the serialized text in a bare node process.
 */

/**
 * The remote command that runs a program read from stdin, as root. With a sudo password the password and the
 * program never share a stream that bash reads: the login shell reads the first stdin line (the password,
 * base64-encoded so no character of it can end the line), copies the rest into a 0600 temp file removed on exit,
 * and pipes the decoded password alone into `sudo -S`; root's bash runs the file with stdin from /dev/null. Where
 * sudo does not ask (NOPASSWD, a cached ticket) the password is never read, so it is neither run nor echoed.
 * POSIX sh, for whatever login shell the user has.
 */
export function rootCommand(
  c: Pick<HostStepConnection, "user" | "sudoPassword">,
  inlineProgramBase64?: string,
): string {
  // with inlineProgramBase64 the program is carried in the command itself (a delete, which gets the create's stdin)
  const fromInline = inlineProgramBase64 === undefined ? undefined : `echo ${inlineProgramBase64} | base64 -d`;
  if (c.user === "root") return fromInline ? `${fromInline} | bash -s` : "bash -s";
  if (c.sudoPassword === undefined) return fromInline ? `${fromInline} | sudo -n bash -s` : "sudo -n bash -s";
  return [
    "umask 077",
    "f=$(mktemp) || exit 1",
    "trap 'rm -f \"$f\"' EXIT",
    "IFS= read -r p || exit 1",
    fromInline ? `${fromInline} >"$f"` : 'cat >"$f"',
    `printf '%s' "$p" | base64 -d | sudo -S -p '' -- bash -c 'exec </dev/null; exec bash -- "$1"' edgecloud-step "$f"`,
  ].join("; ");
}

/**
 * stdin for `rootCommand`: with a sudo password, its base64 (one line, whatever the password holds) first, then
 * the program.
 */
export function rootStdin(c: Pick<HostStepConnection, "user" | "sudoPassword">, program: string): string {
  if (c.user === "root" || c.sudoPassword === undefined) return program;
  return `${Buffer.from(`${c.sudoPassword}\n`, "utf8").toString("base64")}\n${program}`;
}

/** The step a program is, from its header line (`# edgecloud step <id> …`), for error messages. */
function programName(program: string): string {
  const header = program.split("\n", 3).find((l) => l.startsWith("# edgecloud "));
  return header ? header.slice(2).split(" ").slice(0, 3).join(" ") : "program";
}

/** The step's own messages (`ec_log` writes `edgecloud: …` to stderr), the last 100; the rest of stderr is dropped. */
function stepLog(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.startsWith("edgecloud: "));
  return lines.slice(-100).join("\n");
}

function tail(text: string, lines = 30): string {
  const all = text.trimEnd().split("\n");
  return (all.length > lines ? [`… (${all.length - lines} earlier lines)`, ...all.slice(-lines)] : all).join("\n");
}

/** JSON with sorted keys and without undefined members: state and program may order and omit keys differently. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

/**
 * An error another try cannot fix (host key, authentication). A marked plain Error, not a subclass: Pulumi's closure
 * serializer rewrites classes into functions, and an `Error` subclass built that way loses its message.
 */
function fatal(message: string): Error {
  return Object.assign(new Error(message), { fatal: true });
}

function hostKeyAlgorithms(type: string): string[] {
  return type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type];
}

/** One SSH connection, over `sock` when given (a channel forwarded by a jump host). */
function connectOnce(t: SshTarget, sock?: ClientChannel): Promise<Client> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ssh2 = require("ssh2") as typeof import("ssh2");
  const where = `${t.user}@${t.host}:${t.port ?? 22}`;
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let refusedKey: string | undefined;
    let settled = false;
    const cfg: ConnectConfig = {
      host: t.host,
      port: t.port ?? 22,
      username: t.user,
      privateKey: t.privateKey,
      readyTimeout: DIAL_TIMEOUT_MS,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 6,
      ...(sock ? { sock } : {}),
    };
    if (t.hostKey) {
      const [type, b64] = t.hostKey.trim().split(/\s+/);
      const pinned = Buffer.from(b64 ?? "", "base64");
      cfg.algorithms = {
        serverHostKey: hostKeyAlgorithms(type ?? "") as NonNullable<ConnectConfig["algorithms"]>["serverHostKey"],
      };
      cfg.hostVerifier = (key: Buffer) => {
        if (key.equals(pinned)) return true;
        refusedKey = `${type} ${key.toString("base64")}`;
        return false;
      };
    }
    client.on("ready", () => {
      settled = true;
      resolve(client);
    });
    client.on("error", (e: Error & { level?: string }) => {
      if (settled) return;
      settled = true;
      client.end();
      if (refusedKey !== undefined) {
        reject(
          fatal(
            `${where}: the host key does not match the pinned hostKey (the host presented ${refusedKey}); refusing to connect`,
          ),
        );
      } else if (e.level === "client-authentication") {
        reject(fatal(`${where}: authentication failed (${e.message})`));
      } else {
        reject(new Error(`${where}: ${e.message}`));
      }
    });
    client.connect(cfg);
  });
}

/** Opens a channel to `t` through `jump` (a direct-tcpip forward, like `ssh -J`). */
function forward(jump: Client, t: SshTarget): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    jump.forwardOut("127.0.0.1", 0, t.host, t.port ?? 22, (err, ch) =>
      err ? reject(new Error(`jump host could not reach ${t.host}:${t.port ?? 22}: ${err.message}`)) : resolve(ch),
    );
  });
}

/** Connects (through the jump host when given) with bounded retries; host key and auth refusals fail at once. */
async function connect(c: HostStepConnection): Promise<{ client: Client; close: () => void }> {
  let last: Error | undefined;
  for (let attempt = 1; attempt <= CONNECT_TRIES; attempt++) {
    let jump: Client | undefined;
    try {
      if (c.jumpHost) {
        jump = await connectOnce(c.jumpHost);
        const client = await connectOnce(c, await forward(jump, c));
        const j = jump;
        return { client, close: () => (client.end(), j.end()) };
      }
      const client = await connectOnce(c);
      return { client, close: () => client.end() };
    } catch (e) {
      jump?.end();
      if ((e as { fatal?: boolean }).fatal) throw e;
      last = e as Error;
      if (attempt < CONNECT_TRIES) await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 5000)));
    }
  }
  throw new Error(`could not connect after ${CONNECT_TRIES} tries: ${last?.message}`);
}

interface ExecResult {
  readonly code: number | null;
  readonly signal?: string;
  readonly stdout: string;
  readonly stderr: string;
}

function exec(client: Client, command: string, stdin: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      stream.on("data", (d: Buffer) => out.push(d));
      stream.stderr.on("data", (d: Buffer) => errs.push(d));
      stream.on("close", (code: number | null | undefined, signal?: string) =>
        resolve({
          code: code ?? null,
          ...(signal ? { signal } : {}),
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(errs).toString("utf8"),
        }),
      );
      stream.end(stdin);
    });
  });
}

/** Runs `program` as root on the host over SSH (stdin, never argv); throws with the stderr tail unless it exits 0. */
export async function runHostProgram(
  c: HostStepConnection,
  program: string,
): Promise<{ stdout: string; changed: number | null; hash: string; log: string }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHash } = require("crypto") as typeof import("crypto");
  const { client, close } = await connect(c);
  try {
    const r = await exec(client, rootCommand(c), rootStdin(c, program));
    if (r.code !== 0) {
      const how =
        r.code === null
          ? `the session ended without an exit status${r.signal ? ` (signal ${r.signal})` : ""}`
          : `exit ${r.code}`;
      throw new Error(`${programName(program)} failed on ${c.user}@${c.host} (${how}); stderr:\n${tail(r.stderr)}`);
    }
    return {
      stdout: r.stdout,
      changed: parseChanged(r.stdout) ?? null,
      hash: createHash("sha256").update(program).digest("hex"),
      log: stepLog(r.stderr),
    };
  } finally {
    close();
  }
}

/**
 * The limiter every HostStepRun of the process shares: the engine runs one dynamic-provider process per stack and
 * calls create/update/delete concurrently (up to `pulumi up --parallel`), so a process-wide counter bounds SSH sessions
 * over every component. Kept on globalThis, not in this module: the provider text is evaluated per distinct closure.
 */
export function processStepLimiter(): StepLimiter {
  const g = globalThis as { __edgecloudStepLimiter?: StepLimiter };
  return (g.__edgecloudStepLimiter ??= createStepLimiter());
}

/** Runs `program` on the connection's host once the shared limiter grants a slot (released when it ends). */
async function runLimited(
  inputs: Pick<HostStepRunInputs, "connection" | "limits" | "priority">,
  program: string,
): Promise<{ stdout: string; changed: number | null; hash: string; log: string }> {
  const release = await processStepLimiter().acquire(
    `${inputs.connection.host}:${inputs.connection.port ?? 22}`,
    inputs.limits ?? DEFAULT_STEP_LIMITS,
    inputs.priority ?? 0,
  );
  try {
    return await runHostProgram(inputs.connection, program);
  } finally {
    release();
  }
}

/** The dynamic provider behind HostStepRun (exported for tests that drive it directly). */
export const hostStepRunProvider = {
  async create(inputs: HostStepRunInputs): Promise<{ id: string; outs: HostStepRunOutputs }> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { randomBytes } = require("crypto") as typeof import("crypto");
    const ran = await runLimited(inputs, inputs.bundle);
    return { id: randomBytes(8).toString("hex"), outs: { ...inputs, ...ran } };
  },
  async diff(_id: string, olds: HostStepRunOutputs, news: HostStepRunInputs): Promise<pulumi.dynamic.DiffResult> {
    const changed = DIFF_KEYS.filter((k) => canonical(olds[k]) !== canonical(news[k]));
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },
  async update(_id: string, _olds: HostStepRunOutputs, news: HostStepRunInputs): Promise<{ outs: HostStepRunOutputs }> {
    return { outs: { ...news, ...(await runLimited(news, news.bundle)) } };
  },
  async delete(_id: string, olds: HostStepRunOutputs): Promise<void> {
    if (olds.deleteBundle) await runLimited(olds, olds.deleteBundle);
  },
} satisfies pulumi.dynamic.ResourceProvider;

/**
 * A provider that loads {@link hostStepRunProvider} from the installed package when the engine calls it: by the package
 * name first (the dynamic-provider process resolves from the project folder, like the provider's own
 * `require("ssh2")`), then by `moduleFile`, the absolute path of this module where the program ran. Pulumi stores the
 * serialized provider in every dynamic resource's inputs and state (`__provider`, @pulumi/pulumi 3.270.0
 * dynamic/index.js `serializeProvider`) and the engine carries it through every check, diff and log: the provider
 * itself serializes to 16 KB, this loader to 2 KB.
 */
export function hostStepRunLoader(moduleFile: string): typeof hostStepRunProvider {
  const load = (): typeof hostStepRunProvider => {
    try {
      // this module's package subpath (package.json "exports"); a literal: the closure serializer would carry a
      // module-level constant as a require of this module's file
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require("edgecloud/host-step-provider") as { hostStepRunProvider: typeof hostStepRunProvider })
        .hostStepRunProvider;
    } catch (e) {
      if ((e as { code?: string }).code !== "MODULE_NOT_FOUND") throw e;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require(moduleFile) as { hostStepRunProvider: typeof hostStepRunProvider }).hostStepRunProvider;
    }
  };
  return {
    create: (inputs) => load().create(inputs),
    diff: (id, olds, news) => load().diff(id, olds, news),
    update: (id, olds, news) => load().update(id, olds, news),
    delete: (id, olds) => load().delete(id, olds),
  };
}

/**
 * What HostStepRun registers: the loader when this module is compiled JavaScript (the npm package), the provider
 * itself when it runs from TypeScript source (ts-node, jest), where no module the dynamic-provider process could load
 * exists.
 */
export const registeredHostStepRunProvider: typeof hostStepRunProvider = __filename.endsWith(".js")
  ? hostStepRunLoader(__filename)
  : hostStepRunProvider;

/**
 * One host step run over SSH from inside the Pulumi program (a dynamic resource), with no provider plugin: the
 * bundle goes to the stdin of `bash -s` as root, runs again in place when the bundle, trigger or connection
 * changes, and the delete bundle runs on delete. The bundle, the connection (private key, sudo password) and,
 * when asked, stdout stay secret in state.
 */
export class HostStepRun extends pulumi.dynamic.Resource {
  /** What the last run printed (the step's logs; secret with `secretStdout`). */
  declare readonly stdout: pulumi.Output<string>;
  /** The `changed=N` count of the last run (0 on a no-op re-run); null when the program printed none. */
  declare readonly changed: pulumi.Output<number | null>;
  /** sha256 of the bundle that ran last. */
  declare readonly hash: pulumi.Output<string>;
  /** The step's own log lines of the last run (`edgecloud: …`), e.g. an etcd member's turn in a roll. */
  declare readonly log: pulumi.Output<string>;

  constructor(name: string, args: HostStepRunArgs, opts?: pulumi.CustomResourceOptions) {
    // While the SDK registers this resource's properties, no stack traces: @pulumi/pulumi 3.270.0 wraps a promise per
    // property (runtime/rpc.js transferProperties) in debuggablePromise (runtime/debuggable.js), which formats
    // `new Error().stack` at once, and cmd/run/index.js installs source-map-support, which source-maps every frame of
    // it: a fifth of a large preview's program time, for a trace shown only by Pulumi's promise-leak diagnostics. The
    // limit is restored before anything else runs (the constructor is synchronous).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(
        registeredHostStepRunProvider,
        name,
        {
          connection: pulumi.secret(args.connection),
          bundle: pulumi.secret(args.bundle),
          deleteBundle: args.deleteBundle ?? "",
          trigger: args.trigger,
          ...(args.limits ? { limits: args.limits } : {}),
          ...(args.priority !== undefined ? { priority: args.priority } : {}),
          stdout: undefined,
          changed: undefined,
          hash: undefined,
          log: undefined,
        },
        {
          ...opts,
          additionalSecretOutputs: [
            ...(opts?.additionalSecretOutputs ?? []),
            "connection",
            "bundle",
            ...(args.secretStdout ? ["stdout"] : []),
          ],
        },
        "edgecloud",
        "HostStepRun",
      );
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }
}
