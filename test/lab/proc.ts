import { spawn } from "child_process";

export interface RunResult {
  /** Exit code; null when killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunOptions {
  /** Written to the child's stdin, then stdin is closed. */
  readonly stdin?: string;
  /** SIGKILL the child after this long. */
  readonly timeoutMs?: number;
  /** Called with each stdout/stderr chunk (e.g. to cut a session when a marker appears). */
  readonly onOutput?: (chunk: string, stream: "stdout" | "stderr", kill: () => void) => void;
  /** Called once with a function that SIGKILLs the child. */
  readonly onSpawn?: (kill: () => void, pid: number | undefined) => void;
}

/** Runs a program (argv, no shell) and collects its output. Never rejects for a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    };
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(kill, opts.timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      opts.onOutput?.(c, "stdout", kill);
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      opts.onOutput?.(c, "stderr", kill);
    });
    child.stdin.on("error", () => undefined); // EPIPE when the child dies before reading everything
    child.on("error", (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
    opts.onSpawn?.(kill, child.pid);
    child.stdin.end(opts.stdin ?? "");
  });
}

/** Runs a program and throws (with its output) unless it exits 0. */
export async function must(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.code ?? r.signal}):\n${r.stderr || r.stdout}`);
  }
  return r;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
