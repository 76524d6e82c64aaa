import { checkPreflightFacts, parsePreflightFacts } from "../../components/k3s-ha-cluster";
import { labCluster, LabCluster } from "./cluster";
import { executePlan, PlanRun } from "./executor";
import { Lab } from "./lab";

/**
 * Issue 3, pre-flight: a host whose hostname is another cluster host's name and a host below the memory minimum
 * are reported by the pre-flight steps, with clear messages, before anything is installed.
 */
const log = (m: string): void => void process.stderr.write(`[lab] ${m}\n`);
jest.setTimeout(120_000);

let lab: Lab | undefined;
let c: LabCluster;
let run: PlanRun;
const the = (): Lab => {
  if (!lab) throw new Error("lab did not start");
  return lab;
};

beforeAll(async () => {
  c = await labCluster({
    name: "preflight",
    hosts: [
      { name: "etcd-1", roles: ["etcd"], ip: 11 },
      { name: "server-1", roles: ["server"], ip: 21 },
    ],
    spec: { etcd: { install: { kind: "distro" } } },
    machines: {
      // 1 GiB where an etcd member needs 2 GiB
      "etcd-1": { memTotalMiB: 1024 },
      // a cloned machine that kept the first host's hostname
      "server-1": { hostname: "etcd-1" },
    },
  });
  lab = await Lab.start({ hosts: c.labHosts, log });
  run = await executePlan(the(), c.plan, { only: c.runnable });
}, 20 * 60_000);

afterAll(async () => {
  await lab?.stop(log);
});

describe("GIVEN a host below the memory minimum and a host named like another", () => {
  test("THEN the memory pre-flight names the host, what it has and what its role needs", () => {
    const r = run.get("etcd-1/preflight");
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain("edgecloud: pre-flight etcd-1: 1024 MiB memory, roles etcd need at least 2 GiB");
  });

  test("THEN the hostname pre-flight says which name clashes and why it matters", () => {
    const r = run.get("server-1/preflight");
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain(
      'edgecloud: pre-flight server-1: hostname is "etcd-1", the name of another cluster host; K3s registers nodes by name',
    );
  });

  test("THEN the cross-host check on the facts lines reports the duplicate hostname", () => {
    const facts = ["etcd-1", "server-1"].map((h) => parsePreflightFacts(run.get(`${h}/preflight`).stdout)!);
    expect(facts.map((f) => [f.host, f.hostname])).toEqual([
      ["etcd-1", "etcd-1"],
      ["server-1", "etcd-1"],
    ]);
    expect(checkPreflightFacts(facts)).toEqual([
      'hosts "etcd-1" and "server-1" both report hostname "etcd-1"; K3s registers nodes by name: give each host its own hostname',
    ]);
  });

  test("THEN no other step ran and nothing was installed", async () => {
    expect(run.steps.map((s) => s.id).sort()).toEqual(["etcd-1/preflight", "server-1/preflight"]);
    expect([...run.skipped].sort()).toEqual(
      c.plan.steps
        .filter((s) => c.runnable(s) && s.name !== "preflight")
        .map((s) => s.id)
        .sort(),
    );
    const probe = `for p in /etc/etcd /var/lib/etcd/member /etc/rancher /etc/systemd/system/edgecloud-etcd.service /etc/sysctl.d/90-edgecloud-k3s.conf; do
  if [ -e "$p" ]; then echo "installed: $p"; fi
done
systemctl is-enabled etcd.service 2>&1 || true`;
    for (const h of ["etcd-1", "server-1"]) expect(await the().sh(h, probe)).toBe("disabled\n");
  });
});
