import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { engineTools, PulumiStack, PreviewStep, REPO } from "./pulumi-cli";

/**
 * The project's own program (Pulumi.yaml `main: stacks/index.ts`: EdgecloudEnvironment walking the composition) through the
 * real CLI: `pulumi preview` of a bundled environment whose components need no Kubernetes provider plugin (the
 * cluster and the Rancher import; pulumi-resource-kubernetes cannot be built here, so the environments with in-cluster
 * components are previewed with mocks only), executor in-process. A preview dials nothing.
 */
const timings: string[] = [];
const log = (m: string): void => void timings.push(m);
const tail = (urn: string) => urn.split("::").pop()!;
// the type part of a URN is the parent chain, `$`-joined: the resource's own type is the last
const typeOf = (urn: string) => urn.split("::").slice(-2, -1)[0]!.split("$").pop()!;

describe("the environment program (stacks/) through the real engine", () => {
  let keyDir: string;
  let key: string;
  const stacks: PulumiStack[] = [];

  beforeAll(() => {
    keyDir = mkdtempSync(join(tmpdir(), "edgecloud-engine-key-"));
    const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(keyDir, "id")], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
    key = readFileSync(join(keyDir, "id"), "utf8");
  });

  afterAll(async () => {
    for (const s of stacks) await s.remove();
    rmSync(keyDir, { recursive: true, force: true });
    console.log(`engine timings (environment program):\n  ${timings.join("\n  ")}`);
  }, 300_000);

  const stackFor = async (environment: string): Promise<PulumiStack> => {
    const s = await PulumiStack.create({ program: REPO, stack: environment, tools: engineTools(), log });
    stacks.push(s);
    await s.setConfig("edgecloud:executor", "in-process");
    await s.setSecretConfig("edgecloud:sshPrivateKey", key);
    return s;
  };

  test("GIVEN multi-site-shanghai (K3s and the Rancher import) WHEN pulumi preview THEN the Environment holds the cluster, every host's steps and the import, all to create", async () => {
    const s = await stackFor("multi-site-shanghai");
    await s.setSecretConfig("edgecloud:rancherManifestUrl", "https://rancher.example.com/v3/import/tok_c-1.yaml");
    const t0 = Date.now();
    const steps: PreviewStep[] = await s.preview();
    log(`preview multi-site-shanghai: ${Date.now() - t0} ms, ${steps.length} steps`);
    expect(new Set(steps.map((x) => x.op))).toEqual(new Set(["create"]));
    const names = steps.map((x) => `${typeOf(x.urn)} ${tail(x.urn)}`);
    expect(names).toContain("edgecloud:stacks:Environment edgecloud");
    expect(names).toContain("edgecloud:k3s:K3sHaCluster multi-site-shanghai");
    // the composition's last component, after the servers' start
    expect(names.filter((n) => n.endsWith("rancher-import"))).toEqual([
      "pulumi-nodejs:dynamic/edgecloud:HostStepRun edgecloud-rancher-shanghai-server-rancher-import",
    ]);
    for (const h of ["shanghai-server", "shanghai-agent-1", "shanghai-agent-2"])
      expect(names.some((n) => n.includes(`multi-site-shanghai-${h}-k3s-start`))).toBe(true);
  }, 900_000);

  test("GIVEN invalid provisioning limits in the stack config WHEN pulumi preview THEN it fails naming the field and plans nothing", async () => {
    const s = await stackFor("single-node-limits");
    await s.setConfig("edgecloud:environment", "single-node");
    await s.setConfigObject("edgecloud:provisioning", { maxConcurrentSteps: 0 });
    const r = await s.run(["preview", "--json"]);
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}\n${r.stderr}`).toMatch(/edgecloud:provisioning\.maxConcurrentSteps/);
  }, 900_000);
});
