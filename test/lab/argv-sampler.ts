import { readdirSync, readFileSync, readlinkSync } from "fs";
import { Lab } from "./lab";

/**
 * Watches the argv of every process on every lab host while something runs — what `ps -eo args` on each host
 * would show, sampled from the runner's /proc every `intervalMs` (processes are attributed to hosts by PID
 * namespace). Short-lived processes between two samples can be missed; anything that holds a secret in its
 * argv for longer than the interval (a daemon, a CLI waiting on the network) is caught.
 */
export class ArgvSampler {
  /** host name → every distinct argv seen (space-joined). */
  readonly seen = new Map<string, Set<string>>();
  samples = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly hostByNs: Map<string, string>;

  constructor(
    lab: Lab,
    private readonly intervalMs = 50,
  ) {
    this.hostByNs = new Map(lab.hosts.map((h) => [h.pidNs, h.name]));
    for (const h of lab.hosts) this.seen.set(h.name, new Set());
  }

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  stop(): this {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.sample();
    return this;
  }

  /** Every (host, argv) whose argv contains one of the needles. */
  find(needles: readonly string[]): { host: string; argv: string; needle: string }[] {
    const out: { host: string; argv: string; needle: string }[] = [];
    for (const [host, set] of this.seen) {
      for (const argv of set) for (const needle of needles) if (argv.includes(needle)) out.push({ host, argv, needle });
    }
    return out;
  }

  get count(): number {
    let n = 0;
    for (const s of this.seen.values()) n += s.size;
    return n;
  }

  private sample(): void {
    this.samples++;
    for (const e of readdirSync("/proc")) {
      if (!/^\d+$/.test(e)) continue;
      try {
        const host = this.hostByNs.get(readlinkSync(`/proc/${e}/ns/pid`));
        if (host === undefined) continue;
        const argv = readFileSync(`/proc/${e}/cmdline`, "utf8").replace(/\0+$/, "").replace(/\0/g, " ");
        if (argv) this.seen.get(host)!.add(argv);
      } catch {
        /* exited between readdir and read */
      }
    }
  }
}

/**
 * Strings that must never appear in any argv, derived from the secret files of the steps: every content line of
 * 16+ characters (PEM body lines), the value of every `token: value`/`PASSWORD=value` line, and the
 * base64 lines the bundle carries them in.
 */
export function secretNeedles(files: readonly { readonly content: string; readonly secret: boolean }[]): string[] {
  const needles = new Set<string>();
  for (const f of files) {
    if (!f.secret) continue;
    for (const line of f.content.split("\n")) {
      const t = line.trim();
      if (t.length >= 16 && !/^-----(BEGIN|END) /.test(t)) needles.add(t);
      // the value of `token: value` / `PASSWORD=value` lines (a token in config.yaml)
      const m = /^[A-Za-z0-9_.-]*(token|password|passwd|secret)[A-Za-z0-9_.-]*\s*[:=]\s*"?([^"\s]{16,})"?$/i.exec(t);
      if (m) needles.add(m[2]);
    }
    const b64 = Buffer.from(f.content, "utf8").toString("base64");
    for (let i = 0; i + 76 <= b64.length; i += 76) needles.add(b64.slice(i, i + 76));
  }
  return [...needles];
}
