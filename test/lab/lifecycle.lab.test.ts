import { spawnSync } from "child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "fs";
import { join } from "path";
import { ClusterMaterial, K3sHaClusterSpecInput } from "../../components/k3s-ha-cluster";
import { checkPreflightFacts, parsePreflightFacts } from "../../components/k3s-ha-cluster/preflight-step";
import { HostInput } from "../../lib/hosts/host";
import { HostStep } from "../../lib/steps";
import { labCluster, LabCluster } from "./cluster";
import { ETCD_BINARIES, etcdVersionOf, stageEtcdRelease } from "./etcd-prestaged";
import { describeFailures, executePlan, PlanRun } from "./executor";
import { Lab, LAB_SUBNET } from "./lab";

/**
 * Issue 16, day-2 lifecycle on real machines: etcd members provisioned by the library from Debian's package
 * (3.4.23), then rolled to v3.5.17 (built from go.etcd.io/etcd by scripts/build-tools.sh, pre-staged as its release
 * tarball) by the library's own member steps — one member at a time, a snapshot before each, the leader last, each
 * gated on every member's health over TLS — while a writer on server-1 keeps writing keys and a sampler records
 * `endpoint health` of every member twice a second. The figures are printed as `[lab] figure: …` lines.
 */
const log = (m: string): void => void process.stderr.write(`[lab] ${m}\n`);
jest.setTimeout(240_000);

const BIN_DIR = spawnSync("bash", [join(__dirname, "../../scripts/build-tools.sh"), "--print-bin-dir"], {
  encoding: "utf8",
}).stdout.trim();
const missing = ETCD_BINARIES.filter((b) => !existsSync(join(BIN_DIR, b)));
if (missing.length)
  console.warn(
    `lifecycle.lab.test.ts skipped: ${missing.join(", ")} not built in ${BIN_DIR}: run \`bash scripts/build-tools.sh --stage etcd\``,
  );
const suite = missing.length ? describe.skip : describe;

const MEMBERS = ["etcd-1", "etcd-2", "etcd-3"];
const WRITER = "server-1";
const HOSTS: readonly { name: string; roles: HostInput["roles"]; ip: number }[] = [
  { name: "etcd-1", roles: ["etcd"], ip: 11 },
  { name: "etcd-2", roles: ["etcd"], ip: 12 },
  { name: "etcd-3", roles: ["etcd"], ip: 13 },
  { name: "server-1", roles: ["server"], ip: 21 },
];
const ip = (h: string) => `${LAB_SUBNET}.${HOSTS.find((x) => x.name === h)!.ip}`;
const endpoints = (hs: readonly string[]) => hs.map((h) => `https://${ip(h)}:2379`).join(",");
const PRESTAGED = "/var/lib/edgecloud-lab/etcd";
const V3517: K3sHaClusterSpecInput = {
  etcd: { version: "v3.5.17", install: { kind: "prestaged", dir: PRESTAGED } },
  registrationAddress: { kind: "external", address: ip(WRITER) },
};

let lab: Lab | undefined;
const the = (): Lab => {
  if (!lab) throw new Error("lab did not start");
  return lab;
};
let c: LabCluster;
const onMembers = (s: HostStep) => MEMBERS.includes(s.host);
const render = (spec: K3sHaClusterSpecInput, material: ClusterMaterial) => labCluster({ hosts: HOSTS, spec, material });

/** etcdctl on the writer host with the admin client certificate (the library's CA), against `hs`. */
const etcdctl = (hs: readonly string[]) =>
  `/usr/local/bin/etcdctl --endpoints=${endpoints(hs)} --cacert=/etc/lab/ca.crt --cert=/etc/lab/admin.crt --key=/etc/lab/admin.key --dial-timeout=1s --command-timeout=3s`;

