import { copyFileSync, mkdirSync, readFileSync } from "fs";
import { join } from "path";
import { K3sHaClusterSpecInput } from "../../components/k3s-ha-cluster";
import { HostInput } from "../../lib/hosts/host";
import { k3sBinaryBlockedResources, labCluster } from "../lab/cluster";
import { ETCD_BINARIES, stageEtcdRelease } from "../lab/etcd-prestaged";
import { EtcdProbe, Load, loadAverage } from "../lab/etcd-load";
import { Lab, LAB_SUBNET } from "../lab/lab";
import { EngineStep, engineTools, PulumiStack, REPO, resourcesByName, UpdateWithSteps } from "./pulumi-cli";

/**
 * Issue 16 through the real engine: the day-2 etcd operations as what a user does — change the stack's config, run
 * `pulumi up` — on real etcd members (stacks/lab, executor "in-process": HostStepRun over SSH from the program; the
 * "command" executor needs pulumi-resource-command, which cannot be built here, see k3s-ha-cluster.engine.test.ts).
 * One cluster, in order: create on Debian's etcd 3.4.23; upgrade to v3.5.17 (built from go.etcd.io/etcd, pre-staged
 * as its release tarball) under a writer; scale 3 → 5 → 3 under the writer; every member's data lost, restored from
 * a snapshot; every leaf certificate re-issued (rotation generation raised) under the writer. After each: the steps
 * the engine took (op, resource, order), the cluster's state, and a second `pulumi up` that changes nothing.
 * The writer and the sampler are the lab lifecycle test's (test/lab/etcd-load.ts), on server-1 with the client
 * certificate the library gave the K3s server. Figures are printed as `[engine] figure: …` lines.
 */
const log = (m: string): void => void process.stderr.write(`[engine] ${m}\n`);
jest.setTimeout(10 * 60_000);

const tools = engineTools();
const isRoot = process.getuid?.() === 0;
const missing = ETCD_BINARIES.filter((b) => !tools.hasBinary(b));
if (!isRoot) console.warn("lifecycle.engine.test.ts skipped: the lab needs root");
if (missing.length)
  console.warn(
    `lifecycle.engine.test.ts skipped: ${missing.join(", ")} not built: run \`bash scripts/build-tools.sh\``,
  );
// executor "command" (remote.Command) is not run: its plugin cannot be built here (k3s-ha-cluster.engine.test.ts
// proves the engine stops at the missing plugin); the steps, names and order are the same for both executors
const suite = isRoot && !missing.length ? describe : describe.skip;

const HOSTS: readonly { name: string; roles: HostInput["roles"]; ip: number }[] = [
  { name: "etcd-1", roles: ["etcd"], ip: 11 },
  { name: "etcd-2", roles: ["etcd"], ip: 12 },
  { name: "etcd-3", roles: ["etcd"], ip: 13 },
  { name: "server-1", roles: ["server"], ip: 21 },
];
const HOSTS5: typeof HOSTS = [
  ...HOSTS.slice(0, 3),
  { name: "etcd-4", roles: ["etcd"], ip: 14 },
  { name: "etcd-5", roles: ["etcd"], ip: 15 },
  HOSTS[3]!,
];
const MEMBERS = ["etcd-1", "etcd-2", "etcd-3"];
const SPARE = ["etcd-4", "etcd-5"];
const WRITER = "server-1";
const ip = (h: string) => `${LAB_SUBNET}.${HOSTS5.find((x) => x.name === h)!.ip}`;
const PRESTAGED = "/var/lib/edgecloud-lab/etcd";
const DISTRO: K3sHaClusterSpecInput = {
  etcd: { install: { kind: "distro" } },
  registrationAddress: { kind: "external", address: ip(WRITER) },
};
const V3517: K3sHaClusterSpecInput = {
  ...DISTRO,
  etcd: { version: "v3.5.17", install: { kind: "prestaged", dir: PRESTAGED } },
};
const fmt = (n: number) => n.toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let lab: Lab | undefined;
let stack: PulumiStack;
let probe: EtcdProbe;
/** Stack config `hosts` for a set of lab hosts (pinned host keys from the lab's known_hosts). */
let hostsConfig: (hs: typeof HOSTS) => HostInput[];
const the = (): Lab => {
  if (!lab) throw new Error("lab did not start");
  return lab;
};
const timings: string[] = [];
const figures: string[] = [];
const figure = (m: string) => {
  figures.push(m);
  log(`figure: ${m}`);
};

