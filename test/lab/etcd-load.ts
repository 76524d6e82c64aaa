import { readFileSync } from "fs";
import { Lab } from "./lab";

/**
 * A writer and a health sampler on one lab host against an etcd cluster, and the probes the day-2 tests read the
 * cluster with (keys held, leader, versions, members, MainPIDs). Shared by test/lab/lifecycle.lab.test.ts (the steps
 * run by the lab's executor) and test/engine/lifecycle.engine.test.ts (the same operations through `pulumi up`).
 */
export interface EtcdProbeOptions {
  readonly lab: Lab;
  /** The host the writer, the sampler and every etcdctl probe run on (it needs an etcdctl ≥ 3.4 at `etcdctl`). */
  readonly on: string;
  /** A member's client address by host name. */
  readonly address: (member: string) => string;
  /** The members the writer writes to (`put` tries them in order). */
  readonly writeTo: readonly string[];
  /** Client TLS files on `on`. @default - /etc/lab/{ca,admin}.* */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
  /** @default "/usr/local/bin/etcdctl" */
  readonly etcdctl?: string;
  /** @default 2379 */
  readonly clientPort?: number;
}

/** What the writer and the sampler saw between `startLoad` and `stopLoad`. */
export interface Load {
  /** The keys the cluster acknowledged (`put` exited 0), in order. */
  readonly acked: string[];
  /** Writes that gave up after 40 tries. */
  readonly failed: number;
  readonly retries: number;
  /** Longest time between two acknowledged writes. */
  readonly maxGapS: number;
  /** Seconds (from the sampler) with fewer than a quorum of members healthy. */
  readonly belowQuorumS: number;
  /** Seconds with fewer than all members healthy. */
  readonly degradedS: number;
  /** Seconds with no sampled member healthy (`endpoint health` commits through raft: none healthy = no quorum). */
  readonly noneS: number;
  readonly samples: number;
  readonly minHealthy: number;
}

/** Tries a write makes (0.25 s apart) before it gives up. */
const WRITE_TRIES = 40;

export class EtcdProbe {
  constructor(private readonly o: EtcdProbeOptions) {}

  private get lab(): Lab {
    return this.o.lab;
  }

  endpoints(members: readonly string[]): string {
    return members.map((m) => `https://${this.o.address(m)}:${this.o.clientPort ?? 2379}`).join(",");
  }

  /** etcdctl on the probe host with its client certificate, against `members`. */
  etcdctl(members: readonly string[]): string {
    const t = this.o.tls ?? { ca: "/etc/lab/ca.crt", cert: "/etc/lab/admin.crt", key: "/etc/lab/admin.key" };
    return `${this.o.etcdctl ?? "/usr/local/bin/etcdctl"} --endpoints=${this.endpoints(members)} --cacert=${t.ca} --cert=${t.cert} --key=${t.key} --dial-timeout=1s --command-timeout=3s`;
  }

  /**
   * Starts the writer (`put` of `<tag>/<n>` in a loop, each retried up to 40 × 0.25 s) and the sampler (`endpoint
   * health` of `sampled` every 0.5 s) as transient units on the probe host; `stopLoad` stops them.
   */
  async startLoad(tag: string, sampled: readonly string[]): Promise<void> {
    const writer = `#!/bin/bash
i=0
while [ ! -e /run/lab/stop ]; do
  i=$((i + 1)); k=$(printf '${tag}/%07d' "$i"); t=0
  until ${this.etcdctl(this.o.writeTo)} put "$k" "$i" >/dev/null 2>&1; do t=$((t + 1)); [ "$t" -ge ${WRITE_TRIES} ] && break; sleep 0.25; done
  echo "$(date +%s.%N) $i $t" >>/run/lab/${tag}-writer.log
done
`;
    const sampler = `#!/bin/bash
while [ ! -e /run/lab/stop ]; do
  n=$(${this.etcdctl(sampled)} endpoint health 2>&1 | grep -c ' is healthy' || true)
  echo "$(date +%s.%N) $n" >>/run/lab/${tag}-sampler.log
  sleep 0.5
done
`;
    await this.lab.sh(
      this.o.on,
      `mkdir -p /run/lab && rm -f /run/lab/stop
base64 -d >/run/lab/writer.sh <<'EOF'
${Buffer.from(writer).toString("base64")}
EOF
base64 -d >/run/lab/sampler.sh <<'EOF'
${Buffer.from(sampler).toString("base64")}
EOF
systemd-run --quiet --collect --unit=lab-writer /bin/bash /run/lab/writer.sh
systemd-run --quiet --collect --unit=lab-sampler /bin/bash /run/lab/sampler.sh`,
    );
  }

