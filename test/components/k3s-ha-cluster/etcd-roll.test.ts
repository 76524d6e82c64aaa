import { renderK3sHaClusterSteps } from "../../../components/k3s-ha-cluster/plan";
import { placeholderMaterial } from "../../../components/k3s-ha-cluster/material";
import { validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { checkPreflightFacts, parsePreflightFacts } from "../../../components/k3s-ha-cluster/preflight-step";
import {
  checkEtcdMembershipChange,
  checkEtcdVersionChange,
  etcdVersionChangeRule,
  parseEtcdVersion,
} from "../../../components/k3s-ha-cluster/etcd/version-policy";
import { K3sHaClusterSpecInput } from "../../../components/k3s-ha-cluster/spec";
import { haHosts, haSpec } from "../../fixtures/cluster";
import { certificateReplaces } from "../../../lib/pulumi/certificates";
import { withinRenewalWindow } from "../../../lib/pki/x509";
import { shellcheck } from "../../support/shellcheck";
import { renderStepBundle } from "../../../lib/steps/bundle";
import { etcdRollingRestartSteps } from "../../../components/k3s-ha-cluster/etcd/rolling-restart";
import { spawnSync } from "child_process";

const debianMembers = haHosts.map((h) => (h.roles.includes("etcd") ? { ...h, os: "debian-12" as const } : h));
const render = (spec: K3sHaClusterSpecInput, hosts = haHosts) => {
  const p = validateK3sHaCluster({ name: "demo", hosts, spec });
  return new Map(renderK3sHaClusterSteps(p, placeholderMaterial(p)).map((s) => [s.id, s]));
};
const v3517 = render({ ...haSpec, etcd: { version: "v3.5.17", install: { kind: "prestaged", dir: "/opt/etcd" } } });
const v3518 = render({ ...haSpec, etcd: { version: "v3.5.18", install: { kind: "prestaged", dir: "/opt/etcd" } } });
const distro = render({ ...haSpec, etcd: { install: { kind: "distro" } } }, debianMembers);

describe("etcd version policy", () => {
  test.each([
    ["3.4.23", "3.5.17", undefined],
    ["3.5.17", "3.5.18", undefined],
    ["3.5.17", "3.5.17", undefined],
    [
      "3.5.18",
      "3.5.17",
      'is a downgrade from 3.5.18; etcd supports patch upgrades and minor upgrades only (etcd.io upgrade policy), and a member below the cluster\'s minor version refuses to start ("invalid downgrade")',
    ],
    [
      "3.3.27",
      "3.5.17",
      'skips a minor version: from 3.3.27 upgrade to the latest v3.4.x first; etcd upgrades one minor version at a time ("Upgrades that skip a minor version are not supported")',
    ],
    ["3.5.17", "4.0.0", "changes the major version from 3.5.17; etcd upgrades one minor version at a time within v3"],
  ])("GIVEN members on %s WHEN the spec asks for %s THEN %s", (from, to, rule) => {
    expect(etcdVersionChangeRule(parseEtcdVersion(from)!, parseEtcdVersion(to)!)).toBe(rule);
  });

  test("GIVEN members on two versions THEN one message per version naming its members and the field", () => {
    expect(
      checkEtcdVersionChange(
        [
          { host: "etcd-1", version: "3.5.18" },
          { host: "etcd-2", version: "3.5.18" },
          { host: "etcd-3", version: "3.5.16" },
          { host: "etcd-4", version: "none" },
        ],
        "v3.5.17",
      ),
    ).toEqual([
      'k3s.etcd.version "v3.5.17" is a downgrade from 3.5.18; etcd supports patch upgrades and minor upgrades only (etcd.io upgrade policy), and a member below the cluster\'s minor version refuses to start ("invalid downgrade") (running on etcd-1, etcd-2)',
    ]);
  });

  test("GIVEN the pre-flight facts of members running 3.3 THEN the cross-host gate refuses v3.5.17 before any step", () => {
    const facts = [
      "host=etcd-1 hostname=etcd-1 machine-id=1 etcd-want=3.5.17 etcd-running=3.3.27",
      "host=etcd-2 hostname=etcd-2 machine-id=2 etcd-want=3.5.17 etcd-running=none",
      "host=server-1 hostname=server-1 machine-id=3",
    ].map((l) => parsePreflightFacts(`edgecloud-facts: ${l}`)!);
    expect(checkPreflightFacts(facts)).toEqual([
      'k3s.etcd.version "v3.5.17" skips a minor version: from 3.3.27 upgrade to the latest v3.4.x first; etcd upgrades one minor version at a time ("Upgrades that skip a minor version are not supported") (running on etcd-1)',
    ]);
    // the package decides the version of a distro install: nothing to check
    const d = ["host=etcd-1 hostname=etcd-1 machine-id=1 etcd-want=distro etcd-running=3.4.23"].map((l) =>
      parsePreflightFacts(`edgecloud-facts: ${l}`)!,
    );
    expect(checkPreflightFacts(d)).toEqual([]);
  });

  test("the members' pre-flight carries the wanted version (a version change runs it again) and reports the running one", () => {
    const pre = v3517.get("etcd-2/preflight")!.script;
    expect(pre).toContain("etcd_want=3.5.17\n");
    expect(pre).toContain("etcd-want=$etcd_want etcd-running=$etcd_running");
    expect(v3518.get("etcd-2/preflight")!.hash).not.toBe(v3517.get("etcd-2/preflight")!.hash);
    expect(v3517.get("server-1/preflight")!.script).not.toContain("etcd_want");
    expect(distro.get("etcd-1/preflight")!.script).toContain("etcd_want=distro\n");
  });
});

describe("etcd upgrade roll (member steps)", () => {
  test("WHEN the version changes THEN every member step changes (each re-runs, chained) and etcd-install only stages", () => {
    for (const m of ["etcd-1", "etcd-2", "etcd-3"]) {
      expect(v3518.get(`${m}/etcd-member`)!.hash).not.toBe(v3517.get(`${m}/etcd-member`)!.hash);
      const install = v3518.get(`${m}/etcd-install`)!.script;
      expect(install).toContain("stage=/usr/local/lib/edgecloud/etcd/v3.5.18\n");
      // the clients are installed at once, the server binary never by etcd-install
      expect(install).toContain("for b in etcdctl etcdutl; do");
      expect(install).not.toMatch(/\/usr\/local\/bin\/etcd[^a-z]/);
    }
    expect(v3518.get("etcd-2/etcd-member")!.dependsOn).toContain("etcd-1/etcd-member");
    expect(v3518.get("etcd-3/etcd-member")!.dependsOn).toContain("etcd-2/etcd-member");
  });

  test("a member's turn: health gate over TLS → version guard → snapshot → leader hand-off → binary → restart → health gate", () => {
    const s = v3518.get("etcd-2/etcd-member")!.script;
    const roll = s.slice(s.indexOf('elif [ "$(ec_applied_get etcd)" != "$want" ]; then'));
    const at = (needle: string) => {
      const i = roll.indexOf(needle);
      if (i < 0) throw new Error(`missing: ${needle}`);
      return i;
    };
    const order = [
      "ec_gate_wait /usr/local/sbin/edgecloud-etcdctl --command-timeout=5s endpoint health",
      'roll stopped before $member_name: not every member is healthy (k3s.etcd.rollGate.timeoutSeconds 120)"',
      "want_version=3.5.18\n",
      "is a downgrade from $v",
      "skips a minor version from $v",
      "snap=/var/backups/etcd/pre-roll-etcd-2-$(date -u +%Y%m%dT%H%M%SZ).db",
      '--endpoints=https://127.0.0.1:2379 snapshot save "$snap.part"',
      "later=(etcd-3)\n",
      'move-leader "$id"',
      "install -m 0755 /usr/local/lib/edgecloud/etcd/v3.5.18/etcd /usr/local/bin/etcd.new",
      "systemctl restart edgecloud-etcd.service",
      "ec_gate_wait /usr/local/sbin/edgecloud-etcdctl --endpoints=https://127.0.0.1:2379 --command-timeout=5s endpoint health",
      'roll stopped after $member_name: it is not healthy after its restart (k3s.etcd.rollGate.timeoutSeconds 120)"',
      'roll stopped after $member_name: not every member is healthy again (k3s.etcd.rollGate.timeoutSeconds 120)"',
      "! -name v3.5.18 -exec rm -rf {} +",
      'ec_applied_set etcd "$want"',
    ].map(at);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // a failed gate exits: the later members' steps (which wait on this one) never run
    expect(roll.match(/exit 1/g)).toHaveLength(5);
    // the restart fingerprint reads the staged binary: the same release staged again restarts nothing
    expect(s).toMatch(/want=\$\(ec_fingerprint .* \/usr\/local\/lib\/edgecloud\/etcd\/v3\.5\.18\/etcd\)\n/);
  });

  test("the leader rolls last: each member hands leadership only to members after it; the last has none to hand to", () => {
    expect(v3517.get("etcd-1/etcd-member")!.script).toContain("later=(etcd-2 etcd-3)\n");
    expect(v3517.get("etcd-3/etcd-member")!.script).toContain("later=()\n");
  });

  test("GIVEN a distro install THEN the roll has no version guard and no binary to place (the package owns both)", () => {
    const s = distro.get("etcd-1/etcd-member")!.script;
    expect(s).not.toContain("want_version=");
    expect(s).not.toContain("/usr/local/lib/edgecloud/etcd");
    expect(s).toContain("snapshot save");
    expect(s).toMatch(/want=\$\(ec_fingerprint .* \/usr\/bin\/etcd\)\n/);
  });
});

describe("the roll's health gate (k3s.etcd.rollGate)", () => {
  /**
   * Runs ec_gate_wait from the rendered member step with a CMD that fails `fails` times, `sleep` replaced by a
   * function that advances bash's SECONDS (no real waiting): the tries made and the exit status.
   */
  const gateRun = (rollGate: { timeoutSeconds?: number; intervalSeconds?: number }, fails: number) => {
    const script = render({ ...haSpec, etcd: { rollGate } }).get("etcd-1/etcd-member")!.script;
    const fn = script.slice(0, script.indexOf("\n}\n") + 3);
    const r = spawnSync(
      "bash",
      [
        "-c",
        `${fn}sleep() { SECONDS=$((SECONDS + $1)); }
n=0; probe() { n=$((n + 1)); [ "$n" -gt ${fails} ]; }
ec_gate_wait probe; rc=$?; echo "$n $rc $SECONDS"`,
      ],
      { encoding: "utf8" },
    );
    const [tries, status, seconds] = r.stdout.trim().split(" ").map(Number);
    return { tries, status, seconds };
  };

  test("GIVEN the default THEN every member's gate waits up to 120 s, trying every 2 s; the wait is the step's own (not the prelude)", () => {
    const s = v3517.get("etcd-2/etcd-member")!.script;
    expect(s).toContain("local end=$((SECONDS + 120))");
    expect(s).toContain("sleep 2\n");
    expect(s.match(/ec_gate_wait \/usr\/local\/sbin\/edgecloud-etcdctl/g)).toHaveLength(3);
    expect(s).not.toMatch(/ec_retry \d+ \d+ \S+ --command-timeout=5s endpoint health/);
  });

  test("GIVEN timeoutSeconds 20 and intervalSeconds 5 WHEN no try passes THEN the gate tries 5 times over 20 s and fails; WHEN the third passes THEN it succeeds after 10 s", () => {
    expect(gateRun({ timeoutSeconds: 20, intervalSeconds: 5 }, 99)).toEqual({ tries: 5, status: 1, seconds: 20 });
    expect(gateRun({ timeoutSeconds: 20, intervalSeconds: 5 }, 2)).toEqual({ tries: 3, status: 0, seconds: 10 });
    expect(gateRun({ timeoutSeconds: 15 }, 99)).toEqual({ tries: 8, status: 1, seconds: 14 });
  });

  test("GIVEN an interval longer than half the timeout, or values out of range THEN validation refuses them naming the field", () => {
    const v = (rollGate: unknown) => () =>
      validateK3sHaCluster({ name: "demo", hosts: haHosts, spec: { ...haSpec, etcd: { rollGate } } });
    expect(v({ timeoutSeconds: 10, intervalSeconds: 6 })).toThrow(
      "k3s.etcd.rollGate.intervalSeconds 6 must be at most half of etcd.rollGate.timeoutSeconds (10); otherwise the gate tries endpoint health only once and a member's restart (a few seconds) stops the roll",
    );
    expect(v({ timeoutSeconds: 5 })).toThrow(/k3s\.etcd\.rollGate\.timeoutSeconds 5 .*10/);
    expect(v({ timeoutSeconds: 30, every: 2 })).toThrow(/k3s\.etcd\.rollGate.*every/);
  });

  test("the rolling-restart operation waits with the same gate; both shellcheck clean", () => {
    const p = validateK3sHaCluster({
      name: "demo",
      hosts: haHosts,
      spec: { ...haSpec, etcd: { rollGate: { timeoutSeconds: 30 } } },
    });
    const [first] = etcdRollingRestartSteps(
      p.hosts.filter((h) => h.roles.includes("etcd")),
      p.spec.etcd,
    );
    expect(first!.script).toContain("local end=$((SECONDS + 30))");
    expect(first!.script.match(/^ec_gate_wait /gm)).toHaveLength(3);
    for (const step of [first!, v3517.get("etcd-2/etcd-member")!])
      expect({ id: step.id, findings: shellcheck(renderStepBundle(step)) }).toEqual({ id: step.id, findings: "" });
  });
});

describe("etcd scale (membership)", () => {
  const extra = (n: number) => ({
    name: `etcd-${n}`,
    address: `192.168.10.${10 + n}`,
    ssh: { privateKeyPath: "/k" },
    os: "debian-12" as const,
    arch: "amd64" as const,
    roles: ["etcd" as const],
  });
  const five = [...haHosts, extra(4), extra(5)];
  const spec = { ...haSpec, etcd: { install: { kind: "release" as const } } };

  test.each([
    [3, 5, [], undefined],
    [5, 3, [], undefined],
    [3, 3, [], undefined],
    [0, 1, [], undefined],
    [3, 1, ["below-quorum"], undefined],
    [
      3,
      1,
      [],
      'hosts: 1 etcd member would remain of the 3 running; removing more than a minority in one change loses quorum (3 members need 2): remove at most 1 per change, or set k3s.etcd.force: ["below-quorum"]',
    ],
    [
      5,
      2,
      [],
      'hosts: 2 etcd members would remain of the 5 running; removing more than a minority in one change loses quorum (5 members need 3): remove at most 2 per change, or set k3s.etcd.force: ["below-quorum"]',
    ],
  ])("GIVEN %i members running WHEN the environment has %i (force %j) THEN %s", (running, size, force, msg) => {
    expect(checkEtcdMembershipChange(running, size, force)).toBe(msg);
  });

  test("GIVEN the members' pre-flight facts of a 3-member cluster WHEN the environment keeps 1 THEN the gate refuses it", () => {
    const facts = [
      "host=etcd-1 hostname=etcd-1 machine-id=1 etcd-want=3.5.17 etcd-running=3.5.17 etcd-members=3 etcd-size=1 etcd-force=none",
    ].map((l) => parsePreflightFacts(`edgecloud-facts: ${l}`)!);
    expect(checkPreflightFacts(facts)).toEqual([
      'hosts: 1 etcd member would remain of the 3 running; removing more than a minority in one change loses quorum (3 members need 2): remove at most 1 per change, or set k3s.etcd.force: ["below-quorum"]',
    ]);
    const forced = [
      "host=etcd-1 hostname=etcd-1 machine-id=1 etcd-want=3.5.17 etcd-running=3.5.17 etcd-members=3 etcd-size=1 etcd-force=below-quorum",
    ].map((l) => parsePreflightFacts(`edgecloud-facts: ${l}`)!);
    expect(checkPreflightFacts(forced)).toEqual([]);
  });

  test("GIVEN 4 etcd hosts THEN validation refuses the even count unless k3s.etcd.force names it", () => {
    const four = [...haHosts, extra(4)];
    expect(() => validateK3sHaCluster({ name: "demo", hosts: four, spec })).toThrow(
      'hosts ["etcd-1","etcd-2","etcd-3","etcd-4"] give 4 hosts the role "etcd"; etcd needs an odd number of members (1, 3, 5 or 7) to keep quorum (to pass through an even count on purpose set k3s.etcd.force: ["even-member-count"])',
    );
    const p = validateK3sHaCluster({
      name: "demo",
      hosts: four,
      spec: { ...spec, etcd: { ...spec.etcd, force: ["even-member-count"] } },
    });
    expect(p.spec.etcd.force).toEqual(["even-member-count"]);
  });

  test("WHEN members are added THEN the running members' restart inputs do not change (no restart) and the new ones join existing", () => {
    const three = render(spec);
    const big = render(spec, five);
    for (const m of ["etcd-1", "etcd-2", "etcd-3"]) {
      const files = (s: typeof three) =>
        s
          .get(`${m}/etcd-member`)!
          .files.filter((f) => !/cluster\.env$|edgecloud-etcdctl$/.test(f.path))
          .map((f) => [f.path, f.content]);
      expect(files(big)).toEqual(files(three));
    }
    const s = big.get("etcd-5/etcd-member")!.script;
    const at = (needle: string) => s.indexOf(needle);
    expect(at('member add "$member_name"')).toBeGreaterThan(0);
    expect(at("member add")).toBeLessThan(at("systemctl start edgecloud-etcd.service"));
    expect(s).toContain("printf 'ETCD_INITIAL_CLUSTER=%s\\n' \"$initial\"");
    expect(s).toContain(
      'if [ "$state" = existing ]; then\n    # a member joining a running cluster is up before the next one may be added (etcd refuses an add meanwhile)\n    systemctl start edgecloud-etcd.service\n    ec_retry 60 2',
    );
    expect(big.get("etcd-5/etcd-member")!.dependsOn).toContain("etcd-4/etcd-member");
    // removal: the member leaves the cluster (member remove) before its unit stops
    const del = big.get("etcd-5/etcd-member")!.deleteScript;
    expect(del.indexOf("member remove")).toBeLessThan(del.indexOf("ec_unit_remove"));
  });
});

describe("etcd restore (k3s.etcd.restore)", () => {
  const restore = { id: "dr-1", snapshot: "/var/backups/etcd/snapshot-20261202T040000Z.db", sha256: "a".repeat(64) };
  const dr = render({ ...haSpec, etcd: { install: { kind: "release" }, restore } });

  test("every member restores (checked, stopped, data moved aside, etcdutl snapshot restore) before any member step starts", () => {
    const restores = ["etcd-1", "etcd-2", "etcd-3"].map((m) => `${m}/etcd-restore`);
    for (const m of ["etcd-1", "etcd-2", "etcd-3"]) {
      expect(dr.get(`${m}/etcd-member`)!.dependsOn).toEqual(expect.arrayContaining(restores));
      expect(dr.get(`${m}/etcd-restore`)!.dependsOn).toEqual([`${m}/etcd-install`]);
    }
    const s = dr.get("etcd-2/etcd-restore")!.script;
    const order = [
      'if [ "$(ec_applied_get etcd-restore)" != "$restore_id" ]; then',
      `echo '${"a".repeat(64)}  '"$snapshot" | sha256sum -c --quiet`,
      "systemctl stop edgecloud-etcd.service",
      '"${tool[@]}" snapshot restore "$snapshot" --name "$member_name" --initial-cluster=etcd-1=https://192.168.10.11:2380,etcd-2=https://192.168.10.12:2380,etcd-3=https://192.168.10.13:2380 --initial-cluster-token=demo-etcd --initial-advertise-peer-urls=https://192.168.10.12:2380 --data-dir "$work/data"',
      'mv "$data" "$aside"',
      'ec_applied_set etcd-restore "$restore_id"',
    ].map((n) => {
      const i = s.indexOf(n);
      if (i < 0) throw new Error(`missing: ${n}`);
      return i;
    });
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(s).not.toMatch(/rm -rf "\$data"/);
    for (const step of [dr.get("etcd-2/etcd-restore")!, dr.get("etcd-2/etcd-member")!])
      expect({ id: step.id, findings: shellcheck(renderStepBundle(step)) }).toEqual({ id: step.id, findings: "" });
  });

  test("every member step changes with a restore id (so Pulumi runs it again and it starts the restored member), and again with another id", () => {
    const withId = (id?: string) =>
      render({
        ...haSpec,
        etcd: { ...(id ? { restore: { id, snapshot: "/var/backups/etcd/s.db", sha256: "a".repeat(64) } } : {}) },
      });
    const [none, dr1, dr1Again, dr2] = [withId(), withId("dr-1"), withId("dr-1"), withId("dr-2")];
    for (const m of ["etcd-1", "etcd-2", "etcd-3"]) {
      const h = (r: typeof none) => r.get(`${m}/etcd-member`)!.hash;
      expect(new Set([h(none), h(dr1), h(dr2)]).size).toBe(3);
      expect(h(dr1Again)).toBe(h(dr1));
      expect(dr1.get(`${m}/etcd-member`)!.script).toContain(
        "# runs again after k3s.etcd.restore dr-1 to start the restored member\n",
      );
    }
  });

  test("without restore there is no restore step; invalid fields are refused with their path", () => {
    expect([...v3517.keys()].filter((k) => k.endsWith("/etcd-restore"))).toEqual([]);
    expect(() =>
      validateK3sHaCluster({
        name: "demo",
        hosts: haHosts,
        spec: { ...haSpec, etcd: { restore: { id: "-x", snapshot: "relative.db", sha256: "00" } } },
      }),
    ).toThrow(/k3s\.etcd\.restore\.id .*\n.*k3s\.etcd\.restore\.snapshot .*\n.*k3s\.etcd\.restore\.sha256 /);
  });
});

describe("leaf certificate rotation (k3s.etcd.rotation)", () => {
  const now = new Date("2026-12-02T00:00:00Z");
  const base = {
    caCertPem: "ca",
    caKeyPem: "k",
    request: { commonName: "etcd-1-server", usages: ["server" as const] },
  };

  test.each([
    ["2027-06-01T00:00:00Z", 30, 0, []],
    ["2026-12-20T00:00:00Z", 30, 0, ["renewBeforeDays"]],
    ["2027-06-01T00:00:00Z", 30, 1, ["generation"]],
  ])(
    "GIVEN a certificate expiring %s, a %i-day window and generation %i THEN it is replaced for %j",
    (notAfter, days, gen, why) => {
      expect(
        certificateReplaces(
          { ...base, notAfter, renewBeforeDays: days, generation: 0 },
          { ...base, renewBeforeDays: days, generation: gen },
          now,
        ),
      ).toEqual(why);
    },
  );

  test("state from before rotation existed (no generation, no window) replaces nothing", () => {
    expect(
      certificateReplaces(
        { ...base, notAfter: "2036-01-01T00:00:00Z" },
        { ...base, renewBeforeDays: 30, generation: 0 },
        now,
      ),
    ).toEqual([]);
    expect(withinRenewalWindow("not a date", 30, now)).toBe(false);
  });

  test("a window as long as the validity is refused (every up would re-issue and roll)", () => {
    expect(() =>
      validateK3sHaCluster({
        name: "demo",
        hosts: haHosts,
        spec: { ...haSpec, etcd: { certValidityDays: 30, rotation: { renewBeforeDays: 30 } } },
      }),
    ).toThrow(
      "k3s.etcd.rotation.renewBeforeDays 30 must be less than etcd.certValidityDays (30); otherwise every pulumi up re-issues every certificate and rolls the cluster",
    );
  });

  test("new member certificates change exactly the member steps' certificate files (restart inputs): they roll in order, the K3s servers' configs with their client certificates", () => {
    const p = validateK3sHaCluster({ name: "demo", hosts: haHosts, spec: haSpec });
    const a = renderK3sHaClusterSteps(p, placeholderMaterial(p));
    const orig = placeholderMaterial(p);
    const rotated = placeholderMaterial(p, "-rotated");
    // same CA and token, new leaves (what the Certificate resources re-issue)
    const b = renderK3sHaClusterSteps(p, { token: orig.token, etcd: { ...rotated.etcd!, ca: orig.etcd!.ca } });
    const changed = a.filter((s, i) => s.hash !== b[i]!.hash).map((s) => s.id);
    expect(changed.sort()).toEqual(
      [
        "etcd-1/etcd-member",
        "etcd-2/etcd-member",
        "etcd-3/etcd-member",
        "server-1/k3s-config",
        "server-2/k3s-config",
        "server-3/k3s-config",
      ].sort(),
    );
  });
});

describe("K3s roll order (no K3s binary in the lab: exact step order)", () => {
  const at = (v: string, extra: Partial<K3sHaClusterSpecInput> = {}) => {
    const p = validateK3sHaCluster({ name: "demo", hosts: haHosts, spec: { ...haSpec, version: v, ...extra } });
    return renderK3sHaClusterSteps(p, placeholderMaterial(p));
  };

  test("WHEN the K3s version changes THEN exactly the install and start steps of every node change; servers restart one at a time, each gated on Ready, then the agents", () => {
    const a = at("v1.30.8+k3s1");
    const b = at("v1.31.4+k3s1");
    const changed = b.filter((s, i) => s.hash !== a[i]!.hash);
    expect(changed.map((s) => s.id).sort()).toEqual(
      [
        ...["server-1", "server-2", "server-3", "agent-1", "agent-2"].flatMap((h) => [
          `${h}/k3s-install`,
          `${h}/k3s-start`,
        ]),
      ].sort(),
    );
    const byId = new Map(b.map((s) => [s.id, s]));
    const startDeps = (h: string) => byId.get(`${h}/k3s-start`)!.dependsOn.filter((d) => d.endsWith("/k3s-start"));
    expect(["server-1", "server-2", "server-3", "agent-1", "agent-2"].map((h) => [h, startDeps(h)])).toEqual([
      ["server-1", []],
      ["server-2", ["server-1/k3s-start"]],
      ["server-3", ["server-2/k3s-start"]],
      ["agent-1", ["server-3/k3s-start"]],
      ["agent-2", ["server-3/k3s-start"]],
    ]);
    const s = byId.get("server-2/k3s-start")!.script;
    expect(s).toContain("k3s_version=v1.31.4+k3s1\n");
    // a server's turn ends only when its API and its node are Ready: the next server waits on that
    expect(s.indexOf("systemctl restart k3s.service")).toBeLessThan(s.indexOf("node_ready server-2"));
  });

  test("GIVEN agentRollConcurrency 1 THEN the agents restart one after another", () => {
    const byId = new Map(at("v1.31.4+k3s1", { agentRollConcurrency: 1 }).map((s) => [s.id, s]));
    expect(byId.get("agent-1/k3s-start")!.dependsOn.filter((d) => d.endsWith("/k3s-start"))).toEqual([
      "server-3/k3s-start",
    ]);
    expect(byId.get("agent-2/k3s-start")!.dependsOn.filter((d) => d.endsWith("/k3s-start"))).toEqual([
      "server-3/k3s-start",
      "agent-1/k3s-start",
    ]);
  });
});