/** The `--target` URNs for the config in force: every resource the lab can run (no K3s binary here). */
let targets: string[] = [];

/** Sets the config, previews (what the lab can run becomes the targets), and runs `pulumi up --json` on it. */
async function apply(
  what: string,
  hs: typeof HOSTS,
  spec: K3sHaClusterSpecInput,
  onEvent?: Parameters<PulumiStack["upWithEvents"]>[1],
): Promise<UpdateWithSteps & { previewed: string[] }> {
  await stack.setConfigObject("hosts", hostsConfig(hs));
  await stack.setConfigObject("spec", spec);
  const blocked = k3sBinaryBlockedResources(await labCluster({ hosts: hs, spec }));
  const preview = await stack.preview();
  targets = preview
    .map((s) => s.urn)
    .filter((u) => !blocked.some((b) => u.endsWith(`::${b}`)) && !u.endsWith("::lab-kubeconfig"));
  const previewed = preview
    .filter((s) => s.op !== "same" && targets.includes(s.urn))
    .map((s) => `${s.op} ${s.urn.split("::").pop()}`);
  const r = await stack.upWithEvents(targets, onEvent);
  // what the up deleted is gone: a later `--target` naming it would fail
  targets = targets.filter((u) => !preview.some((s) => s.op === "delete" && s.urn === u));
  timings.push(`pulumi up (${what}: ${JSON.stringify(r.changes)}): ${r.ms} ms`);
  expect(r.result).toBe("succeeded");
  log(`${what}: ${r.steps.map((s) => `${s.op} ${s.name}`).join(", ")}`);
  log(`${what}, previewed: ${previewed.join(", ")}`);
  return { ...r, previewed };
}

/** A second `pulumi up` of the same config: only `same`, no step ran. */
async function noOp(what: string): Promise<void> {
  const r = await stack.upWithEvents(targets);
  timings.push(`pulumi up (no-op after ${what}): ${r.ms} ms`);
  expect({ what, changes: Object.keys(r.changes), steps: r.steps.map((s) => `${s.op} ${s.name}`) }).toEqual({
    what,
    changes: ["same"],
    steps: [],
  });
}

const named = (r: UpdateWithSteps, name: string): EngineStep => {
  const s = r.steps.find((x) => x.name === name);
  if (!s) throw new Error(`${name} took no step: ${r.steps.map((x) => `${x.op} ${x.name}`).join(", ")}`);
  return s;
};
/** `a` ended before `b` began (by the engine's event sequence). */
const endedBefore = (a: EngineStep, b: EngineStep) => ({ a: a.name, b: b.name, ok: a.endSeq! < b.startSeq });
const secs = (s: EngineStep) => (s.endMs! - s.startMs) / 1000;
/** The `log` output (the step's own `edgecloud:` lines) of a HostStepRun in the state. */
async function stepLogs(): Promise<Map<string, string>> {
  const byName = resourcesByName(await stack.exportWithSecrets());
  return new Map(
    [...byName].filter(([, r]) => r.type.endsWith(":HostStepRun")).map(([n, r]) => [n, String(r.outputs.log ?? "")]),
  );
}
const loadFigure = (what: string, l: Load, lost: number, members: number) =>
  `${what}: writer acknowledged ${l.acked.length} keys, lost ${lost}, gave up ${l.failed}, ${l.retries} retries; longest gap between acknowledged writes ${fmt(l.maxGapS)} s; sampler: ${l.samples} samples, min healthy ${l.minHealthy}/${members}, below quorum ${fmt(l.belowQuorumS)} s, fewer than all healthy ${fmt(l.degradedS)} s (load ${loadAverage()})`;

