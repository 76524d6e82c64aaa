import { readFileSync } from "fs";
import { join } from "path";
import { HostInput } from "../../lib/hosts/host";
import { HostStepExecutor } from "../../lib/pulumi/host-step-commands";
import type { StepResources } from "../../lib/steps/step-chains";
import { ArgvSampler, secretNeedles } from "../lab/argv-sampler";
import { CLUSTER_SPEC, k3sBinaryBlockedResources, labCluster, LabCluster } from "../lab/cluster";
import { Lab } from "../lab/lab";
import { engineTools, PulumiStack, REPO, resourcesByName } from "./pulumi-cli";

/**
 * Stage 1: the lab stack (stacks/lab: the library's K3sHaCluster on the lab's machines) through the real engine —
 * `pulumi up` provisions the etcd members, the health gate and the servers' pre-K3s steps over real SSH; a second
 * `up` changes nothing and opens no SSH session; a change to one host runs only that host's steps; `destroy`
 * leaves the hosts clean; the state never holds a secret in plaintext.
 *
 * Runs once per executor: `in-process` (HostStepRun: SSH from the program's dynamic provider, no plugin) whenever
 * the lab can run (root); `command` (remote.Command) only when `pulumi-resource-command` is built, which it cannot
 * be here: its Go module (github.com/pulumi/pulumi-command/provider) is not served by the proxy (tools/README.md).
 * Without it, a preview proves the engine stops at the missing plugin instead of downloading it.
 */
const tools = engineTools();
const isRoot = process.getuid?.() === 0;
const haveCommand = tools.hasPlugin("command");
if (!haveCommand)
  console.warn(
    `stage 1 with executor "command" skipped: ${tools.binDir}/pulumi-resource-command is not built (the Go module proxy does not serve github.com/pulumi/pulumi-command/provider); executor "in-process" runs instead`,
  );
if (!isRoot) console.warn("stage 1 skipped: the lab needs root");

