import { readFileSync } from "fs";
import { join } from "path";
import { HostInput } from "../../lib/hosts/host";
import { CLUSTER_SPEC, labCluster, LabCluster, NEEDS_K3S_BINARY } from "../lab/cluster";
import { Lab } from "../lab/lab";
import { engineTools, PulumiStack, REPO, resourcesByName } from "./pulumi-cli";

/**
 * Stage 1: the lab stack (stacks/lab: the library's K3sHaCluster on the lab's machines) through the real engine —
 * `pulumi up` provisions the etcd members, the health gate and the servers' pre-K3s steps over SSH with the
 * command provider; a second `up` changes nothing; a change to one host runs only that host's steps; `destroy`
 * leaves the hosts clean; the state never holds a secret in plaintext.
 *
 * Needs root (the lab) and `pulumi-resource-command`, which cannot be built here: its Go module
 * (github.com/pulumi/pulumi-command/provider) is not served by the proxy (see tools/README.md). Until it is, this
 * suite is skipped and says why; the engine itself is exercised by in-process-resources.engine.test.ts.
 */
const tools = engineTools();
const isRoot = process.getuid?.() === 0;
const haveCommand = tools.hasPlugin("command");
const suite = isRoot && haveCommand ? describe : describe.skip;
if (!haveCommand) console.warn(`stage 1 (K3sHaCluster through pulumi up) skipped: ${tools.binDir}/pulumi-resource-command is not built (the Go module proxy does not serve github.com/pulumi/pulumi-command/provider)`);

