import { ETCD_UNIT } from "../../components/k3s-ha-cluster";
import { HostStep } from "../../lib/steps";
import { labCluster, LabCluster } from "./cluster";
import { describeFailures, executePlan } from "./executor";
import { Lab } from "./lab";

/**
 * Issue 16: a failed health gate stops a roll. Three members (Debian's etcd), one of them stopped; a configuration
 * change that restarts every member (quota) is applied: the first member's turn waits for every member to be healthy,
 * gives up after the typed k3s.etcd.rollGate.timeoutSeconds, and exits — it restarts nothing, and the later members' turns never start.
 */
const log = (m: string): void => void process.stderr.write(`[lab] ${m}\n`);
// the roll gate gives up after k3s.etcd.rollGate.timeoutSeconds (20 here; 120 by default)
jest.setTimeout(300_000);
const GATE_S = 20;

const MEMBERS = ["etcd-1", "etcd-2", "etcd-3"];
const HOSTS = [
  { name: "etcd-1", roles: ["etcd" as const], ip: 11 },
  { name: "etcd-2", roles: ["etcd" as const], ip: 12 },
  { name: "etcd-3", roles: ["etcd" as const], ip: 13 },
  { name: "server-1", roles: ["server" as const], ip: 21 },
];
const SPEC = {
  etcd: { install: { kind: "distro" as const }, rollGate: { timeoutSeconds: GATE_S } },
  registrationAddress: { kind: "external" as const, address: "10.213.0.21" },
};
const onMembers = (s: HostStep) => MEMBERS.includes(s.host);

let lab: Lab | undefined;
let c: LabCluster;
const the = (): Lab => {
  if (!lab) throw new Error("lab did not start");
  return lab;
};
const pid = async (m: string) => (await the().sh(m, `systemctl show -p MainPID --value ${ETCD_UNIT}`)).trim();

beforeAll(async () => {
  c = await labCluster({ hosts: HOSTS, spec: SPEC });
  lab = await Lab.start({ hosts: c.labHosts, log });
  const first = await executePlan(the(), c.plan, { only: onMembers });
  if (!first.ok) throw new Error(describeFailures(first));
  await the().sh(
    "etcd-1",
    "ec() { edgecloud-etcdctl endpoint health >/dev/null 2>&1; }; for i in $(seq 1 60); do ec && break; sleep 1; done",
  );
}, 10 * 60_000);

afterAll(async () => {
  await lab?.stop(log);
});

test("GIVEN etcd-3 stopped WHEN a change restarts every member THEN etcd-1's turn fails at the gate, restarts nothing, and etcd-2's and etcd-3's turns never run", async () => {
  await the().sh("etcd-3", `systemctl stop ${ETCD_UNIT}`);
  const before = [await pid("etcd-1"), await pid("etcd-2")];
  const changed = await labCluster({
    hosts: HOSTS,
    spec: { ...SPEC, etcd: { ...SPEC.etcd, quotaBackendBytes: 3 * 1024 ** 3 } },
    material: c.material,
  });
  const run = await executePlan(the(), changed.plan, { only: (s) => onMembers(s) && s.name !== "etcd-maintenance" });
  const r = run.get("etcd-1/etcd-member");
  log(`figure: the gate stopped the roll after ${(r.ms / 1000).toFixed(1)} s; skipped: ${run.skipped.join(", ")}`);
  expect(r.ok).toBe(false);
  expect(r.stderr).toContain(
    `edgecloud: roll stopped before etcd-1: not every member is healthy (k3s.etcd.rollGate.timeoutSeconds ${GATE_S})`,
  );
  // it waited the typed time, and not the 216 s the hard-coded 30 tries took (one try waits up to 5 s on etcd-3)
  expect(r.ms).toBeGreaterThanOrEqual(GATE_S * 1000);
  expect(r.ms).toBeLessThan(3 * GATE_S * 1000);
  expect(r.stderr).not.toContain("snapshot before restarting");
  expect([...run.skipped].sort()).toEqual(["etcd-2/etcd-member", "etcd-3/etcd-member"]);
  expect([await pid("etcd-1"), await pid("etcd-2")]).toEqual(before);
  // etcd-3 back: the same change now rolls through
  await the().sh("etcd-3", `systemctl start ${ETCD_UNIT}`);
  const again = await executePlan(the(), changed.plan, { only: onMembers });
  expect(describeFailures(again)).toBe("no failures");
  for (const m of MEMBERS) expect(again.get(`${m}/etcd-member`).stderr).toContain(`snapshot before restarting ${m}`);
});
