import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { join } from "path";
import { X509Certificate } from "crypto";
import { registryCertRequests } from "../../components/registry/cert-requests";
import { environmentFile, environmentsDir, loadEnvironment, readEnvironmentFile } from "../../stacks/environment";
import { environmentMaterial } from "../../stacks/material";
import { synthSecretResolver } from "../../stacks/secret-refs";
import { prepareEnvironment } from "../../stacks/stack-config";
import {
  dependenciesOf,
  isSecret,
  recordDependencies,
  recorded,
  setupPulumiMocks,
  valueOf,
} from "../support/pulumi-mocks";

// The shared mocks echo inputs; reads of kubeedge/tokensecret and kubeedge/casecret (edge-cloud's pool mints from the
// CA) have none, so answer them as a running cloudcore would (any bytes do: the token hashes and HMACs them).
const realSetMocks = pulumi.runtime.setMocks;
Object.defineProperty(pulumi.runtime, "setMocks", {
  configurable: true,
  value: (mocks: pulumi.runtime.Mocks, ...rest: unknown[]) =>
    (realSetMocks as (...a: unknown[]) => void)(
      {
        newResource: (args: pulumi.runtime.MockResourceArgs) =>
          args.type === "kubernetes:core/v1:Secret" && args.id === "kubeedge/tokensecret"
            ? { id: args.id, state: { data: { tokendata: Buffer.from("join.token.sig").toString("base64") } } }
            : args.type === "kubernetes:core/v1:Secret" && args.id === "kubeedge/casecret"
              ? { id: args.id, state: { data: { cadata: "Y2E=", cakeydata: "a2V5" } } }
              : mocks.newResource(args),
        call: (args: pulumi.runtime.MockCallArgs) => mocks.call(args),
      },
      ...rest,
    ),
});
setupPulumiMocks();
recordDependencies();
const { EdgecloudEnvironment } =
  require("../../stacks/edgecloud-environment") as typeof import("../../stacks/edgecloud-environment");

const key = pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n");
const load = (name: string) =>
  prepareEnvironment(readEnvironmentFile(join(environmentsDir(), `${name}.yaml`)), {
    secrets: (n) => pulumi.secret(`pw-${n}`),
    sshPrivateKey: key,
  });
const named = (type: string) => recorded.filter((r) => r.type === type).map((r) => r.name);