  /** Stops the writer and the sampler and reads their logs; `members` is the sampled size (for the quorum). */
  async stopLoad(tag: string, members: number): Promise<Load> {
    await this.lab.sh(
      this.o.on,
      "touch /run/lab/stop; for i in $(seq 1 100); do systemctl is-active --quiet lab-writer lab-sampler || break; sleep 0.2; done; systemctl stop lab-writer lab-sampler 2>/dev/null || true",
    );
    const w = (await this.lab.sh(this.o.on, `cat /run/lab/${tag}-writer.log`)).trim().split("\n");
    const s = (await this.lab.sh(this.o.on, `cat /run/lab/${tag}-sampler.log`)).trim().split("\n");
    const rows = w.map((l) => l.split(" ")).map(([t, i, r]) => ({ t: Number(t), i: Number(i), r: Number(r) }));
    const ok = rows.filter((r) => r.r < WRITE_TRIES);
    let maxGap = 0;
    for (let k = 1; k < ok.length; k++) maxGap = Math.max(maxGap, ok[k]!.t - ok[k - 1]!.t);
    const samples = s.map((l) => l.split(" ")).map(([t, n]) => ({ t: Number(t), n: Number(n) }));
    const quorum = Math.floor(members / 2) + 1;
    let below = 0;
    let degraded = 0;
    let none = 0;
    for (let k = 1; k < samples.length; k++) {
      const dt = samples[k]!.t - samples[k - 1]!.t;
      if (samples[k]!.n === 0) none += dt;
      if (samples[k]!.n < quorum) below += dt;
      if (samples[k]!.n < members) degraded += dt;
    }
    return {
      acked: ok.map((r) => `${tag}/${String(r.i).padStart(7, "0")}`),
      failed: rows.length - ok.length,
      retries: rows.reduce((a, r) => a + Math.min(r.r, WRITE_TRIES), 0),
      maxGapS: maxGap,
      belowQuorumS: below,
      degradedS: degraded,
      noneS: none,
      samples: samples.length,
      minHealthy: Math.min(...samples.map((x) => x.n)),
    };
  }

  /** Keys under `tag/` that the cluster holds now. */
  async keysHeld(tag: string): Promise<Set<string>> {
    const out = await this.lab.sh(
      this.o.on,
      `${this.etcdctl(this.o.writeTo)} get ${tag}/ --prefix --keys-only | grep -v '^$' || true`,
    );
    return new Set(out.trim().split("\n").filter(Boolean));
  }

  /** The leader's host name among `members` (from `endpoint status`), or "none". */
  async leader(members: readonly string[]): Promise<string> {
    const out = await this.lab.sh(this.o.on, `${this.etcdctl(members)} endpoint status 2>/dev/null || true`);
    const row = out
      .trim()
      .split("\n")
      .map((l) => l.split(", "))
      .find((f) => f[4] === "true");
    if (!row) return "none";
    return members.find((m) => row[0] === this.endpoints([m])) ?? row[0]!;
  }

  /** Each member's running version, in `members` order (`endpoint status`). */
  async versions(members: readonly string[]): Promise<string[]> {
    const out = await this.lab.sh(this.o.on, `${this.etcdctl(members)} endpoint status`);
    return out
      .trim()
      .split("\n")
      .map((l) => l.split(", ")[2]!);
  }

  /** `<name> <status>` of every member etcd lists (asked through `via`), sorted. */
  async memberList(via: readonly string[] = this.o.writeTo): Promise<string[]> {
    const out = await this.lab.sh(this.o.on, `${this.etcdctl(via)} member list`);
    return out
      .trim()
      .split("\n")
      .map((l) => l.split(", "))
      .map((f) => `${f[2]} ${f[1]}`)
      .sort();
  }

  /** Each member's etcd MainPID as `<member>:<pid>` (unchanged = not restarted). */
  async pids(members: readonly string[], unit = "edgecloud-etcd.service"): Promise<string[]> {
    return Promise.all(
      members.map(async (m) => `${m}:${(await this.lab.sh(m, `systemctl show -p MainPID --value ${unit}`)).trim()}`),
    );
  }

  /** The serial of the server certificate `member` serves on its client port, as openssl prints it (`serial=…`). */
  async servedSerial(member: string): Promise<string> {
    const t = this.o.tls ?? { ca: "/etc/lab/ca.crt", cert: "/etc/lab/admin.crt", key: "/etc/lab/admin.key" };
    return (
      await this.lab.sh(
        this.o.on,
        `echo | openssl s_client -connect ${this.o.address(member)}:${this.o.clientPort ?? 2379} -CAfile ${t.ca} -cert ${t.cert} -key ${t.key} 2>/dev/null | openssl x509 -noout -serial`,
      )
    ).trim();
  }
}

/** The machine's load average, for the figures. */
export function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").trim();
}
