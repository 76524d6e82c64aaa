import * as pulumi from "@pulumi/pulumi";
import {
  dependenciesOf,
  isSecret,
  isSecretInput,
  plain,
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

const HOST_STEP_RUN = "pulumi-nodejs:dynamic/edgecloud:HostStepRun";
/** The mock monitor's envelope for a secret input. */

describe("K3sHaCluster with executor in-process (Pulumi mocks)", () => {
  const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n";
  const hosts = haHosts.map((h) => ({
    ...h,
    ssh: { privateKey: pulumi.secret(key), hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOZ" },
  }));
  const viaCommand = new K3sHaCluster("cmd", { hosts, spec: haSpec });
  const inProcess = new K3sHaCluster("inp", { hosts, spec: haSpec, executor: "in-process" });
  const named = (prefix: string, type?: string) =>
    recorded.filter((r) => r.name.startsWith(`${prefix}-`) && (type === undefined || r.type === type));

  test("GIVEN executor in-process WHEN constructed THEN one HostStepRun per host step, named like the commands, and no remote.Command", async () => {
    await valueOf(inProcess.kubeconfig);
    await valueOf(viaCommand.kubeconfig);
    const runs = named("inp", HOST_STEP_RUN).map((r) => r.name.slice("inp-".length));
    const commands = named("cmd", "command:remote:Command").map((r) => r.name.slice("cmd-".length));
    expect(named("inp", "command:remote:Command")).toEqual([]);
    expect(runs.sort()).toEqual(commands.sort());
    expect(runs).toContain("server-1-etcd-health-gate");
    expect(runs).toContain("kubeconfig");
    expect(inProcess.steps.size).toBe(viaCommand.steps.size);
  });

  test("GIVEN executor in-process THEN the dependencies are the command executor's", async () => {
    await valueOf(inProcess.kubeconfig);
    const runs = new Set(named("inp", HOST_STEP_RUN).map((r) => r.name));
    const commands = new Set(named("cmd", "command:remote:Command").map((r) => r.name));
    const stepDeps = async (prefix: string, set: Set<string>, step: string) =>
      (await dependenciesOf(`${prefix}-${step}`)).filter((d) => set.has(d)).map((d) => d.slice(prefix.length + 1));
    for (const step of [
      "etcd-1-etcd-install",
      "server-1-etcd-health-gate",
      "server-2-k3s-start",
      "agent-1-k3s-start",
      "kubeconfig",
    ]) {
      expect({ step, deps: await stepDeps("inp", runs, step) }).toEqual({
        step,
        deps: await stepDeps("cmd", commands, step),
      });
    }
    expect(
      (await dependenciesOf("inp-server-1-etcd-health-gate")).filter((d) => runs.has(d) && !d.endsWith("-preflight")),
    ).toEqual([
      "inp-etcd-1-etcd-member",
      "inp-etcd-2-etcd-member",
      "inp-etcd-3-etcd-member",
      "inp-server-1-k3s-config",
    ]);
  });

  test("GIVEN executor in-process THEN bundle and connection are secret inputs, the delete bundle is plain and secret-free, the trigger is the bundle's hash, the host's pre-flight key and the gate's verdict", async () => {
    await valueOf(inProcess.kubeconfig);
    const steps = named("inp", HOST_STEP_RUN).filter((r) => r.name !== "inp-kubeconfig");
    expect(steps.length).toBe(inProcess.steps.size);
    for (const r of steps) {
      expect({
        name: r.name,
        bundle: isSecretInput(r.inputs.bundle),
        connection: isSecretInput(r.inputs.connection),
      }).toEqual({ name: r.name, bundle: true, connection: true });
      expect(plain(r.inputs.bundle)).toMatch(/^#!\/usr\/bin\/env bash\n# edgecloud step /);
      expect(typeof r.inputs.deleteBundle).toBe("string");
      expect(r.inputs.deleteBundle).toMatch(/^#!\/usr\/bin\/env bash\n# edgecloud delete /);
      expect(r.inputs.deleteBundle).not.toContain("MOCK-");
      const trigger = plain(r.inputs.trigger) as string;
      expect(trigger).toMatch(
        r.name.endsWith("-preflight") ? /^[a-f0-9]{64}$/ : /^[a-f0-9]{64} [a-f0-9]{64} pre-flight passed$/,
      );
      const conn = plain(r.inputs.connection);
      expect(conn).toMatchObject({
        user: "root",
        port: 22,
        privateKey: key,
        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOZ",
      });
    }
    const config = steps.find((r) => r.name === "inp-server-1-k3s-config")!;
    expect(plain(config.inputs.bundle)).toContain("ec_put /etc/rancher/k3s/config.yaml 0600 root:root");
    expect(config.inputs.deleteBundle).not.toContain("MOCK-");
  });

  test("GIVEN k3s.etcd.snapshot.s3 credentials as secret Outputs THEN each member's maintenance bundle (secret) writes them resolved into the 0600 curl config file, and no other input holds them", async () => {
    const s3 = {
      endpoint: "https://minio.example.com:9000",
      bucket: "etcd-backups",
      accessKeyId: pulumi.secret("AKIAMOCKKEYID"),
      secretAccessKey: pulumi.secret("mock/secret+access+key"),
    };
    const c = new K3sHaCluster("s3c", {
      hosts,
      spec: { ...haSpec, etcd: { snapshot: { s3 } } } as unknown as typeof haSpec,
      executor: "in-process",
    });
    await valueOf(c.kubeconfig);
    const maint = named("s3c", HOST_STEP_RUN).filter((r) => r.name.endsWith("-etcd-maintenance"));
    expect(maint.map((r) => r.name)).toEqual([
      "s3c-etcd-1-etcd-maintenance",
      "s3c-etcd-2-etcd-maintenance",
      "s3c-etcd-3-etcd-maintenance",
    ]);
    const curlrc = `user = "AKIAMOCKKEYID:mock/secret+access+key"\n`;
    for (const r of maint) {
      expect(isSecretInput(r.inputs.bundle)).toBe(true);
      expect(plain(r.inputs.bundle)).toContain("ec_put /etc/etcd/edgecloud-etcd-s3.curlrc 0600 root:root");
      expect(plain(r.inputs.bundle)).toContain(
        Buffer.from(`# edgecloud: the credentials`).toString("base64").slice(0, 20),
      );
      expect(r.inputs.deleteBundle).not.toContain("mock/secret");
    }
    const decoded = maint.map((r) => {
      const b = plain(r.inputs.bundle) as string;
      const body = b
        .split("ec_put /etc/etcd/edgecloud-etcd-s3.curlrc 0600 root:root <<'EC_FILE_EOF'\n")[1]!
        .split("EC_FILE_EOF")[0]!;
      return Buffer.from(body.replace(/\n/g, ""), "base64").toString("utf8");
    });
    for (const d of decoded) expect(d).toContain(curlrc);
    // nothing but the maintenance bundles carries the secret
    for (const r of named("s3c").filter((x) => !maint.includes(x)))
      expect({ name: r.name, leaks: JSON.stringify(r.inputs).includes("mock/secret+access+key") }).toEqual({
        name: r.name,
        leaks: false,
      });
  });

  test("GIVEN executor in-process THEN the kubeconfig is read by a HostStepRun whose stdout stays secret", async () => {
    const read = named("inp", HOST_STEP_RUN).find((r) => r.name === "inp-kubeconfig")!;
    expect(plain(read.inputs.bundle)).toBe("cat /etc/rancher/k3s/k3s.yaml\n");
    expect(read.inputs.deleteBundle).toBe("");
    expect(await isSecret(inProcess.kubeconfig)).toBe(true);
    expect(await valueOf(inProcess.kubeconfig)).toContain("kind: Config");
    expect(await isSecret(inProcess.steps.get("server-1/k3s-config")!.stdout)).toBe(false);
  });

  test("GIVEN provisioning limits WHEN constructed THEN every host step's HostStepRun carries them; invalid limits are refused before any resource", async () => {
    const limited = new K3sHaCluster("lim", {
      hosts,
      spec: haSpec,
      executor: "in-process",
      provisioning: { maxConcurrentSteps: 8, maxStepsPerHost: 1 },
    });
    await valueOf(limited.kubeconfig);
    const steps = named("lim", HOST_STEP_RUN).filter((r) => r.name !== "lim-kubeconfig");
    expect(steps.length).toBe(limited.steps.size);
    for (const r of steps)
      expect({ name: r.name, limits: plain(r.inputs.limits) }).toEqual({
        name: r.name,
        limits: { maxConcurrentSteps: 8, maxConcurrentHosts: 8, maxStepsPerHost: 1 },
      });
    expect(
      () =>
        new K3sHaCluster("refused", {
          hosts,
          spec: haSpec,
          provisioning: { maxConcurrentHosts: 9, maxConcurrentSteps: 8 },
        }),
    ).toThrow(
      "provisioning.maxConcurrentHosts 9 is more than maxConcurrentSteps (8): no more than 8 steps run at once; raise maxConcurrentSteps or lower maxConcurrentHosts",
    );
    expect(recorded.filter((r) => r.name.startsWith("refused"))).toEqual([]);
  });
});
