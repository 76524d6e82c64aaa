import { spawnSync } from "child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "fs";
import { join } from "path";
import { ClusterMaterial, K3sHaClusterSpecInput } from "../../components/k3s-ha-cluster";
import { checkPreflightFacts, parsePreflightFacts } from "../../components/k3s-ha-cluster/preflight-step";
import { etcdCertRequests } from "../../components/k3s-ha-cluster/material";
import { issueCert } from "../../lib/pki";
import { HostInput } from "../../lib/hosts/host";
import { HostStep } from "../../lib/steps";
import { labCluster, LabCluster, labClusterProps } from "./cluster";
import { ETCD_BINARIES, etcdVersionOf, stageEtcdRelease } from "./etcd-prestaged";
import { describeFailures, executePlan, PlanRun } from "./executor";
import { EtcdProbe, Load, loadAverage } from "./etcd-load";
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
/** Two more machines, booted from the start, that take the etcd role when the cluster scales to 5. */
const SPARE = ["etcd-4", "etcd-5"];
const HOSTS5: typeof HOSTS = [
  ...HOSTS.slice(0, 3),
  { name: "etcd-4", roles: ["etcd"], ip: 14 },
  { name: "etcd-5", roles: ["etcd"], ip: 15 },
  HOSTS[3]!,
];
const ip = (h: string) => `${LAB_SUBNET}.${HOSTS5.find((x) => x.name === h)!.ip}`;
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
/** The environment's k3s spec in force (what `c` was rendered from). */
let currentSpec: K3sHaClusterSpecInput = V3517;
const onMembers = (s: HostStep) => MEMBERS.includes(s.host);
const onEtcd = (cl: LabCluster) => (s: HostStep) =>
  cl.props.hosts.some((h) => h.name === s.host && h.roles.includes("etcd"));
const render = (spec: K3sHaClusterSpecInput, material: ClusterMaterial, hosts = HOSTS) =>
  labCluster({ hosts, spec, material });

/** The material with certificates for members it has none for, from the same CA (what Pulumi issues for a new member). */
async function withMemberCerts(material: ClusterMaterial, hosts: typeof HOSTS): Promise<ClusterMaterial> {
  const props = labClusterProps(hosts, V3517);
  const req = etcdCertRequests(props);
  const pki = material.etcd!;
  const members = { ...pki.members };
  for (const [name, r] of Object.entries(req.members)) {
    if (!members[name])
      members[name] = { server: await issueCert(pki.ca, r.server), peer: await issueCert(pki.ca, r.peer) };
  }
  return { ...material, etcd: { ...pki, members } };
}

/** The writer, the sampler and the probes, on server-1 (test/lab/etcd-load.ts). */
let probe: EtcdProbe;

/** Runs the members' pre-flight steps and the cross-host check the Pulumi gate applies to their facts. */
async function preflightGate(cl: LabCluster): Promise<string[]> {
  const r = await executePlan(the(), cl.plan, { only: (s) => onEtcd(cl)(s) && s.name === "preflight" });
  if (!r.ok) throw new Error(describeFailures(r));
  return checkPreflightFacts(r.steps.map((s) => parsePreflightFacts(s.stdout)!));
}

const fmt = (n: number) => n.toFixed(1);