describe("EdgecloudEnvironment (Pulumi mocks): the default environment", () => {
  const stack = new EdgecloudEnvironment("default", { environment: load("default") });

  test("GIVEN the default environment THEN the cluster, NFS and the registry are children of one Environment component", async () => {
    await valueOf(stack.kubeconfig);
    expect(named("edgecloud:stacks:Environment")).toEqual(["default", "beijing"]);
    expect(named("edgecloud:k3s:K3sHaCluster")).toEqual(["default", "multi-site-beijing"]);
    expect(named("edgecloud:storage:NfsProvisioner")).toEqual(["default-nfs"]);
    expect(named("edgecloud:services:Registry")).toEqual(["default-registry"]);
    expect(named("edgecloud:services:DroneCi")).toEqual(["default-drone"]);
    expect(named("edgecloud:edge:KubeEdgeCloud")).toEqual(["default-kubeedge"]);
    expect(named("edgecloud:edge:EdgeXStack")).toEqual(["default-edgex"]);
    expect(stack.apiServer).toBe("https://192.168.10.100:6443");
    expect(await isSecret(stack.kubeconfig)).toBe(true);
  });

  test("THEN the NFS client reaches every K3s node and the server its host, after the cluster is up", async () => {
    await valueOf(stack.kubeconfig);
    const cmds = named("command:remote:Command");
    for (const h of ["server-1", "server-2", "server-3", "agent-1", "agent-2"])
      expect(cmds).toContain(`default-nfs-${h}-nfs-client`);
    expect(cmds).toContain("default-nfs-nfs-1-nfs-server");
    expect(await dependenciesOf("default-nfs-agent-1-nfs-client")).toContain("default-server-3-k3s-start");
  });

  test("THEN the registry's CA is requested as synth's material requests it (one registryCertRequests for both)", async () => {
    await valueOf(stack.kubeconfig);
    const env = loadEnvironment(environmentFile("default"), { secrets: synthSecretResolver("generated") });
    const req = registryCertRequests(env.registry!)!;
    expect(req.ca.commonName).toBe("edgecloud registry CA (192.168.10.21)");
    const ca = recorded.find((r) => r.name === "default-registry-ca")!;
    expect({ commonName: ca.inputs.commonName, validityDays: ca.inputs.validityDays }).toEqual(req.ca);
    const cert = recorded.find((r) => r.name === "default-registry-cert")!;
    expect(ca.type).toBe("pulumi-nodejs:dynamic/edgecloud:CertificateAuthority");
    expect(cert.inputs.request).toEqual(req.server);
    const synthCa = (await environmentMaterial(env, "generated")).registry!.tls;
    expect(synthCa.kind === "tls" && new X509Certificate(synthCa.caPem).subject).toBe(`CN=${req.ca.commonName}`);
  });

  test("THEN the registry's PVC uses the NFS StorageClass and the registry waits for the NFS objects", async () => {
    await valueOf(stack.kubeconfig);
    const group = recorded.find((r) => r.name === "default-registry-objects")!;
    const objs = (group.inputs.objs?.value ?? group.inputs.objs) as {
      kind: string;
      spec?: { storageClassName?: string };
    }[];
    expect(objs.find((o) => o.kind === "PersistentVolumeClaim")!.spec!.storageClassName).toBe("nfs");
    expect(await dependenciesOf("default-registry-objects")).toContain("default-nfs-objects");
    expect(await dependenciesOf("default-drone-objects")).toContain("default-nfs-objects");
  });

  test("THEN Drone's pipelines get the registry's CI user and CA (from the Registry's secret output), and that output is secret", async () => {
    await valueOf(stack.kubeconfig);
    expect(await isSecret(stack.registry!.ciAccess!)).toBe(true);
    const access = await valueOf(stack.registry!.ciAccess!);
    expect(access).toMatchObject({ endpoint: "192.168.10.21:32500", username: "ci" });
    const group = recorded.find((r) => r.name === "default-drone-objects")!;
    const objs = (group.inputs.objs?.value ?? group.inputs.objs) as {
      kind: string;
      metadata: { name: string };
      stringData?: Record<string, string>;
    }[];
    const credentials = objs.find((o) => o.kind === "Secret" && o.metadata.name === "drone-pipeline-credentials")!;
    expect(Buffer.from(credentials.stringData!.auth!, "base64").toString()).toBe(`ci:${access.password}`);
  });

  test("THEN the edge nodes join cloudcore's address, and EdgeX waits for KubeEdge", async () => {
    await valueOf(stack.kubeconfig);
    expect(await valueOf(stack.kubeedge!.cloudcoreAddress)).toBe("192.168.10.21:10000");
    expect(named("command:remote:Command")).toEqual(
      expect.arrayContaining([
        "default-kubeedge-edge-edge-1-kubeedge-join",
        "default-kubeedge-edge-edge-2-kubeedge-join",
      ]),
    );
    expect(await dependenciesOf("default-edgex-edgex")).toEqual(
      expect.arrayContaining([
        "default-kubeedge-edge-edge-1-kubeedge-join",
        "default-kubeedge-cloudcore",
        "default-nfs-objects",
      ]),
    );
  });

  test("THEN secret references resolve to secret stack config, never plain text in inputs", async () => {
    await valueOf(stack.kubeconfig);
    const group = recorded.find((r) => r.name === "default-registry-objects")!;
    expect(JSON.stringify(group.inputs)).not.toContain("pw-registry-node-password");
  });
});

describe("EdgecloudEnvironment (Pulumi mocks): a multi-site stack", () => {
  const site = new EdgecloudEnvironment("beijing", {
    environment: load("multi-site-beijing"),
    rancherManifestUrl: pulumi.secret("https://rancher.example.com/v3/import/tok_c-1.yaml"),
  });

  test("GIVEN a rancher section THEN the import runs on the first server after the last server started, its URL secret", async () => {
    await valueOf(site.kubeconfig);
    expect(named("command:remote:Command")).toContain("beijing-rancher-beijing-server-rancher-import");
    expect(await dependenciesOf("beijing-rancher-beijing-server-rancher-import")).toContain(
      "multi-site-beijing-beijing-server-k3s-start",
    );
    const cmd = recorded.find((r) => r.name === "beijing-rancher-beijing-server-rancher-import")!;
    expect(JSON.stringify(cmd.inputs)).not.toContain("tok_c-1");
  });
});

