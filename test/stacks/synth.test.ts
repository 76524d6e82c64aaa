import { join } from "path";
import { environmentsDir, loadEnvironment, validateEnvironment } from "../../stacks/environment";
import { synthSecretResolver } from "../../stacks/secret-refs";
import { synthesize } from "../../stacks/synth";
import { haHosts, haSpec } from "../fixtures/cluster";

const registry = {
  mode: { kind: "in-cluster", nodePort: 32500 },
  auth: { users: [{ username: "node", password: "node-password" }] },
};

describe("synthesize", () => {
  test("GIVEN a registry section THEN every K3s node's config step writes registries.yaml with the mirror, credentials and CA", async () => {
    const env = validateEnvironment({ name: "wired", hosts: haHosts, k3s: haSpec, registry });
    const out = await synthesize(env, { material: "placeholder" });
    const k3sNodes = env.hosts.filter((h) => h.roles.includes("server") || h.roles.includes("agent"));
    expect(k3sNodes).toHaveLength(5);
    for (const h of k3sNodes) {
      const config = out.hosts[h.name]!.find((s) => s.name === "k3s-config")!;
      const reg = config.files.find((f) => f.path === "/etc/rancher/k3s/registries.yaml");
      expect(reg).toBeDefined();
      expect(reg!.secret).toBe(true);
      expect(reg!.content).toContain("192.168.10.21:32500");
      expect(reg!.content).toContain("password: node-password");
      expect(config.files.some((f) => f.path.startsWith("/etc/rancher/k3s/registry-ca/"))).toBe(true);
    }
    expect(out.manifests.registry!.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      expect.arrayContaining(["Deployment/registry", "PersistentVolumeClaim/registry-data"]),
    );
  });

  test("GIVEN the default environment THEN every PVC uses the NFS class and Drone points at the in-cluster Gogs", async () => {
    const env = loadEnvironment(join(environmentsDir(), "default.yaml"), {
      secrets: synthSecretResolver("placeholder"),
    });
    const out = await synthesize(env, { material: "placeholder" });
    const pvcs = Object.values(out.manifests)
      .flat()
      .filter((o) => o.kind === "PersistentVolumeClaim");
    expect(pvcs.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort()).toEqual([
      "drone/drone-server-data",
      "git/gogs-data",
      "registry/registry-data",
    ]);
    for (const pvc of pvcs) expect((pvc.spec as { storageClassName?: string }).storageClassName).toBe("nfs");
    const sc = out.manifests["nfs-provisioner"]!.find((o) => o.kind === "StorageClass")!;
    expect(sc.metadata.name).toBe("nfs");
    expect(sc.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"]).toBe("true");
    const droneEnv = out.manifests["drone-ci"]!.find((o) => o.kind === "ConfigMap" && /drone/.test(o.metadata.name))!;
    expect(JSON.stringify(droneEnv)).toContain('"DRONE_GOGS_SERVER":"http://gogs.git.svc.cluster.local:3000"');
  });

  test("GIVEN generated material THEN the token and certificates are real and differ between runs", async () => {
    const env = validateEnvironment({ name: "gen", hosts: haHosts, k3s: haSpec });
    const [a, b] = [await synthesize(env), await synthesize(env)];
    const token = (o: typeof a) =>
      o.hosts["server-1"]!.find((s) => s.name === "k3s-config")!.files.find(
        (f) => f.path === "/etc/rancher/k3s/config.yaml",
      )!.content;
    expect(token(a)).not.toEqual(token(b));
    const ca = a.hosts["etcd-1"]!.flatMap((s) => s.files).find((f) => f.path.endsWith("ca.crt"))!;
    expect(ca.content).toContain("-----BEGIN CERTIFICATE-----");
    expect(a.notes.join("\n")).toContain("never commit it");
  });

  test("GIVEN a rancher section THEN the import runs on the first server after the last server started, the URL only in a 0600 file", async () => {
    const env = validateEnvironment({
      name: "site",
      hosts: haHosts,
      k3s: haSpec,
      rancher: { server: "https://rancher.example.com" },
    });
    const url = "https://rancher.example.com/v3/import/abc123_c-m-xyz.yaml";
    const out = await synthesize(env, { material: "placeholder", rancherManifestUrl: url });
    const step = out.hosts["server-1"]!.find((s) => s.name === "rancher-import")!;
    expect(step.dependsOn).toEqual(["server-3/k3s-start"]);
    expect(step.script).not.toContain(url);
    expect(step.files).toEqual([
      { path: "/etc/edgecloud/rancher/manifest-url", mode: "0600", content: `url = "${url}"\n`, secret: true },
    ]);
    expect(out.topology.links).toContainEqual({ from: "server-1", to: "rancher", kind: "import" });
  });
});