suite("issue 16: the etcd day-2 operations, each a config change + pulumi up (executor in-process)", () => {
  /** The spec after the restore (its restore field kept: the same id never restores twice). */
  let restoreSpec: K3sHaClusterSpecInput = V3517;

  beforeAll(async () => {
    const c = await labCluster({ hosts: HOSTS5, spec: V3517 });
    let t = Date.now();
    lab = await Lab.start({ hosts: c.labHosts, log });
    timings.push(`lab boot (${c.labHosts.length} hosts): ${Date.now() - t} ms`);
    const knownHosts = readFileSync(join(lab.dir, "known_hosts"), "utf8").trim().split("\n");
    hostsConfig = (hs) =>
      hs.map((h) => ({
        name: h.name,
        address: ip(h.name),
        ssh: {
          user: "root",
          privateKeyPath: join(the().dir, "id_ed25519"),
          hostKey: knownHosts
            .find((l) => l.startsWith(`${ip(h.name)} `))!
            .split(" ")
            .slice(1, 3)
            .join(" "),
        },
        os: "debian-12",
        arch: "amd64",
        roles: [...h.roles],
      }));
    // the writer's etcdctl (v3.5.17, built here); its client certificate is the one the library gives server-1
    copyFileSync(join(tools.binDir, "etcdctl"), join(lab.host(WRITER).root, "usr/local/bin/etcdctl"));
    probe = new EtcdProbe({
      lab,
      on: WRITER,
      address: ip,
      writeTo: MEMBERS,
      tls: {
        ca: "/etc/rancher/k3s/etcd/ca.crt",
        cert: "/etc/rancher/k3s/etcd/client.crt",
        key: "/etc/rancher/k3s/etcd/client.key",
      },
    });
    t = Date.now();
    stack = await PulumiStack.create({
      program: join(REPO, "stacks/lab"),
      stack: "lifecycle",
      tools,
      netnsPath: lab.sshArgv(MEMBERS[0]!)[1]!.replace(/^--net=/, ""),
    });
    await stack.setConfig("executor", "in-process");
    timings.push(`stack init: ${Date.now() - t} ms`);
  }, 10 * 60_000);

  afterAll(async () => {
    if (stack) await stack.remove();
    await lab?.stop(log);
    console.log(
      `engine timings (lifecycle):\n  ${timings.join("\n  ")}\nfigures (lifecycle):\n  ${figures.join("\n  ")}`,
    );
  }, 10 * 60_000);

  test("GIVEN 3 etcd hosts and a server WHEN pulumi up THEN 3 members of Debian's etcd 3.4.23 run, healthy over TLS; a second up changes nothing", async () => {
    const r = await apply("create", HOSTS, DISTRO);
    expect(r.steps.every((s) => s.op === "create")).toBe(true);
    expect(r.steps.filter((s) => s.name.endsWith("-etcd-member")).map((s) => s.name)).toEqual([
      "lab-etcd-1-etcd-member",
      "lab-etcd-2-etcd-member",
      "lab-etcd-3-etcd-member",
    ]);
    expect(await probe.versions(MEMBERS)).toEqual(["3.4.23", "3.4.23", "3.4.23"]);
    await noOp("create");
  });

  test("WHEN the config changes etcd to v3.5.17 prestaged THEN pulumi up rolls the members one at a time (snapshot each, leader last) under the writer: 0 keys lost, quorum kept; a second up changes nothing", async () => {
    stageEtcdRelease(the(), [...MEMBERS, ...SPARE], { binDir: tools.binDir, version: "v3.5.17", dir: PRESTAGED });
    await probe.startLoad("up", MEMBERS);
    await sleep(3000);
    const leaders = new Map<string, Promise<string>>();
    const r = await apply("upgrade", HOSTS, V3517, (e) => {
      const m = e.resourcePreEvent?.metadata;
      if (m && m.op === "update" && m.urn.endsWith("-etcd-member"))
        leaders.set(m.urn.split("::").pop()!, probe.leader(MEMBERS));
    });
    await sleep(3000);
    const l = await probe.stopLoad("up", 3);
    // exactly the etcd hosts' steps, in place (their pre-flight carries the wanted version, and every step of a host
    // carries its pre-flight's key); nothing of server-1, nothing created, replaced or deleted
    expect(r.steps.map((s) => `${s.op} ${s.name}`).sort()).toEqual(
      MEMBERS.flatMap((m) =>
        ["preflight", "etcd-install", "etcd-firewall", "etcd-member", "etcd-maintenance"].map(
          (step) => `update lab-${m}-${step}`,
        ),
      ).sort(),
    );
    // one member at a time, in order
    const turns = MEMBERS.map((m) => named(r, `lab-${m}-etcd-member`));
    expect([endedBefore(turns[0]!, turns[1]!), endedBefore(turns[1]!, turns[2]!)].filter((x) => !x.ok)).toEqual([]);
    // each member's turn after its own install staged the release
    for (const [i, m] of MEMBERS.entries())
      expect(endedBefore(named(r, `lab-${m}-etcd-install`), turns[i]!)).toMatchObject({ ok: true });
    // the preview named every step the update took; it names more (what waits on the pre-flight gate's verdict,
    // unknown until the pre-flights ran again)
    expect(r.steps.map((s) => `${s.op} ${s.name}`).filter((s) => !r.previewed.includes(s))).toEqual([]);
    figure(
      `upgrade preview: ${r.previewed.length} steps named, ${r.steps.length} taken; named but not taken: ${r.previewed.filter((p) => !r.steps.some((s) => `${s.op} ${s.name}` === p)).join(", ")}`,
    );
    const logs = await stepLogs();
    const turnLeaders = await Promise.all(MEMBERS.map((m) => leaders.get(`lab-${m}-etcd-member`)!));
    for (const [i, m] of MEMBERS.entries()) {
      const own = logs.get(`lab-${m}-etcd-member`)!;
      expect(own).toContain(`edgecloud: snapshot before restarting ${m}: /var/backups/etcd/pre-roll-${m}-`);
      expect(own).toContain(`edgecloud: ${m} runs 3.5.17`);
      // a member that led when its turn came handed leadership to a later one before it restarted
      if (i < MEMBERS.length - 1 && turnLeaders[i] === m) expect(own).toMatch(/leadership moved from /);
      figure(
        `upgrade: ${m}'s turn ${fmt(secs(turns[i]!))} s, leader at its start ${turnLeaders[i]} (${own.split("\n").join(" | ")})`,
      );
    }
    expect(await probe.versions(MEMBERS)).toEqual(["3.5.17", "3.5.17", "3.5.17"]);
    for (const m of MEMBERS)
      expect(`${m}: ${(await the().sh(m, "ls /var/backups/etcd | grep -c '^pre-roll-' || true")).trim()}`).toBe(
        `${m}: 1`,
      );
    const held = await probe.keysHeld("up");
    const lost = l.acked.filter((k) => !held.has(k));
    figure(
      `upgrade 3.4.23 → 3.5.17 through pulumi up (${fmt(r.ms / 1000)} s): ${loadFigure("writer", l, lost.length, 3)}`,
    );
    expect(l.acked.length).toBeGreaterThan(20);
    expect(lost).toEqual([]);
    expect(l.failed).toBe(0);
    expect(l.belowQuorumS).toBe(0);
    await noOp("upgrade");
  });

  test("WHEN etcd-4 and etcd-5 join the config THEN pulumi up issues their certificates and adds them one at a time (member add, join existing); no running member restarts; 0 keys lost; a second up changes nothing", async () => {
    const pidsBefore = await probe.pids(MEMBERS);
    await probe.startLoad("out", MEMBERS);
    await sleep(2000);
    const r = await apply("scale-out 3 → 5", HOSTS5, V3517);
    await sleep(2000);
    const l = await probe.stopLoad("out", 3);
    const created = r.steps.filter((s) => s.op === "create").map((s) => s.name);
    for (const m of SPARE) {
      expect(created).toEqual(
        expect.arrayContaining([`lab-etcd-${m}-server`, `lab-etcd-${m}-peer`, `lab-${m}-etcd-member`]),
      );
    }
    // created only for the new members; the rest updated in place, nothing replaced or deleted
    expect(created.filter((n) => !SPARE.some((m) => n.includes(`${m}-`)))).toEqual([]);
    expect(r.steps.filter((s) => s.op !== "create" && s.op !== "update").map((s) => `${s.op} ${s.name}`)).toEqual([]);
    const joins = SPARE.map((m) => named(r, `lab-${m}-etcd-member`));
    expect(endedBefore(named(r, "lab-etcd-3-etcd-member"), joins[0]!)).toMatchObject({ ok: true });
    expect(endedBefore(joins[0]!, joins[1]!)).toMatchObject({ ok: true });
    const logs = await stepLogs();
    for (const [i, m] of SPARE.entries()) {
      expect(logs.get(`lab-${m}-etcd-member`)).toContain(`edgecloud: member ${m} added to the running cluster`);
      figure(`scale-out: ${m} joined in ${fmt(secs(joins[i]!))} s`);
    }
    expect(await probe.memberList()).toEqual([
      "etcd-1 started",
      "etcd-2 started",
      "etcd-3 started",
      "etcd-4 started",
      "etcd-5 started",
    ]);
    expect(await probe.pids(MEMBERS)).toEqual(pidsBefore);
    const held = await probe.keysHeld("out");
    const lost = l.acked.filter((k) => !held.has(k));
    figure(`scale-out 3 → 5 through pulumi up (${fmt(r.ms / 1000)} s): ${loadFigure("writer", l, lost.length, 3)}`);
    expect(lost).toEqual([]);
    expect(l.failed).toBe(0);
    expect(l.noneS).toBe(0);
    await noOp("scale-out");
  });

  test("WHEN etcd-4 and etcd-5 leave the config THEN pulumi up updates the others, then deletes theirs (member remove first); 3 members remain, none restarted; 0 keys lost; a second up changes nothing", async () => {
    const pidsBefore = await probe.pids(MEMBERS);
    await probe.startLoad("in", MEMBERS);
    await sleep(2000);
    const r = await apply("scale-in 5 → 3", HOSTS, V3517);
    await sleep(2000);
    const l = await probe.stopLoad("in", 3);
    const deleted = r.steps.filter((s) => s.op === "delete").map((s) => s.name);
    for (const m of SPARE)
      expect(deleted).toEqual(
        expect.arrayContaining([`lab-etcd-${m}-server`, `lab-etcd-${m}-peer`, `lab-${m}-etcd-member`]),
      );
    expect(deleted.filter((n) => !SPARE.some((m) => n.includes(`${m}-`)))).toEqual([]);
    expect(r.steps.filter((s) => s.op !== "delete" && s.op !== "update").map((s) => `${s.op} ${s.name}`)).toEqual([]);
    // the remaining members' updates come before the deletes
    const lastUpdate = Math.max(...r.steps.filter((s) => s.op === "update").map((s) => s.endSeq!));
    const firstDelete = Math.min(...r.steps.filter((s) => s.op === "delete").map((s) => s.startSeq));
    expect(lastUpdate).toBeLessThan(firstDelete);
    expect(await probe.memberList()).toEqual(["etcd-1 started", "etcd-2 started", "etcd-3 started"]);
    expect(await probe.pids(MEMBERS)).toEqual(pidsBefore);
    for (const m of SPARE)
      expect(`${m}: ${(await the().sh(m, "systemctl is-active edgecloud-etcd.service || true")).trim()}`).toBe(
        `${m}: inactive`,
      );
    const held = await probe.keysHeld("in");
    const lost = l.acked.filter((k) => !held.has(k));
    figure(
      `scale-in 5 → 3 through pulumi up (${fmt(r.ms / 1000)} s; member deletes ${SPARE.map((m) => `${m} ${fmt(secs(named(r, `lab-${m}-etcd-member`)))} s`).join(", ")}): ${loadFigure("writer", l, lost.length, 3)}`,
    );
    expect(lost).toEqual([]);
    expect(l.failed).toBe(0);
    expect(l.noneS).toBe(0);
    await noOp("scale-in");
  });

  test("GIVEN a snapshot on every member WHEN every member's data is lost and the config names the snapshot (k3s.etcd.restore) THEN pulumi up restores every member before any starts, and all the snapshot's keys are back; a second up changes nothing", async () => {
    await the().sh("etcd-1", "systemctl start edgecloud-etcd-snapshot.service");
    const snapshot = (await the().sh("etcd-1", "ls -1 /var/backups/etcd/snapshot-*.db | tail -n 1")).trim();
    const sha256 = (await the().sh("etcd-1", `sha256sum ${snapshot}`)).split(" ")[0]!;
    for (const m of ["etcd-2", "etcd-3"]) {
      mkdirSync(join(the().host(m).root, "var/backups/etcd"), { recursive: true, mode: 0o700 });
      copyFileSync(join(the().host("etcd-1").root, snapshot), join(the().host(m).root, snapshot));
    }
    const expected = new Map<string, Set<string>>();
    for (const tag of ["up", "out", "in"]) expected.set(tag, await probe.keysHeld(tag));
    await the().sh(WRITER, `for i in $(seq 1 20); do ${probe.etcdctl(MEMBERS)} put post/$i x >/dev/null; done`);
    expect((await probe.keysHeld("post")).size).toBe(20);
    for (const m of MEMBERS) await the().sh(m, "systemctl stop edgecloud-etcd.service; rm -rf /var/lib/etcd");
    const spec: K3sHaClusterSpecInput = {
      ...V3517,
      etcd: { ...V3517.etcd, restore: { id: "dr-1", snapshot, sha256 } },
    };
    const t0 = Date.now();
    const r = await apply("restore", HOSTS, spec);
    const restores = MEMBERS.map((m) => named(r, `lab-${m}-etcd-restore`));
    const starts = MEMBERS.map((m) => named(r, `lab-${m}-etcd-member`));
    expect(restores.map((s) => s.op)).toEqual(["create", "create", "create"]);
    expect(starts.map((s) => s.op)).toEqual(["update", "update", "update"]);
    // no member step began before every restore ended
    expect(Math.min(...starts.map((s) => s.startSeq))).toBeGreaterThan(Math.max(...restores.map((s) => s.endSeq!)));
    expect(r.steps.filter((s) => !restores.includes(s) && !starts.includes(s)).map((s) => `${s.op} ${s.name}`)).toEqual(
      [],
    );
    const logs = await stepLogs();
    for (const m of MEMBERS) expect(logs.get(`lab-${m}-etcd-restore`)).toContain(`restored from ${snapshot}`);
    let healthy = "";
    for (let i = 0; i < 60 && healthy !== "3"; i++) {
      if (i) await sleep(1000);
      healthy = (
        await the().sh(WRITER, `${probe.etcdctl(MEMBERS)} endpoint health 2>&1 | grep -c ' is healthy' || true`)
      ).trim();
    }
    const healthyAfterS = (Date.now() - t0) / 1000;
    expect(healthy).toBe("3");
    let back = 0;
    for (const [tag, keys] of expected) {
      const held = await probe.keysHeld(tag);
      expect(`${tag}: ${[...keys].filter((k) => !held.has(k)).length} missing`).toBe(`${tag}: 0 missing`);
      back += keys.size;
    }
    expect((await probe.keysHeld("post")).size).toBe(0);
    expect(await probe.memberList()).toEqual(["etcd-1 started", "etcd-2 started", "etcd-3 started"]);
    figure(
      `restore of 3 members through pulumi up: up ${fmt(r.ms / 1000)} s (restores ${restores.map((s) => fmt(secs(s))).join(" / ")} s), all healthy ${fmt(healthyAfterS)} s after it began; ${back} of ${back} snapshot keys back, 0 of 20 later keys (point in time)`,
    );
    await noOp("restore");
    restoreSpec = spec;
  });

  test("WHEN the config raises k3s.etcd.rotation.generation THEN pulumi up replaces every leaf certificate (not the CA) and rolls the members one at a time under the writer: new serials served, 0 keys lost; a second up changes nothing", async () => {
    const serialsBefore = await Promise.all(MEMBERS.map((m) => probe.servedSerial(m)));
    const clientCert = () => the().sh(WRITER, "openssl x509 -noout -serial -in /etc/rancher/k3s/etcd/client.crt");
    const clientBefore = await clientCert();
    const pidsBefore = await probe.pids(MEMBERS);
    const spec: K3sHaClusterSpecInput = { ...restoreSpec, etcd: { ...restoreSpec.etcd, rotation: { generation: 1 } } };
    await probe.startLoad("rot", MEMBERS);
    await sleep(2000);
    const r = await apply("rotation", HOSTS, spec);
    await sleep(2000);
    const l = await probe.stopLoad("rot", 3);
    const certs = r.steps.filter((s) => s.type.endsWith(":Certificate") || s.type.endsWith(":CertificateAuthority"));
    const replaced = [...new Set(certs.filter((s) => s.op === "create-replacement").map((s) => s.name))].sort();
    expect(replaced).toEqual(
      [
        ...MEMBERS.flatMap((m) => [`lab-etcd-${m}-peer`, `lab-etcd-${m}-server`]),
        "lab-etcd-admin",
        "lab-etcd-client-server-1",
      ].sort(),
    );
    expect(certs.filter((s) => s.name === "lab-etcd-ca")).toEqual([]);
    // then the member steps (their certificate files) and server-1's K3s config (its client certificate), nothing else
    expect(
      r.steps
        .filter((s) => !certs.includes(s))
        .map((s) => `${s.op} ${s.name}`)
        .sort(),
    ).toEqual(["update lab-server-1-k3s-config", ...MEMBERS.map((m) => `update lab-${m}-etcd-member`)].sort());
    // the replaced certificates' old versions are deleted only after every step that used them ran
    const lastUpdate = Math.max(...r.steps.filter((s) => s.op === "update").map((s) => s.endSeq!));
    expect(Math.min(...certs.filter((s) => s.op === "delete-replaced").map((s) => s.startSeq))).toBeGreaterThan(
      lastUpdate,
    );
    const turns = MEMBERS.map((m) => named(r, `lab-${m}-etcd-member`));
    expect(turns.map((s) => s.op)).toEqual(["update", "update", "update"]);
    expect([endedBefore(turns[0]!, turns[1]!), endedBefore(turns[1]!, turns[2]!)].filter((x) => !x.ok)).toEqual([]);
    const logs = await stepLogs();
    for (const [i, m] of MEMBERS.entries()) {
      expect(logs.get(`lab-${m}-etcd-member`)).toContain(`edgecloud: snapshot before restarting ${m}`);
      figure(`rotation: ${m}'s turn ${fmt(secs(turns[i]!))} s`);
    }
    const serialsAfter = await Promise.all(MEMBERS.map((m) => probe.servedSerial(m)));
    for (let i = 0; i < MEMBERS.length; i++) {
      expect(serialsAfter[i]).toMatch(/^serial=/);
      expect(serialsAfter[i]).not.toBe(serialsBefore[i]);
    }
    const pidsAfter = await probe.pids(MEMBERS);
    for (let i = 0; i < MEMBERS.length; i++) expect(pidsAfter[i]).not.toBe(pidsBefore[i]);
    expect(await clientCert()).not.toBe(clientBefore);
    const held = await probe.keysHeld("rot");
    const lost = l.acked.filter((k) => !held.has(k));
    figure(
      `leaf rotation through pulumi up (${fmt(r.ms / 1000)} s, ${replaced.length} certificates replaced): ${loadFigure("writer", l, lost.length, 3)}`,
    );
    expect(lost).toEqual([]);
    expect(l.failed).toBe(0);
    expect(l.belowQuorumS).toBe(0);
    await noOp("rotation");
  });
});