describe("EdgecloudEnvironment (Pulumi mocks): every example environment", () => {
  const expected: Record<string, string[]> = {
    "single-node": ["edgecloud:k3s:K3sHaCluster", "edgecloud:storage:NfsProvisioner", "edgecloud:services:Registry"],
    "ha-cloud": [
      "edgecloud:k3s:K3sHaCluster",
      "edgecloud:storage:NfsProvisioner",
      "edgecloud:services:Registry",
      "edgecloud:services:DroneCi",
      "edgecloud:hardware:HardwareFeatures",
    ],
    "edge-cloud": [
      "edgecloud:k3s:K3sHaCluster",
      "edgecloud:storage:NfsProvisioner",
      "edgecloud:services:Registry",
      "edgecloud:services:DroneCi",
      "edgecloud:edge:KubeEdgeCloud",
      "edgecloud:edge:EdgeXStack",
    ],
    "multi-site-shanghai": ["edgecloud:k3s:K3sHaCluster", "command:remote:Command"],
  };

  test.each(Object.keys(expected))(
    "GIVEN %s THEN its components are children of the Environment and the kubeconfig is secret",
    async (name) => {
      const stack = new EdgecloudEnvironment(`env-${name}`, {
        environment: load(name),
        rancherManifestUrl: pulumi.secret("https://rancher.example.com/v3/import/x_c-2.yaml"),
      });
      await valueOf(stack.kubeconfig);
      const mine = recorded.filter((r) => r.name === name || r.name.startsWith(`env-${name}`));
      for (const type of expected[name]!) expect(mine.map((r) => r.type)).toContain(type);
      expect(await isSecret(stack.kubeconfig)).toBe(true);
    },
  );
});

describe("EdgecloudEnvironment (Pulumi mocks): registry wiring", () => {
  test("GIVEN a registry THEN every K3s node's config step writes registries.yaml with the registry's mirror and node credentials, secret", async () => {
    const stack = new EdgecloudEnvironment("wired", { environment: load("ha-cloud") });
    await valueOf(stack.kubeconfig);
    for (const h of ["cp-1", "cp-2", "cp-3", "worker-1", "worker-2", "worker-3"]) {
      const step = stack.cluster.steps.get(`${h}/k3s-config`)! as command.remote.Command;
      expect(await isSecret(step.stdin as pulumi.Output<unknown>)).toBe(true);
      const stdin = String(await valueOf(step.stdin));
      const files = [...stdin.matchAll(/ec_put (\S+) \S+ \S+ <<'EC_FILE_EOF'\n([\s\S]*?)EC_FILE_EOF/g)].map((m) => ({
        path: m[1],
        content: Buffer.from(m[2]!.replace(/\n/g, ""), "base64").toString("utf8"),
      }));
      const reg = files.find((f) => f.path === "/etc/rancher/k3s/registries.yaml")!;
      expect(reg.content).toContain("10.20.0.11:32500");
      expect(reg.content).toContain("username: node");
      expect(reg.content).toContain("password: pw-registry-node-password");
      expect(files.some((f) => f.path!.startsWith("/etc/rancher/k3s/registry-ca/"))).toBe(true);
    }
    // the in-cluster registry still waits for the NFS objects (a dependency settled after construction)
    expect(await dependenciesOf("wired-registry-objects")).toContain("wired-nfs-objects");
  });
});

describe("EdgecloudEnvironment (Pulumi mocks): validation before any resource", () => {
  // registrations reach the mocks asynchronously: one registered after the attempt and awaited flushes what came before
  const flushed = async (name: string) => {
    const probe = new pulumi.ComponentResource("test:probe:Probe", `${name}-probe`);
    await valueOf(probe.urn);
    return recorded.filter((r) => r.name === name || (r.name.startsWith(`${name}-`) && r.name !== `${name}-probe`));
  };

  test("GIVEN invalid provisioning limits THEN the error names the field and no resource of the environment exists, not even its component", async () => {
    expect(
      () =>
        new EdgecloudEnvironment("limits", {
          environment: load("single-node"),
          provisioning: { maxConcurrentSteps: 0 },
        }),
    ).toThrow(/provisioning\.maxConcurrentSteps/);
    expect(await flushed("limits")).toEqual([]);
  });

  test("GIVEN an invalid environment THEN nothing is registered, not even the environment's component", async () => {
    expect(() => new EdgecloudEnvironment("broken", { environment: { ...load("single-node"), hosts: [] } })).toThrow(
      /hosts/,
    );
    expect(await flushed("broken")).toEqual([]);
  });
});