suite("issue 16: etcd day-2 lifecycle on real members under a writer", () => {
  beforeAll(async () => {
    c = await labCluster({ hosts: HOSTS, spec: { ...V3517, etcd: { install: { kind: "distro" } } } });
    lab = await Lab.start({ hosts: [...c.labHosts, ...SPARE.map((name) => ({ name, address: ip(name) }))], log });
    probe = new EtcdProbe({ lab, on: WRITER, address: ip, writeTo: MEMBERS });
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
      expect(await probe.versions(MEMBERS)).toEqual(["3.4.23", "3.4.23", "3.4.23"]);
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
      before = [...(await probe.keysHeld("up"))];
      await probe.startLoad("up", MEMBERS);
      await new Promise((r) => setTimeout(r, 3000));
      roll = await executePlan(the(), next.plan, {
        only: onMembers,
        beforeStep: async (s) => {
          if (s.name === "etcd-member") leaders.push(`${s.host}: leader ${await probe.leader(MEMBERS)}`);
        },
      });
      await new Promise((r) => setTimeout(r, 3000));
      load = await probe.stopLoad("up", MEMBERS.length);
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
      expect(await probe.versions(MEMBERS)).toEqual(["3.5.17", "3.5.17", "3.5.17"]);
      for (const m of MEMBERS) {
        const out = await the().sh(m, "ls /var/backups/etcd/ | grep -c '^pre-roll-' || true");
        expect(`${m}: ${out.trim()}`).toBe(`${m}: 1`);
        expect((await the().sh(m, "/usr/local/bin/etcd --version | head -n 1")).trim()).toBe("etcd Version: 3.5.17");
      }
      const held = await probe.keysHeld("up");
      const lost = load.acked.filter((k) => !held.has(k));
      log(
        `figure: upgrade roll ${fmt(roll.wallMs / 1000)} s; writer acknowledged ${load.acked.length} keys, lost ${lost.length}, ${load.failed} writes gave up after 40 tries, ${load.retries} retries; longest gap between acknowledged writes ${fmt(load.maxGapS)} s; sampler: ${load.samples} samples, min healthy ${load.minHealthy}/3, below quorum ${fmt(load.belowQuorumS)} s, fewer than 3 healthy ${fmt(load.degradedS)} s (load ${loadAverage()})`,
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
      expect(await probe.versions(MEMBERS)).toEqual(["3.5.17", "3.5.17", "3.5.17"]);
      // back to the environment in force (the step rewrote its files before the guard stopped it)
      const back = await executePlan(the(), c.plan, { only: onMembers });
      expect(describeFailures(back)).toBe("no failures");
    });
  });

  describe("2. etcd scale 3 → 5 → 3 under the writer", () => {
    let material5: ClusterMaterial;
    let c5: LabCluster;
    let pidsBefore: string[];
    const loads: string[] = [];
    const report = (what: string, run: PlanRun, l: Load, held: Set<string>) => {
      const lost = l.acked.filter((k) => !held.has(k));
      loads.push(
        `figure: ${what}: ${fmt(run.wallMs / 1000)} s; writer acknowledged ${l.acked.length} keys, lost ${lost.length}, gave up ${l.failed}, ${l.retries} retries; longest gap ${fmt(l.maxGapS)} s; sampler (etcd-1..3): min healthy ${l.minHealthy}/3, none healthy ${fmt(l.noneS)} s, below quorum of 3 ${fmt(l.belowQuorumS)} s (load ${loadAverage()})`,
      );
      log(loads[loads.length - 1]!);
      return lost;
    };

    test("WHEN etcd-4 and etcd-5 take the etcd role THEN each is added (member add) before its first start and joins as existing; no running member restarts", async () => {
      material5 = await withMemberCerts(c.material, HOSTS5);
      c5 = await render(V3517, material5, HOSTS5);
      stageEtcdRelease(the(), SPARE, { binDir: BIN_DIR, version: "v3.5.17", dir: PRESTAGED });
      expect(await preflightGate(c5)).toEqual([]);
      pidsBefore = await probe.pids(MEMBERS);
      await probe.startLoad("out", MEMBERS);
      await new Promise((r) => setTimeout(r, 2000));
      const run = await executePlan(the(), c5.plan, { only: onEtcd(c5) });
      await new Promise((r) => setTimeout(r, 2000));
      const l = await probe.stopLoad("out", 3);
      expect(describeFailures(run)).toBe("no failures");
      for (const m of SPARE) {
        const r = run.get(`${m}/etcd-member`);
        log(
          `figure: ${m} joined in ${fmt(r.ms / 1000)} s (${r.stderr
            .trim()
            .split("\n")
            .filter((x) => x.startsWith("edgecloud:"))
            .join(" | ")})`,
        );
        expect(r.stderr).toContain(`edgecloud: member ${m} added to the running cluster`);
        expect(await the().sh(m, "cat /etc/etcd/edgecloud-etcd.state.env")).toMatch(
          /^ETCD_INITIAL_CLUSTER_STATE=existing\n/,
        );
      }
      expect(await probe.memberList()).toEqual([
        "etcd-1 started",
        "etcd-2 started",
        "etcd-3 started",
        "etcd-4 started",
        "etcd-5 started",
      ]);
      expect(await probe.pids(MEMBERS)).toEqual(pidsBefore);
      const lost = report("scale-out 3 → 5", run, l, await probe.keysHeld("out"));
      expect(lost).toEqual([]);
      expect(l.failed).toBe(0);
      expect(l.noneS).toBe(0);
    });

    test("WHEN the environment has 5 members THEN it re-runs without a change", async () => {
      const again = await executePlan(the(), c5.plan, { only: onEtcd(c5) });
      expect(describeFailures(again)).toBe("no failures");
      expect(again.changedSteps.map((s) => s.id)).toEqual([]);
    });

    test("WHEN etcd-4 and etcd-5 leave the environment (updates, then the deletes Pulumi runs) THEN each leaves by member remove first; 3 members remain, none restarted", async () => {
      const c3 = await render(V3517, material5);
      expect(await preflightGate(c3)).toEqual([]);
      await probe.startLoad("in", MEMBERS);
      await new Promise((r) => setTimeout(r, 2000));
      const update = await executePlan(the(), c3.plan, { only: onMembers });
      const del = await executePlan(the(), c5.plan, { mode: "delete", only: (s) => SPARE.includes(s.host) });
      await new Promise((r) => setTimeout(r, 2000));
      const l = await probe.stopLoad("in", 3);
      expect(describeFailures(update)).toBe("no failures");
      expect(describeFailures(del)).toBe("no failures");
      expect(await probe.memberList()).toEqual(["etcd-1 started", "etcd-2 started", "etcd-3 started"]);
      expect(await probe.pids(MEMBERS)).toEqual(pidsBefore);
      for (const m of SPARE)
        expect(
          (await the().sh(m, "systemctl is-active edgecloud-etcd.service || true; ls /var/lib/etcd 2>&1 | head -n 1"))
            .trim()
            .split("\n")[0],
        ).toBe("inactive");
      const lost = report(
        "scale-in 5 → 3",
        { ...del, wallMs: update.wallMs + del.wallMs },
        l,
        await probe.keysHeld("in"),
      );
      expect(lost).toEqual([]);
      expect(l.failed).toBe(0);
      expect(l.noneS).toBe(0);
      // every key written so far is still there
      for (const tag of ["up", "out"]) expect((await probe.keysHeld(tag)).size).toBeGreaterThan(0);
      c = c3;
    });

    test("WHEN the environment would keep 1 of the 3 members THEN the gate refuses it (below quorum) unless forced", async () => {
      const one = await render(V3517, material5, [HOSTS[0]!, HOSTS[3]!]);
      expect(await preflightGate(one)).toEqual([
        'hosts: 1 etcd member would remain of the 3 running; removing more than a minority in one change loses quorum (3 members need 2): remove at most 1 per change, or set k3s.etcd.force: ["below-quorum"]',
      ]);
      const forced = await render({ ...V3517, etcd: { ...V3517.etcd, force: ["below-quorum"] } }, material5, [
        HOSTS[0]!,
        HOSTS[3]!,
      ]);
      expect(await preflightGate(forced)).toEqual([]);
      // the pre-flight changes nothing: the members run on
      expect(await probe.memberList()).toEqual(["etcd-1 started", "etcd-2 started", "etcd-3 started"]);
    });
  });

  describe("3. backup and restore: every member's data lost, restored from a named snapshot", () => {
    const expected = new Map<string, Set<string>>();
    let snapshot = "";
    let sum = "";
    let restore: PlanRun;
    let healthyAfterS = 0;

    test("GIVEN a snapshot taken by the library's snapshot service and copied to every member, then more writes", async () => {
      await the().sh("etcd-1", "systemctl start edgecloud-etcd-snapshot.service");
      snapshot = (await the().sh("etcd-1", "ls -1 /var/backups/etcd/snapshot-*.db | tail -n 1")).trim();
      sum = (await the().sh("etcd-1", `sha256sum ${snapshot}`)).split(" ")[0]!;
      for (const m of ["etcd-2", "etcd-3"]) {
        mkdirSync(join(the().host(m).root, "var/backups/etcd"), { recursive: true, mode: 0o700 });
        copyFileSync(join(the().host("etcd-1").root, snapshot), join(the().host(m).root, snapshot));
      }
      for (const tag of ["up", "out", "in"]) expected.set(tag, await probe.keysHeld(tag));
      await the().sh(WRITER, `for i in $(seq 1 20); do ${probe.etcdctl(MEMBERS)} put post/$i x >/dev/null; done`);
      expect((await probe.keysHeld("post")).size).toBe(20);
      log(
        `figure: snapshot ${snapshot} (${(await the().sh("etcd-1", `stat -c %s ${snapshot}`)).trim()} bytes) holds ${[...expected.values()].reduce((a, k) => a + k.size, 0)} writer keys`,
      );
    });

    test("WHEN every member loses its data and the environment names the snapshot (k3s.etcd.restore) THEN every member restores before any starts, and all the snapshot's keys are back", async () => {
      for (const m of MEMBERS) await the().sh(m, "systemctl stop edgecloud-etcd.service; rm -rf /var/lib/etcd");
      const drSpec: K3sHaClusterSpecInput = {
        ...V3517,
        etcd: { ...V3517.etcd, restore: { id: "dr-1", snapshot, sha256: sum } },
      };
      const dr = await render(drSpec, c.material);
      const t0 = Date.now();
      restore = await executePlan(the(), dr.plan, { only: onMembers });
      expect(describeFailures(restore)).toBe("no failures");
      const restores = MEMBERS.map((m) => restore.get(`${m}/etcd-restore`));
      const starts = MEMBERS.map((m) => restore.get(`${m}/etcd-member`));
      // no member started before every member was restored
      expect(Math.min(...starts.map((r) => r.startMs))).toBeGreaterThanOrEqual(
        Math.max(...restores.map((r) => r.endMs)),
      );
      for (const r of restores) expect(r.stderr).toContain(`restored from ${snapshot}`);
      let healthy = "";
      for (let i = 0; i < 60; i++) {
        healthy = await the().sh(
          WRITER,
          `${probe.etcdctl(MEMBERS)} endpoint health 2>&1 | grep -c ' is healthy' || true`,
        );
        if (healthy.trim() === "3") break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      healthyAfterS = (Date.now() - t0) / 1000;
      expect(healthy.trim()).toBe("3");
      let back = 0;
      for (const [tag, keys] of expected) {
        const held = await probe.keysHeld(tag);
        expect(`${tag}: ${[...keys].filter((k) => !held.has(k)).length} missing`).toBe(`${tag}: 0 missing`);
        back += keys.size;
      }
      // a point in time: what was written after the snapshot is not there
      expect((await probe.keysHeld("post")).size).toBe(0);
      expect(await probe.memberList()).toEqual(["etcd-1 started", "etcd-2 started", "etcd-3 started"]);
      log(
        `figure: restore of 3 members from ${snapshot}: steps ${fmt(restore.wallMs / 1000)} s, all healthy ${fmt(healthyAfterS)} s after the run started; ${back} of ${back} snapshot keys back, 0 of 20 later keys (point in time); the admin client certificate of the original CA still works`,
      );
      c = dr;
      currentSpec = drSpec;
    });

    test("THEN the same environment again restores nothing (one restore per id) and changes nothing", async () => {
      const again = await executePlan(the(), c.plan, { only: onMembers });
      expect(describeFailures(again)).toBe("no failures");
      expect(again.changedSteps.map((s) => s.id)).toEqual([]);
    });
  });

  describe("4. leaf certificate rotation under the writer", () => {
    test("WHEN every member's server and peer certificates are re-issued from the same CA THEN the members roll one at a time with a snapshot each, no acknowledged write lost, and serve the new certificates", async () => {
      const pki = c.material.etcd!;
      const req = etcdCertRequests(c.props);
      const members = { ...pki.members };
      for (const m of MEMBERS)
        members[m] = {
          server: await issueCert(pki.ca, req.members[m]!.server),
          peer: await issueCert(pki.ca, req.members[m]!.peer),
        };
      const next = await render(currentSpec, { ...c.material, etcd: { ...pki, members } });
      const served = (m: string) => probe.servedSerial(m);
      const before = await Promise.all(MEMBERS.map(served));
      const pidsBefore = await probe.pids(MEMBERS);
      await probe.startLoad("rot", MEMBERS);
      await new Promise((r) => setTimeout(r, 2000));
      const run = await executePlan(the(), next.plan, { only: onMembers });
      await new Promise((r) => setTimeout(r, 2000));
      const l = await probe.stopLoad("rot", 3);
      expect(describeFailures(run)).toBe("no failures");
      for (const m of MEMBERS) {
        const r = run.get(`${m}/etcd-member`);
        expect(r.stderr).toContain(`snapshot before restarting ${m}`);
        log(
          `figure: ${m} rotated in ${fmt(r.ms / 1000)} s (${r.stderr
            .trim()
            .split("\n")
            .filter((x) => x.startsWith("edgecloud:"))
            .join(" | ")})`,
        );
      }
      const after = await Promise.all(MEMBERS.map(served));
      for (let i = 0; i < MEMBERS.length; i++) {
        expect(after[i]).toMatch(/^serial=/);
        expect(after[i]).not.toBe(before[i]);
      }
      const pidsAfter = await probe.pids(MEMBERS);
      for (let i = 0; i < MEMBERS.length; i++) expect(pidsAfter[i]).not.toBe(pidsBefore[i]);
      const held = await probe.keysHeld("rot");
      const lost = l.acked.filter((k) => !held.has(k));
      log(
        `figure: rotation of 3 members' server+peer certificates: ${fmt(run.wallMs / 1000)} s; writer acknowledged ${l.acked.length} keys, lost ${lost.length}, gave up ${l.failed}, ${l.retries} retries; longest gap ${fmt(l.maxGapS)} s; sampler: min healthy ${l.minHealthy}/3, none healthy ${fmt(l.noneS)} s, below quorum ${fmt(l.belowQuorumS)} s (load ${loadAverage()})`,
      );
      expect(lost).toEqual([]);
      expect(l.failed).toBe(0);
      expect(l.belowQuorumS).toBe(0);
      c = next;
    });
  });
});
