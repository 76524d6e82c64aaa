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

  /** Before the lab exists (its hosts run things while they boot): argv by PID namespace, until {@link attribute}. */
  private readonly byNs = new Map<string, Set<string>>();
  private readonly ownNs: string;
  private unattributed: boolean;

  /**
   * With a lab, samples its hosts. Without one (`undefined`), samples every process in another PID namespace than the
   * runner's — started before `Lab.start` so that what hosts run during boot is seen — and {@link attribute} then keeps
   * the lab's hosts' and drops the rest (other labs, containers).
   */
  constructor(
    lab: Lab | undefined,
    private readonly intervalMs = 50,
  ) {
    this.hostByNs = new Map((lab?.hosts ?? []).map((h) => [h.pidNs, h.name]));
    for (const h of lab?.hosts ?? []) this.seen.set(h.name, new Set());
    this.ownNs = readlinkSync("/proc/self/ns/pid");
    this.unattributed = lab === undefined;
  }

  /** Files what was sampled before the lab existed under the lab's hosts (by PID namespace); samples only them after. */
  attribute(lab: Lab): this {
    for (const h of lab.hosts) {
      this.hostByNs.set(h.pidNs, h.name);
      this.seen.set(h.name, new Set([...(this.seen.get(h.name) ?? []), ...(this.byNs.get(h.pidNs) ?? [])]));
    }
    this.byNs.clear();
    this.unattributed = false;
    return this;
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
        const ns = readlinkSync(`/proc/${e}/ns/pid`);
        if (this.unattributed) {
          if (ns === this.ownNs) continue;
          const argv = readFileSync(`/proc/${e}/cmdline`, "utf8").replace(/\0+$/, "").replace(/\0/g, " ");
          if (!argv) continue;
          const set = this.byNs.get(ns) ?? new Set<string>();
          set.add(argv);
          this.byNs.set(ns, set);
          continue;
        }
        const host = this.hostByNs.get(ns);
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