(haveCommand ? describe.skip : describe)("stage 1 without the command plugin", () => {
  test("GIVEN the lab stack WHEN pulumi preview THEN the program and K3sHaCluster register, and the engine stops at the missing plugin instead of downloading it", async () => {
    const stack = await PulumiStack.create({ program: join(REPO, "stacks/lab"), stack: "lab", tools });
    try {
      const cluster = await labCluster();
      await stack.setConfigObject("hosts", cluster.props.hosts.map((h) => ({ name: h.name, address: h.address, ssh: { user: "root", privateKeyPath: "/dev/null" }, os: h.os, arch: h.arch, roles: [...h.roles] })));
      await stack.setConfigObject("spec", CLUSTER_SPEC);
      const r = await stack.run(["preview"]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("edgecloud:k3s:K3sHaCluster lab create");
      expect(r.stdout).toContain("error: no resource plugin 'pulumi-resource-command' found in the workspace at version v1.2.1 or on your $PATH");
      expect(r.stdout + r.stderr).not.toMatch(/download/i);
    } finally {
      await stack.remove();
    }
  }, 300_000);
});

const timings: string[] = [];

suite("stage 1: K3sHaCluster on the lab through pulumi up", () => {
  let lab: Lab | undefined;
  let cluster: LabCluster;
  let stack: PulumiStack;
  let hosts: HostInput[];
  /** `--target` URNs: everything but the K3s binary steps (no download here) and what waits for them. */
  let targets: string[];

  const up = async () => stack.up(targets);

  beforeAll(async () => {
    cluster = await labCluster();
    let t = Date.now();
    lab = await Lab.start({ hosts: cluster.labHosts });
    timings.push(`lab boot (${cluster.labHosts.length} hosts): ${Date.now() - t} ms`);
    const knownHosts = readFileSync(join(lab.dir, "known_hosts"), "utf8").trim().split("\n");
    hosts = cluster.props.hosts.map((h) => {
      const line = knownHosts.find((l) => l.startsWith(`${h.address} `))!;
      return {
        name: h.name,
        address: h.address,
        ssh: { user: "root", privateKeyPath: join(lab!.dir, "id_ed25519"), hostKey: line.split(" ").slice(1, 3).join(" ") },
        os: h.os,
        arch: h.arch,
        roles: [...h.roles],
      };
    });
    stack = await PulumiStack.create({
      program: join(REPO, "stacks/lab"),
      stack: "lab",
      tools,
      netnsPath: lab.sshArgv(cluster.labHosts[0]!.name)[1]!.replace(/^--net=/, ""),
    });
    await stack.setConfigObject("hosts", hosts);
    await stack.setConfigObject("spec", CLUSTER_SPEC);
    const blocked = blockedSteps(cluster);
    const steps = await stack.preview();
    targets = steps.map((s) => s.urn).filter((u) => !blocked.some((b) => u.endsWith(`::lab-${b}`)) && !u.endsWith("::lab-kubeconfig"));
    t = Date.now();
  }, 900_000);

  afterAll(async () => {
    if (stack) await stack.remove();
    await lab?.stop();
    console.log(`engine timings (stage 1):\n  ${timings.join("\n  ")}`);
  }, 600_000);

  test("GIVEN the lab WHEN pulumi up THEN every etcd member is healthy over TLS with the client cert a K3s server got", async () => {
    const r = await up();
    timings.push(`pulumi up (create): ${r.ms} ms`);
    expect(r.result).toBe("succeeded");
    for (const server of cluster.props.hosts.filter((h) => h.roles.includes("server"))) {
      const health = await lab!.sh(
        server.name,
        `ETCDCTL_API=3 etcdctl --endpoints=${cluster.props.hosts.filter((h) => h.roles.includes("etcd")).map((h) => `https://${h.address}:2379`).join(",")} --cacert=/etc/rancher/k3s/etcd/ca.crt --cert=/etc/rancher/k3s/etcd/client.crt --key=/etc/rancher/k3s/etcd/client.key endpoint health 2>&1`,
      );
      expect(health.match(/is healthy/g)?.length).toBe(3);
    }
  }, 900_000);

  test("GIVEN the stack is up WHEN pulumi up runs again THEN nothing changes and no host script runs", async () => {
    const r = await up();
    timings.push(`pulumi up (no-op): ${r.ms} ms`);
    expect(Object.keys(r.changes)).toEqual(["same"]);
  }, 900_000);

  test("GIVEN the stack is up WHEN one server's labels change THEN only that server's steps run", async () => {
    await stack.setConfigObject("hosts", hosts.map((h) => (h.name === "server-2" ? { ...h, labels: { "edgecloud.io/engine": "changed" } } : h)));
    const changed = (await stack.preview()).filter((s) => s.op !== "same" && targets.includes(s.urn)).map((s) => s.urn.split("::").pop()!);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.filter((n) => !n.startsWith("lab-server-2-"))).toEqual([]);
    const r = await up();
    timings.push(`pulumi up (one host changed): ${r.ms} ms`);
    expect(r.result).toBe("succeeded");
  }, 900_000);

  test("GIVEN the state files WHEN searched THEN neither the K3s token, nor a private key, nor the SSH key appears in plaintext", async () => {
    const byName = resourcesByName(await stack.exportWithSecrets());
    const secrets: [string, string][] = [["K3s token", byName.get("lab-token")!.outputs.value as string]];
    for (const [name, r] of byName) if (typeof r.outputs.keyPem === "string") secrets.push([`${name} key`, r.outputs.keyPem]);
    secrets.push(["lab SSH private key", readFileSync(join(lab!.dir, "id_ed25519"), "utf8")]);
    const leaks: string[] = [];
    for (const [path, content] of stack.backendFiles()) {
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(content)) leaks.push(`${path}: a PEM private key`);
      for (const [what, value] of secrets) if (content.includes(value.trim().split("\n").slice(1, 2).join(""))) leaks.push(`${path}: the ${what}`);
    }
    expect(leaks).toEqual([]);
  }, 120_000);

  test("GIVEN the stack is up WHEN pulumi destroy THEN the hosts are clean", async () => {
    const r = await stack.destroy();
    timings.push(`pulumi destroy: ${r.ms} ms`);
    for (const h of cluster.labHosts) {
      const left = await lab!.sh(h.name, "ls -d /var/lib/etcd/* /etc/etcd /etc/rancher/k3s /etc/systemd/system/etcd.service 2>/dev/null || true");
      expect({ host: h.name, left: left.trim() }).toEqual({ host: h.name, left: "" });
    }
  }, 900_000);
});

/** Steps that need the K3s binary (not downloadable here) and every step that waits for them, as `<host>-<name>`. */
function blockedSteps(c: LabCluster): string[] {
  const blocked = new Set(c.plan.steps.filter((s) => NEEDS_K3S_BINARY.includes(s.name)).map((s) => s.id));
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of c.plan.steps) {
      if (!blocked.has(s.id) && s.dependsOn.some((d) => blocked.has(d))) {
        blocked.add(s.id);
        grew = true;
      }
    }
  }
  return c.plan.steps.filter((s) => blocked.has(s.id)).map((s) => `${s.host}-${s.name}`);
}
