import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
  dependenciesOf as allDependenciesOf,
  isSecret,
  recordDependencies,
  recorded,
  setupPulumiMocks,
  valueOf,
} from "../../support/pulumi-mocks";
import { haHosts, haSpec } from "../../fixtures/cluster";

setupPulumiMocks();
recordDependencies();
const { K3sHaCluster } =
  require("../../../components/k3s-ha-cluster/k3s-ha-cluster") as typeof import("../../../components/k3s-ha-cluster/k3s-ha-cluster");

describe("K3sHaCluster (Pulumi mocks)", () => {
  const hosts = haHosts.map((h) => ({
    ...h,
    ssh: { privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n") },
  }));
  const cluster = new K3sHaCluster("demo", { hosts, spec: haSpec });

  test("one command per host step, named <cluster>-<host>-<step>, each with a delete and triggers", async () => {
    await valueOf(cluster.kubeconfig);
    const cmds = recorded.filter((r) => r.type === "command:remote:Command" && r.name !== "demo-kubeconfig");
    expect(cmds.length).toBe(cluster.steps.size);
    expect(cmds.map((c) => c.name)).toContain("demo-server-2-k3s-start");
    for (const c of cmds) {
      expect(c.inputs.create).toBe("bash -s");
      expect(c.inputs.delete).toMatch(/^echo [A-Za-z0-9+/=]+ \| base64 -d \| bash -s$/);
      // a trigger derived from a secret bundle is itself kept secret (serialized as a secret envelope)
      const triggers = Array.isArray(c.inputs.triggers) ? c.inputs.triggers : c.inputs.triggers.value;
      // every step but the pre-flight also carries its host's pre-flight key and the cross-host gate's verdict
      expect(triggers).toEqual(
        c.name.endsWith("-preflight")
          ? [expect.any(String)]
          : [expect.any(String), expect.stringMatching(/^[a-f0-9]{64}$/), "pre-flight passed"],
      );
      expect(triggers[0]).toMatch(/^[a-f0-9]{64}$/);
    }
  });

  test("dependencies: members → gate → servers one at a time → agents", async () => {
    await valueOf(cluster.kubeconfig);
    const commands = new Set(recorded.filter((r) => r.type === "command:remote:Command").map((r) => r.name));
    const dependenciesOf = async (n: string) =>
      (await allDependenciesOf(n)).filter((d) => commands.has(d) && !d.endsWith("-preflight"));
    // the first install waits on its own pre-flight and on the one gate that waits on every host's pre-flight
    expect(await allDependenciesOf("demo-etcd-1-etcd-install")).toEqual(
      expect.arrayContaining(["demo-etcd-1-preflight", "demo-preflight-gate"]),
    );
    expect(await allDependenciesOf("demo-preflight-gate")).toEqual(
      haHosts.map((h) => `demo-${h.name}-preflight`).sort(),
    );
    expect(await dependenciesOf("demo-server-1-etcd-health-gate")).toEqual([
      "demo-etcd-1-etcd-member",
      "demo-etcd-2-etcd-member",
      "demo-etcd-3-etcd-member",
      "demo-server-1-k3s-config",
    ]);
    expect(await dependenciesOf("demo-server-1-k3s-start")).toEqual([
      "demo-server-1-etcd-health-gate",
      "demo-server-1-k3s-install",
    ]);
    expect(await dependenciesOf("demo-server-2-k3s-start")).toEqual([
      "demo-server-1-etcd-health-gate",
      "demo-server-1-k3s-start",
      "demo-server-2-k3s-install",
    ]);
    expect(await dependenciesOf("demo-server-3-k3s-start")).toContain("demo-server-2-k3s-start");
    expect(await dependenciesOf("demo-agent-1-k3s-start")).toEqual([
      "demo-agent-1-k3s-install",
      "demo-server-3-k3s-start",
    ]);
    // the kubeconfig is read once every node is Ready (the first server checks the agents after their starts)
    expect(await dependenciesOf("demo-kubeconfig")).toEqual(["demo-server-1-k3s-nodes-ready"]);
    expect([...cluster.steps.keys()].indexOf("server-1/etcd-health-gate")).toBeLessThan(
      [...cluster.steps.keys()].indexOf("server-1/k3s-start"),
    );
    expect([...cluster.steps.keys()].indexOf("server-2/k3s-start")).toBeLessThan(
      [...cluster.steps.keys()].indexOf("agent-1/k3s-start"),
    );
  });

  test("secret material: stdin, token, keys and kubeconfig are secret; certificates are stateful resources", async () => {
    expect(await isSecret(cluster.kubeconfig)).toBe(true);
    expect(
      await isSecret(
        (cluster.steps.get("server-1/k3s-config")! as command.remote.Command).stdin as pulumi.Output<unknown>,
      ),
    ).toBe(true);
    const stdin = await valueOf((cluster.steps.get("server-1/k3s-config")! as command.remote.Command).stdin);
    expect(stdin).toContain("ec_put /etc/rancher/k3s/config.yaml 0600 root:root");
    const dyn = recorded.filter((r) => r.type.startsWith("pulumi-nodejs:")).map((r) => r.name);
    expect(dyn).toEqual(
      expect.arrayContaining([
        "demo-token",
        "demo-etcd-ca",
        "demo-etcd-etcd-1-server",
        "demo-etcd-etcd-1-peer",
        "demo-etcd-client-server-1",
        "demo-etcd-admin",
      ]),
    );
    // every leaf certificate carries the rotation settings its provider's diff reads (CA: none)
    for (const r of recorded.filter((x) => x.type.startsWith("pulumi-nodejs:") && /-etcd-(?!ca$)/.test(x.name)))
      expect({ name: r.name, renewBeforeDays: r.inputs.renewBeforeDays, generation: r.inputs.generation }).toEqual({
        name: r.name,
        renewBeforeDays: 30,
        generation: 0,
      });
    for (const c of recorded.filter((r) => r.type === "command:remote:Command")) {
      expect(JSON.stringify(c.inputs.create ?? "")).not.toContain("MOCK-");
      expect(JSON.stringify(c.inputs.delete ?? "")).not.toContain("MOCK-");
    }
  });

  test("outputs: node names, etcd endpoints, registration address, certificate expiry", async () => {
    expect(cluster.nodeNames).toEqual(["server-1", "server-2", "server-3", "agent-1", "agent-2"]);
    expect(cluster.etcdEndpoints).toEqual([
      "https://192.168.10.11:2379",
      "https://192.168.10.12:2379",
      "https://192.168.10.13:2379",
    ]);
    expect(cluster.registrationAddress).toBe("192.168.10.100");
    const expiry = await valueOf(cluster.certificateExpiry);
    expect(Object.keys(expiry)).toContain("etcd-client-server-2");
    expect(await valueOf(cluster.kubeconfig)).toContain("kind: Config");
  });

  test("GIVEN registries as a secret Output THEN every node's config step places registries.yaml 0600", async () => {
    const registries = pulumi.secret({
      mirrors: { "reg.local:5000": { endpoint: ["https://192.168.10.21:32500"] } },
      configs: { "192.168.10.21:32500": { auth: { username: "node", password: "pw-123" } } },
    });
    const c = new K3sHaCluster("withreg", { hosts, spec: haSpec, registries });
    const stdin = await valueOf((c.steps.get("agent-2/k3s-config")! as command.remote.Command).stdin);
    expect(stdin).toContain("ec_put /etc/rancher/k3s/registries.yaml 0600 root:root");
    expect(stdin).not.toContain("pw-123");
    expect(
      await isSecret((c.steps.get("agent-2/k3s-config")! as command.remote.Command).stdin as pulumi.Output<unknown>),
    ).toBe(true);
  });

  test("GIVEN an invalid config THEN it throws before registering any resource", () => {
    const before = recorded.length;
    expect(() => new K3sHaCluster("bad", { hosts: hosts.slice(0, 2), spec: haSpec })).toThrow(
      /give 2 hosts the role "etcd"/,
    );
    expect(recorded.length).toBe(before);
  });
});