/** Starts the writer and the health sampler on server-1 as transient units (stopped by `stopLoad`). */
async function startLoad(tag: string, members: readonly string[]): Promise<void> {
  const writer = `#!/bin/bash
i=0
while [ ! -e /run/lab/stop ]; do
  i=$((i + 1)); k=$(printf '${tag}/%07d' "$i"); t=0
  until ${etcdctl(MEMBERS)} put "$k" "$i" >/dev/null 2>&1; do t=$((t + 1)); [ "$t" -ge 40 ] && break; sleep 0.25; done
  echo "$(date +%s.%N) $i $t" >>/run/lab/${tag}-writer.log
done
`;
  const sampler = `#!/bin/bash
while [ ! -e /run/lab/stop ]; do
  n=$(${etcdctl(members)} endpoint health 2>&1 | grep -c ' is healthy' || true)
  echo "$(date +%s.%N) $n" >>/run/lab/${tag}-sampler.log
  sleep 0.5
done
`;
  await the().sh(
    WRITER,
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

interface Load {
  readonly acked: string[];
  readonly failed: number;
  readonly retries: number;
  /** Longest time between two acknowledged writes. */
  readonly maxGapS: number;
  /** Seconds (from the sampler) with fewer than a quorum of members healthy. */
  readonly belowQuorumS: number;
  /** Seconds with fewer than all members healthy. */
  readonly degradedS: number;
  readonly samples: number;
  readonly minHealthy: number;
}

async function stopLoad(tag: string, members: number): Promise<Load> {
  await the().sh(
    WRITER,
    "touch /run/lab/stop; for i in $(seq 1 100); do systemctl is-active --quiet lab-writer lab-sampler || break; sleep 0.2; done; systemctl stop lab-writer lab-sampler 2>/dev/null || true",
  );
  const w = (await the().sh(WRITER, `cat /run/lab/${tag}-writer.log`)).trim().split("\n");
  const s = (await the().sh(WRITER, `cat /run/lab/${tag}-sampler.log`)).trim().split("\n");
  const rows = w.map((l) => l.split(" ")).map(([t, i, r]) => ({ t: Number(t), i: Number(i), r: Number(r) }));
  const ok = rows.filter((r) => r.r < 40);
  let maxGap = 0;
  for (let k = 1; k < ok.length; k++) maxGap = Math.max(maxGap, ok[k]!.t - ok[k - 1]!.t);
  const samples = s.map((l) => l.split(" ")).map(([t, n]) => ({ t: Number(t), n: Number(n) }));
  const quorum = Math.floor(members / 2) + 1;
  let below = 0;
  let degraded = 0;
  for (let k = 1; k < samples.length; k++) {
    const dt = samples[k]!.t - samples[k - 1]!.t;
    if (samples[k]!.n < quorum) below += dt;
    if (samples[k]!.n < members) degraded += dt;
  }
  return {
    acked: ok.map((r) => `${tag}/${String(r.i).padStart(7, "0")}`),
    failed: rows.length - ok.length,
    retries: rows.reduce((a, r) => a + Math.min(r.r, 40), 0),
    maxGapS: maxGap,
    belowQuorumS: below,
    degradedS: degraded,
    samples: samples.length,
    minHealthy: Math.min(...samples.map((x) => x.n)),
  };
}

/** Keys under `tag/` that the cluster holds now. */
async function keysHeld(tag: string): Promise<Set<string>> {
  const out = await the().sh(WRITER, `${etcdctl(MEMBERS)} get ${tag}/ --prefix --keys-only | grep -v '^$' || true`);
  return new Set(out.trim().split("\n").filter(Boolean));
}

/** The leader's host name, from `endpoint status` of the members. */
async function leader(members: readonly string[]): Promise<string> {
  const out = await the().sh(WRITER, `${etcdctl(members)} endpoint status 2>/dev/null || true`);
  const row = out
    .trim()
    .split("\n")
    .map((l) => l.split(", "))
    .find((f) => f[4] === "true");
  return row ? (HOSTS.find((h) => row[0] === `https://${ip(h.name)}:2379`)?.name ?? row[0]!) : "none";
}

async function versions(members: readonly string[]): Promise<string[]> {
  const out = await the().sh(WRITER, `${etcdctl(members)} endpoint status`);
  return out
    .trim()
    .split("\n")
    .map((l) => l.split(", ")[2]!);
}

/** Runs the members' pre-flight steps and the cross-host check the Pulumi gate applies to their facts. */
async function preflightGate(cl: LabCluster): Promise<string[]> {
  const r = await executePlan(the(), cl.plan, { only: (s) => onMembers(s) && s.name === "preflight" });
  if (!r.ok) throw new Error(describeFailures(r));
  return checkPreflightFacts(r.steps.map((s) => parsePreflightFacts(s.stdout)!));
}

const fmt = (n: number) => n.toFixed(1);

suite("issue 16: etcd day-2 lifecycle on real members under a writer", () => {
  beforeAll(async () => {
    c = await labCluster({ hosts: HOSTS, spec: { ...V3517, etcd: { install: { kind: "distro" } } } });
    lab = await Lab.start({ hosts: c.labHosts, log });
    // the writer's etcdctl (v3.5.17, built here) and the admin client certificate the library issued
    const root = the().host(WRITER).root;
    mkdirSync(join(root, "etc/lab"), { recursive: true, mode: 0o700 });
    copyFileSync(join(BIN_DIR, "etcdctl"), join(root, "usr/local/bin/etcdctl"));
    const pki = c.material.etcd!;
    writeFileSync(join(root, "etc/lab/ca.crt"), pki.ca.certPem);
    writeFileSync(join(root, "etc/lab/admin.crt"), pki.admin.certPem);
    writeFileSync(join(root, "etc/lab/admin.key"), pki.admin.keyPem, { mode: 0o600 });
    const first = await executePlan(the(), c.plan, { only: onMembers });
    if (!first.ok) throw new Error(describeFailures(first));
    log(`3 members from Debian's package provisioned in ${fmt(first.wallMs / 1000)} s`);
  }, 15 * 60_000);

  afterAll(async () => {
    await lab?.stop(log);
  });

  describe("1. etcd upgrade roll 3.4.23 (Debian) → v3.5.17 (prestaged) under a writer", () => {
    let roll: PlanRun;
    let load: Load;
    const leaders: string[] = [];
    let before: string[];

    test("GIVEN 3 members on Debian's 3.4.23 THEN the gate refuses a skipped minor (v3.6.0) before any step runs", async () => {
      expect(await versions(MEMBERS)).toEqual(["3.4.23", "3.4.23", "3.4.23"]);
      const skip = await render({ ...V3517, etcd: { ...V3517.etcd, version: { unlisted: "v3.6.0" } } }, c.material);
      expect(await preflightGate(skip)).toEqual([
        'k3s.etcd.version "v3.6.0" skips a minor version: from 3.4.23 upgrade to the latest v3.5.x first; etcd upgrades one minor version at a time ("Upgrades that skip a minor version are not supported") (running on etcd-1, etcd-2, etcd-3)',
      ]);
    });

    test("WHEN the environment changes etcd to v3.5.17 prestaged THEN the members roll one at a time, a snapshot before each, the leader last", async () => {
      const sum = stageEtcdRelease(the(), MEMBERS, { binDir: BIN_DIR, version: "v3.5.17", dir: PRESTAGED });
      log(`staged etcd v3.5.17 (${etcdVersionOf(BIN_DIR)}; sha256 ${sum.slice(0, 12)}…)`);
      const next = await render(V3517, c.material);
      expect(await preflightGate(next)).toEqual([]);
      before = [...(await keysHeld("up"))];
      await startLoad("up", MEMBERS);
      await new Promise((r) => setTimeout(r, 3000));
      roll = await executePlan(the(), next.plan, {
        only: onMembers,
        beforeStep: async (s) => {
          if (s.name === "etcd-member") leaders.push(`${s.host}: leader ${await leader(MEMBERS)}`);
        },
      });
      await new Promise((r) => setTimeout(r, 3000));
      load = await stopLoad("up", MEMBERS.length);
      c = next;
      expect(describeFailures(roll)).toBe("no failures");
      for (const m of MEMBERS) {
        const r = roll.get(`${m}/etcd-member`);
        log(
          `figure: ${m} rolled in ${fmt(r.ms / 1000)} s (${r.stderr
            .trim()
            .split("\n")
            .filter((l) => l.startsWith("edgecloud:"))
            .join(" | ")})`,
        );
      }
      log(`figure: leader before each member's turn: ${leaders.join("; ")}`);
      // one at a time: each member's step starts after the previous one ended
      const t = MEMBERS.map((m) => roll.get(`${m}/etcd-member`));
      for (let i = 1; i < t.length; i++) expect(t[i]!.startMs).toBeGreaterThanOrEqual(t[i - 1]!.endMs);
      // the member that led when its turn came handed over to a later one; the last restarted is the leader then
      for (let i = 0; i < MEMBERS.length - 1; i++) {
        const r = roll.get(`${MEMBERS[i]}/etcd-member`).stderr;
        if (leaders[i]!.endsWith(`leader ${MEMBERS[i]}`)) expect(r).toMatch(/leadership moved from/);
      }
      for (const m of MEMBERS) expect(roll.get(`${m}/etcd-member`).stderr).toMatch(/snapshot before restarting/);
    });

    test("THEN every member runs 3.5.17, each kept a pre-roll snapshot, and no acknowledged key was lost", async () => {
      expect(await versions(MEMBERS)).toEqual(["3.5.17", "3.5.17", "3.5.17"]);
      for (const m of MEMBERS) {
        const out = await the().sh(m, "ls /var/backups/etcd/ | grep -c '^pre-roll-' || true");
        expect(`${m}: ${out.trim()}`).toBe(`${m}: 1`);
        expect((await the().sh(m, "/usr/local/bin/etcd --version | head -n 1")).trim()).toBe("etcd Version: 3.5.17");
      }
      const held = await keysHeld("up");
      const lost = load.acked.filter((k) => !held.has(k));
      log(
        `figure: upgrade roll ${fmt(roll.wallMs / 1000)} s; writer acknowledged ${load.acked.length} keys, lost ${lost.length}, ${load.failed} writes gave up after 40 tries, ${load.retries} retries; longest gap between acknowledged writes ${fmt(load.maxGapS)} s; sampler: ${load.samples} samples, min healthy ${load.minHealthy}/3, below quorum ${fmt(load.belowQuorumS)} s, fewer than 3 healthy ${fmt(load.degradedS)} s (load ${spawnSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).stdout.trim()})`,
      );
      expect(before).toEqual([]);
      expect(load.acked.length).toBeGreaterThan(20);
      expect(lost).toEqual([]);
      expect(load.failed).toBe(0);
      expect(load.belowQuorumS).toBe(0);
    });

    test("THEN running the same environment again changes nothing: no member restarts", async () => {
      const again = await executePlan(the(), c.plan, { only: onMembers });
      expect(describeFailures(again)).toBe("no failures");
      expect(again.changedSteps.map((s) => s.id)).toEqual([]);
    });

    test("WHEN the environment asks for a downgrade (v3.5.15) THEN the gate refuses it, and so does the member step itself", async () => {
      const down = await render({ ...V3517, etcd: { ...V3517.etcd, version: "v3.5.15" } }, c.material);
      expect(await preflightGate(down)).toEqual([
        'k3s.etcd.version "v3.5.15" is a downgrade from 3.5.17; etcd supports patch upgrades and minor upgrades only (etcd.io upgrade policy), and a member below the cluster\'s minor version refuses to start ("invalid downgrade") (running on etcd-1, etcd-2, etcd-3)',
      ]);
      // past the gate (a script run by hand): the member step refuses before it snapshots or restarts anything
      const r = await executePlan(the(), down.plan, { only: (s) => s.id === "etcd-1/etcd-member" });
      expect(r.ok).toBe(false);
      expect(r.get("etcd-1/etcd-member").stderr).toContain(
        'k3s.etcd.version "v3.5.15" is a downgrade from 3.5.17 (a member runs it); etcd supports patch and minor upgrades only: roll stopped before etcd-1',
      );
      expect(await versions(MEMBERS)).toEqual(["3.5.17", "3.5.17", "3.5.17"]);
      // back to the environment in force (the step rewrote its files before the guard stopped it)
      const back = await executePlan(the(), c.plan, { only: onMembers });
      expect(describeFailures(back)).toBe("no failures");
    });
  });
});