(haveCommand ? describe.skip : describe)("stage 1 with executor command, without the command plugin", () => {
  test("GIVEN the lab stack WHEN pulumi preview THEN the program and K3sHaCluster register, and the engine stops at the missing plugin instead of downloading it", async () => {
    const stack = await PulumiStack.create({ program: join(REPO, "stacks/lab"), stack: "lab", tools });
    try {
      const cluster = await labCluster();
      await stack.setConfigObject(
        "hosts",
        cluster.props.hosts.map((h) => ({
          name: h.name,
          address: h.address,
          ssh: { user: "root", privateKeyPath: "/dev/null" },
          os: h.os,
          arch: h.arch,
          roles: [...h.roles],
        })),
      );
      await stack.setConfigObject("spec", CLUSTER_SPEC);
      await stack.setConfig("executor", "command");
      const r = await stack.run(["preview"]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("edgecloud:k3s:K3sHaCluster lab create");
      expect(r.stdout).toContain(
        "error: no resource plugin 'pulumi-resource-command' found in the workspace at version v1.2.1 or on your $PATH",
      );
      expect(r.stdout + r.stderr).not.toMatch(/download/i);
    } finally {
      await stack.remove();
    }
  }, 300_000);
});

const VARIANTS: readonly [HostStepExecutor, StepResources][] = [
  ["in-process", "per-step"],
  // the large-fleet grouping: the lab's etcd members and server-1's first steps run as chains (server-2's and the
  // agent's chains hold a K3s binary step, so they are not targeted)
  ["in-process", "per-host-chain"],
  ["command", "per-step"],
];
for (const [executor, stepResources] of VARIANTS) {
  const runs = isRoot && (executor === "in-process" || haveCommand);
  (runs ? describe : describe.skip)(
    `stage 1 (executor ${executor}, ${stepResources}): K3sHaCluster on the lab through pulumi up`,
    () => stage1(executor, stepResources),
  );
}

function stage1(executor: HostStepExecutor, stepResources: StepResources): void {
  const timings: string[] = [];
  let lab: Lab | undefined;
  let cluster: LabCluster;
  let stack: PulumiStack;
  let hosts: HostInput[];
  /** `--target` URNs: everything but the K3s binary steps (no download here) and what waits for them. */
  let targets: string[];
  /** Every host's process argv, sampled from the first `up` until the state is searched. */
  let sampler: ArgvSampler | undefined;

  const up = async () => stack.up(targets);
  /** SSH sessions each host's sshd accepted so far (journal; `from` one address only), this probe's own included. */
  const sessions = async (from = ""): Promise<Map<string, number>> =>
    new Map(
      await Promise.all(
        cluster.labHosts.map(
          async (h) =>
            [
              h.name,
              Number(
                (
                  await lab!.sh(
                    h.name,
                    `journalctl -q -o cat -t sshd | grep -c '^Accepted publickey for root from ${from}' || true`,
                  )
                ).trim(),
              ),
            ] as const,
        ),
      ),
    );
  /** Sessions opened between two `sessions()` probes, per host, without the probes' own (`probes`: 0 when `from` is not the runner). */
  const opened = (before: Map<string, number>, after: Map<string, number>, probes = 1) =>
    Object.fromEntries([...after].map(([h, n]) => [h, n - before.get(h)! - probes]));
  /** The hosts as last set in the stack config. */
  let current: HostInput[];
  const withHost = (name: string, change: (h: HostInput) => HostInput): HostInput[] =>
    current.map((h) => (h.name === name ? change(h) : h));
  const withServer2 = (change: (h: HostInput) => HostInput): HostInput[] => withHost("server-2", change);
  /** The server whose labels change: one whose k3s-config step the lab can run (server-2's chain holds k3s-install). */
  const relabeled = stepResources === "per-host-chain" ? "server-1" : "server-2";

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
        ssh: {
          user: "root",
          privateKeyPath: join(lab!.dir, "id_ed25519"),
          hostKey: line.split(" ").slice(1, 3).join(" "),
        },
        os: h.os,
        arch: h.arch,
        roles: [...h.roles],
      };
    });
    t = Date.now();
    stack = await PulumiStack.create({
      program: join(REPO, "stacks/lab"),
      stack: "lab",
      tools,
      netnsPath: lab.sshArgv(cluster.labHosts[0]!.name)[1]!.replace(/^--net=/, ""),
    });
    await stack.setConfigObject("hosts", hosts);
    await stack.setConfigObject("spec", CLUSTER_SPEC);
    await stack.setConfig("executor", executor);
    if (stepResources !== "per-step") await stack.setConfigObject("provisioning", { stepResources });
    const blocked = k3sBinaryBlockedResources(cluster, "lab", stepResources);
    const steps = await stack.preview();
    targets = steps
      .map((s) => s.urn)
      .filter((u) => !blocked.some((b) => u.endsWith(`::${b}`)) && !u.endsWith("::lab-kubeconfig"));
    timings.push(
      `stack init + config + preview (${steps.length} resources, ${targets.length} targeted): ${Date.now() - t} ms`,
    );
    sampler = new ArgvSampler(lab, 50).start();
  }, 900_000);

  afterAll(async () => {
    sampler?.stop();
    if (stack) await stack.remove();
    await lab?.stop();
    console.log(`engine timings (stage 1, executor ${executor}, ${stepResources}):\n  ${timings.join("\n  ")}`);
  }, 600_000);

  test("GIVEN the lab WHEN pulumi up THEN every etcd member is healthy over TLS with the client cert a K3s server got", async () => {
    const r = await up();
    timings.push(`pulumi up (create, ${r.changes.create} resources): ${r.ms} ms`);
    expect(r.result).toBe("succeeded");
    const byName = resourcesByName(await stack.exportWithSecrets());
    const runs = [...byName].filter(([, x]) =>
      x.type.endsWith(executor === "in-process" ? ":HostStepRun" : "command:remote:Command"),
    );
    expect(runs.length).toBeGreaterThan(0);
    if (executor === "in-process") {
      // every step ran to its end: it printed its changed count (parsed into the `changed` output)
      for (const [name, x] of runs)
        expect({ name, changed: typeof x.outputs.changed }).toEqual({ name, changed: "number" });
    }
    const servers = cluster.props.hosts.filter((h) => h.roles.includes("server"));
    // per-host-chain: server-2's k3s-config shares its chain with its k3s-install, which the lab cannot run
    for (const server of stepResources === "per-host-chain" ? servers.filter((h) => h.name === relabeled) : servers) {
      const health = await lab!.sh(
        server.name,
        `ETCDCTL_API=3 etcdctl --endpoints=${cluster.props.hosts
          .filter((h) => h.roles.includes("etcd"))
          .map((h) => `https://${h.address}:2379`)
          .join(
            ",",
          )} --cacert=/etc/rancher/k3s/etcd/ca.crt --cert=/etc/rancher/k3s/etcd/client.crt --key=/etc/rancher/k3s/etcd/client.key endpoint health 2>&1`,
      );
      expect(health.match(/is healthy/g)?.length).toBe(3);
    }
  }, 900_000);

  test("GIVEN the stack is up WHEN pulumi up runs again THEN nothing changes and no host script runs (no SSH session at all)", async () => {
    const pending = (await stack.preview())
      .filter((s) => s.op !== "same" && targets.includes(s.urn))
      .map((s) => `${s.op} ${s.urn.split("::").slice(-2).join("::")}`);
    const before = await sessions();
    const r = await up();
    const after = await sessions();
    timings.push(`pulumi up (no-op): ${r.ms} ms`);
    expect({ changes: Object.keys(r.changes), pending }).toEqual({ changes: ["same"], pending: [] });
    expect(opened(before, after)).toEqual(Object.fromEntries(cluster.labHosts.map((h) => [h.name, 0])));
  }, 900_000);

  test("GIVEN the stack is up WHEN one server's labels change THEN only that server's steps run", async () => {
    current = hosts;
    current = withHost(relabeled, (h) => ({ ...h, labels: { "edgecloud.io/engine": "changed" } }));
    await stack.setConfigObject("hosts", current);
    const changed = (await stack.preview())
      .filter((s) => s.op !== "same" && targets.includes(s.urn))
      .map((s) => `${s.op} ${s.urn.split("::").pop()!}`);
    timings.push(`preview after the change: ${changed.join(", ")}`);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.filter((n) => !n.startsWith(`update lab-${relabeled}-`))).toEqual([]);
    const before = await sessions();
    const r = await up();
    const after = await sessions();
    timings.push(`pulumi up (one host changed: ${JSON.stringify(r.changes)}): ${r.ms} ms`);
    expect(r.result).toBe("succeeded");
    expect(r.changes.update).toBe(changed.length);
    const sessionsOpened = opened(before, after);
    expect(sessionsOpened[relabeled]).toBe(changed.length);
    expect(Object.entries(sessionsOpened).filter(([h, n]) => h !== relabeled && n !== 0)).toEqual([]);
    expect(await lab!.sh(relabeled, "cat /etc/rancher/k3s/config.yaml")).toContain("edgecloud.io/engine=changed");
  }, 900_000);

  test("GIVEN server-2 pinned to another host's key WHEN pulumi up THEN the in-process executor refuses to connect and nothing runs on server-2", async () => {
    const etcd1Key = hosts.find((h) => h.name === "etcd-1")!.ssh.hostKey!;
    await stack.setConfigObject(
      "hosts",
      withServer2((h) => ({ ...h, ssh: { ...h.ssh, hostKey: etcd1Key } })),
    );
    const before = await sessions();
    const r = await stack.run(["up", "--yes", "--skip-preview", ...targets.flatMap((t) => ["--target", t])]);
    const after = await sessions();
    timings.push(`pulumi up refused (server-2 pinned to etcd-1's key, exit ${r.code}): ${r.ms} ms`);
    expect(r.code).not.toBe(0);
    if (executor === "in-process")
      expect(r.stdout).toContain(
        `root@10.213.0.22:22: the host key does not match the pinned hostKey (the host presented ${hosts.find((h) => h.name === "server-2")!.ssh.hostKey!}); refusing to connect`,
      );
    expect(opened(before, after)).toEqual(Object.fromEntries(cluster.labHosts.map((h) => [h.name, 0])));
    // the refused updates left the state as it was: back to the right key, nothing is pending
    await stack.setConfigObject("hosts", current);
    expect(
      (await stack.preview())
        .filter((s) => s.op !== "same" && targets.includes(s.urn))
        .map((s) => s.urn.split("::").pop()),
    ).toEqual([]);
  }, 900_000);

  test("GIVEN server-2 reached through etcd-1 as a jump host WHEN pulumi up THEN server-2's steps run again, over a channel etcd-1 forwards", async () => {
    const etcd1 = hosts.find((h) => h.name === "etcd-1")!;
    current = withServer2((h) => ({
      ...h,
      ssh: { ...h.ssh, jumpHost: { address: etcd1.address, user: "root", hostKey: etcd1.ssh.hostKey } },
    }));
    await stack.setConfigObject("hosts", current);
    // a new connection re-runs every step of server-2; the others stay as they are (a preview cannot tell yet: the
    // pre-flight gate every install step waits on is unknown until server-2's pre-flight ran again)
    const server2Steps = targets.filter((u) => u.split("::").pop()!.startsWith("lab-server-2-"));
    const changed = server2Steps;
    const [before, viaJumpBefore] = [await sessions(), await sessions(etcd1.address)];
    const r = await up();
    const [after, viaJumpAfter] = [await sessions(), await sessions(etcd1.address)];
    timings.push(`pulumi up (server-2 through a jump host: ${JSON.stringify(r.changes)}): ${r.ms} ms`);
    expect(r.result).toBe("succeeded");
    expect(r.changes.update).toBe(changed.length);
    // etcd-1 authenticated one session per step (the jump) and server-2 saw each come from etcd-1's address
    // (the two probes before the up are both counted in `after`)
    expect(opened(before, after, 2)).toEqual(
      Object.fromEntries(
        cluster.labHosts.map((h) => [h.name, h.name === "server-2" || h.name === "etcd-1" ? changed.length : 0]),
      ),
    );
    expect(opened(viaJumpBefore, viaJumpAfter, 0)["server-2"]).toBe(changed.length);
  }, 900_000);

  test("GIVEN the state files and the hosts' process argv WHEN searched THEN neither the K3s token, nor a private key, nor the SSH key, nor a step bundle appears in plaintext", async () => {
    const byName = resourcesByName(await stack.exportWithSecrets());
    const secrets: [string, string][] = [["K3s token", byName.get("lab-token")!.outputs.value as string]];
    for (const [name, r] of byName)
      if (typeof r.outputs.keyPem === "string") secrets.push([`${name} key`, r.outputs.keyPem]);
    secrets.push(["lab SSH private key", readFileSync(join(lab!.dir, "id_ed25519"), "utf8")]);
    expect(secrets.length).toBeGreaterThan(10);
    const files = stack.backendFiles();
    const state = [...files].find(([p]) => /\/\.pulumi\/stacks\/.*\.json$/.test(p));
    expect(state?.[1]).toContain('"ciphertext"');
    const leaks: string[] = [];
    for (const [path, content] of files) {
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(content)) leaks.push(`${path}: a PEM private key`);
      // a step bundle's file section (the secret files travel base64 in it)
      if (content.includes("EC_FILE_EOF")) leaks.push(`${path}: a step bundle`);
      const flat = content.replace(/\\n|\s/g, "");
      for (const [what, value] of secrets) {
        const body = value.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
        if (content.includes(value.trim()) || flat.includes(body.slice(0, 64))) leaks.push(`${path}: the ${what}`);
      }
    }
    expect(leaks).toEqual([]);
    // nor did any of them show in a host's process argv (`ps -eo args`) while the ups ran
    sampler!.stop();
    const needles = [
      ...new Set([...secretNeedles(secrets.map(([, content]) => ({ content, secret: true }))), secrets[0]![1]]),
    ];
    expect(sampler!.samples).toBeGreaterThan(100);
    expect(sampler!.find(needles)).toEqual([]);
    timings.push(
      `argv sampled on every host during the ups: ${sampler!.samples} samples, ${sampler!.count} distinct argv, ${needles.length} secret needles, 0 found`,
    );
  }, 120_000);

  test("GIVEN the stack is up WHEN pulumi destroy THEN the hosts are clean", async () => {
    const r = await stack.destroy();
    timings.push(`pulumi destroy (${JSON.stringify(r.changes)}): ${r.ms} ms`);
    expect(r.result).toBe("succeeded");
    const emptyDirs: string[] = [];
    for (const h of cluster.labHosts) {
      // files, links and units the steps placed (the image's own empty /var/lib/etcd is not the library's)
      const left = await lab!.sh(
        h.name,
        "find /var/lib/etcd /etc/etcd /etc/rancher /var/lib/rancher /var/lib/edgecloud /etc/systemd/system/etcd.service /etc/systemd/system/etcd.service.d /etc/modules-load.d/edgecloud-k3s.conf /etc/sysctl.d/90-edgecloud-k3s.conf ! -type d 2>/dev/null | sort || true; systemctl is-active etcd.service 2>/dev/null | grep -x active || true",
      );
      expect({ host: h.name, left: left.trim() }).toEqual({ host: h.name, left: "" });
      const dirs = (
        await lab!.sh(h.name, "find /etc/rancher /var/lib/rancher -type d 2>/dev/null | sort || true")
      ).trim();
      if (dirs) emptyDirs.push(`${h.name}: ${dirs.split("\n").join(" ")}`);
    }
    // K3s's uninstall script (the k3s-install step's delete, not run here) removes these in a full deployment
    timings.push(
      `empty directories left after destroy (only K3s's uninstall would remove them): ${emptyDirs.join("; ") || "none"}`,
    );
  }, 900_000);
}
