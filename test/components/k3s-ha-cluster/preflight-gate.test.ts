import { fleetHosts } from "../../../bench/engine/hosts";
import { HostInput } from "../../../lib/hosts/host";
import {
  dependenciesOf,
  plain,
  recordDependencies,
  recorded,
  setupPulumiMocks,
  valueOf,
} from "../../support/pulumi-mocks";

setupPulumiMocks();
recordDependencies();
const { K3sHaCluster } =
  require("../../../components/k3s-ha-cluster/k3s-ha-cluster") as typeof import("../../../components/k3s-ha-cluster/k3s-ha-cluster");

const HOST_STEP_RUN = "pulumi-nodejs:dynamic/edgecloud:HostStepRun";

const ssh = { privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n" };
const spec = { registrationAddress: { kind: "kube-vip" as const, vip: "10.0.0.100", interface: "eth0" } };

/** 3 etcd, 3 servers, `agents` agents: the engine benchmark's fleet. */
const hostsWith = (agents: number): HostInput[] => fleetHosts(agents, ssh);

/** The host steps a cluster registered, by `<host>-<step>` (the cluster prefix dropped). */
const stepsOf = (prefix: string) =>
  new Map(
    recorded
      .filter((r) => r.type === HOST_STEP_RUN && r.name.startsWith(`${prefix}-`) && r.name !== `${prefix}-kubeconfig`)
      .map((r) => [r.name.slice(prefix.length + 1), r]),
  );

/** Every resource `name` waits on, directly or through others. */
async function transitiveDependencies(name: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const todo = [name];
  while (todo.length) {
    for (const d of await dependenciesOf(todo.pop()!)) {
      if (!seen.has(d)) {
        seen.add(d);
        todo.push(d);
      }
    }
  }
  return seen;
}

describe("GIVEN K3sHaClusters of 2 and of 40 agents WHEN constructed (executor in-process, Pulumi mocks)", () => {
  const small = new K3sHaCluster("small", { hosts: hostsWith(2), spec, executor: "in-process" });
  const large = new K3sHaCluster("large", { hosts: hostsWith(40), spec, executor: "in-process" });

  test("THEN no step's dependencies grow with the number of hosts: only the gate reads every pre-flight", async () => {
    await valueOf(small.kubeconfig);
    await valueOf(large.kubeconfig);
    const counts = async (prefix: string) =>
      new Map(
        await Promise.all(
          [...stepsOf(prefix).keys()].map(async (s) => [s, (await dependenciesOf(`${prefix}-${s}`)).length] as const),
        ),
      );
    const s = await counts("small");
    const l = await counts("large");
    // the first server's nodes-ready check waits on every agent's start by design (the plan's own fan-in)
    const fanIn = (step: string) => step.endsWith("-k3s-nodes-ready");
    for (const [step, n] of l) {
      if (fanIn(step)) continue;
      // each agent step of the large cluster has as many dependencies as the same step of agent-1 in the small one
      const twin = step.replace(/^agent-\d+-/, "agent-1-");
      expect({ step, dependencies: n }).toEqual({ step, dependencies: s.get(twin) });
    }
    const maxOf = (m: Map<string, number>) => Math.max(...[...m].filter(([k]) => !fanIn(k)).map(([, v]) => v));
    expect(maxOf(l)).toBe(maxOf(s));
    expect(maxOf(l)).toBeLessThanOrEqual(20);
    // the one gate: every pre-flight, nothing else
    expect(await dependenciesOf("large-preflight-gate")).toEqual(
      hostsWith(40)
        .map((h) => `large-${h.name}-preflight`)
        .sort(),
    );
    // and in total the dependency entries grow linearly: per host, a bounded number
    const total = [...l].filter(([k]) => !fanIn(k)).reduce((a, [, v]) => a + v, 0);
    expect(total / hostsWith(40).length).toBeLessThanOrEqual(maxOf(s) * 6);
  });

  test("THEN a step that reads no secret material waits on none of the token and certificate resources; one that does waits on them", async () => {
    await valueOf(large.kubeconfig);
    // the token and the certificates (large-etcd-ca, -admin, -etcd-<member>-server/peer, -client-<server>)
    const material = (deps: string[]) =>
      deps.filter((d) => /^large-(token|etcd-(ca|admin|etcd-\d+-(server|peer)|client-server-\d+))$/.test(d));
    const free = ["agent-5-k3s-prereqs", "agent-5-k3s-install", "agent-5-k3s-start", "etcd-2-etcd-install"];
    for (const step of free)
      expect({ step, material: material(await dependenciesOf(`large-${step}`)) }).toEqual({ step, material: [] });
    expect(material(await dependenciesOf("large-agent-5-k3s-config"))).toContain("large-token");
    expect(material(await dependenciesOf("large-etcd-1-etcd-member"))).toContain("large-etcd-etcd-1-server");
    // per agent, only its config step reads the material
    const agent7 = [...stepsOf("large").keys()].filter((s) => s.startsWith("agent-7-"));
    const reading: string[] = [];
    for (const s of agent7) if (material(await dependenciesOf(`large-${s}`)).length) reading.push(s);
    expect(reading).toEqual(["agent-7-k3s-config"]);
  });

  test("THEN every install step waits, through the gate, on every host's pre-flight", async () => {
    await valueOf(large.kubeconfig);
    const preflights = hostsWith(40).map((h) => `large-${h.name}-preflight`);
    for (const step of ["agent-37-k3s-install", "etcd-2-etcd-install", "server-3-k3s-install", "agent-1-k3s-prereqs"]) {
      const deps = await transitiveDependencies(`large-${step}`);
      expect({ step, missing: preflights.filter((p) => !deps.has(p)) }).toEqual({ step, missing: [] });
      expect(deps.has("large-preflight-gate")).toBe(true);
    }
    // the pre-flights themselves wait on nothing of the cluster's steps
    expect(await dependenciesOf("large-agent-37-preflight")).toEqual([]);
  });

  test("THEN each gated step's trigger is its bundle's hash, its own host's pre-flight key and the gate's verdict", async () => {
    await valueOf(large.kubeconfig);
    const steps = stepsOf("large");
    const key = (host: string) => {
      const [, r] = [...steps].find(([k]) => k.startsWith(`${host}-`) && !k.endsWith("-preflight"))!;
      return (plain(r.inputs.trigger) as string).split(" ")[1];
    };
    // each host's own checks (its name is in its messages and facts line)
    expect(new Set(["agent-1", "agent-2", "agent-40", "server-1", "etcd-1"].map(key)).size).toBe(5);
    for (const [name, r] of steps) {
      const parts = (plain(r.inputs.trigger) as string).split(" ");
      if (name.endsWith("-preflight")) expect(parts).toEqual([expect.stringMatching(/^[a-f0-9]{64}$/)]);
      else {
        expect(parts).toEqual([expect.stringMatching(/^[a-f0-9]{64}$/), expect.any(String), "pre-flight", "passed"]);
        expect({ name, key: parts[1] }).toEqual({ name, key: key(name.match(/^((?:etcd|server|agent)-\d+)-/)![1]!) });
      }
    }
  });
});

describe("GIVEN the same cluster with a changed pre-flight of one host (agent-1's memory minimum)", () => {
  // a single server on SQLite with a given token: no certificates, so bundles depend on nothing but the hosts
  const base: HostInput[] = [
    { name: "server-1", address: "10.0.0.21", os: "debian-12", arch: "amd64", roles: ["server"], ssh },
    { name: "agent-1", address: "10.0.0.31", os: "debian-12", arch: "amd64", roles: ["agent"], ssh },
    { name: "agent-2", address: "10.0.0.32", os: "debian-12", arch: "amd64", roles: ["agent"], ssh },
  ];
  const changed = base.map((h) => (h.name === "agent-1" ? { ...h, minima: { memoryGiB: 8 } } : h));
  const args = { spec: {}, token: "k3s-token", executor: "in-process" as const };
  const before = new K3sHaCluster("pa", { ...args, hosts: base });
  const after = new K3sHaCluster("pb", { ...args, hosts: changed });
  const added = new K3sHaCluster("pc", {
    ...args,
    hosts: [...base, { ...base[2]!, name: "agent-3", address: "10.0.0.33" }],
  });

  test("THEN the triggers of agent-1's steps change and no other host's do; agent-1's bundles stay the same", async () => {
    await Promise.all([before, after, added].map((c) => valueOf(c.kubeconfig)));
    const a = stepsOf("pa");
    const b = stepsOf("pb");
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    const differs = (k: string, field: "trigger" | "bundle") =>
      plain(a.get(k)!.inputs[field]) !== plain(b.get(k)!.inputs[field]);
    const retriggered = [...a.keys()].filter((k) => differs(k, "trigger")).sort();
    expect(retriggered).toEqual([...a.keys()].filter((k) => k.startsWith("agent-1-")).sort());
    expect(retriggered.length).toBeGreaterThan(3);
    // the pre-flight itself changed; every other step of agent-1 re-runs because of the key alone
    expect([...a.keys()].filter((k) => differs(k, "bundle"))).toEqual(["agent-1-preflight"]);
  });

  test("THEN a host joining re-runs the pre-flights (their list of other hosts' names) but no other step of an existing host, except the check that waits for the new node", async () => {
    await Promise.all([before, added].map((c) => valueOf(c.kubeconfig)));
    const a = stepsOf("pa");
    const c = stepsOf("pc");
    const retriggered = [...a.keys()].filter(
      (k) => plain(a.get(k)!.inputs.trigger) !== plain(c.get(k)!.inputs.trigger),
    );
    expect(retriggered.sort()).toEqual(
      ["server-1-preflight", "agent-1-preflight", "agent-2-preflight", "server-1-k3s-nodes-ready"].sort(),
    );
  });
});
