import { mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { ValidationError } from "../../lib/validation/issues";
import { loadEnvironment, validateEnvironment } from "../../stacks/environment";
import { resolveSecretRefs, secretEnvVar, secretRefNames, synthSecretResolver } from "../../stacks/secret-refs";
import { haHosts, haSpec } from "../fixtures/cluster";

/** An arm64 edge host beside the HA cluster's hosts. */
const EDGE_HOST = {
  name: "edge-1",
  address: "192.168.20.11",
  ssh: { privateKeyPath: "/k" },
  os: "ubuntu-22.04",
  arch: "arm64",
  roles: ["edge"],
};

function problems(raw: unknown): string[] {
  try {
    validateEnvironment(raw);
  } catch (e) {
    if (e instanceof ValidationError)
      return e.message
        .split("\n")
        .slice(1)
        .map((l) => l.replace(/^ {2}- /, ""));
    throw e;
  }
  return [];
}

describe("validateEnvironment", () => {
  test("GIVEN a valid environment THEN it returns the validated cluster props and sections", () => {
    const env = validateEnvironment({ name: "demo", hosts: haHosts, k3s: haSpec });
    expect(env.cluster.spec.version).toBe("v1.31.4+k3s1");
    expect(env.hosts.map((h) => h.name)).toContain("agent-2");
    expect(env.registry).toBeUndefined();
  });

  test("GIVEN problems in several sections THEN every one is reported at once, each with path, value and what is allowed", () => {
    const out = problems({
      name: "demo",
      hosts: haHosts,
      k3s: { ...haSpec, runtime: "podman" },
      registry: { mode: { kind: "host", host: "nowhere" } },
      rancher: { server: "http://rancher.example.com" },
      extra: true,
    });
    expect(out).toEqual([
      "extra: is not an environment section; allowed: name, description, hosts, k3s, nfs, registry, drone, kubeedge, edgex, rancher, allowInlineSecrets",
      'k3s.runtime "podman" is not allowed; allowed: "containerd", "docker"',
      'registry.mode.host "nowhere" is not among the hosts (etcd-1, etcd-2, etcd-3, server-1, server-2, server-3, agent-1, agent-2)',
      'rancher.server "http://rancher.example.com" uses plain http://, which anyone on the path can tamper with; use https://',
    ]);
  });

  test("GIVEN an edge host but no kubeedge section THEN the host's roles are named", () => {
    const hosts = [...haHosts, EDGE_HOST];
    expect(problems({ name: "demo", hosts, k3s: haSpec })).toEqual([
      'hosts[8].roles ["edge"] has "edge", but the environment has no kubeedge section to join edge nodes to',
    ]);
  });

  test("GIVEN kubeedge and edgex sections without versions THEN the cluster's K3s version and the edge arches are wired in", () => {
    const hosts = [...haHosts, EDGE_HOST];
    const env = validateEnvironment({
      name: "demo",
      hosts,
      k3s: haSpec,
      kubeedge: { cloudHub: { advertiseAddress: ["192.168.10.21"] } },
      edgex: {},
    });
    expect(env.kubeedge!.spec.kubernetesVersion).toBe("v1.31.4+k3s1");
    expect(env.kubeedge!.edgeHosts.map((h) => h.name)).toEqual(["edge-1"]);
    expect(env.edgex!.arches).toEqual(["arm64"]);
  });

  test("GIVEN NFS and in-cluster PVCs without a class THEN the NFS StorageClass is wired into the registry and EdgeX", () => {
    const hosts = [
      ...haHosts,
      {
        name: "nfs-1",
        address: "192.168.10.41",
        ssh: { privateKeyPath: "/k" },
        os: "debian-12",
        arch: "amd64",
        roles: ["nfs"],
      },
    ];
    const env = validateEnvironment({
      name: "demo",
      hosts,
      k3s: haSpec,
      nfs: { server: { kind: "host", host: "nfs-1" }, storageClass: { name: "shared" } },
      registry: { mode: { kind: "in-cluster", nodePort: 32500 } },
      // on the agents: per-service placement is refused on KubeEdge edge nodes
      edgex: {
        placement: "per-service",
        persistence: { kind: "pvc" },
        nodeSelector: { "node-role.kubernetes.io/agent": "true" },
      },
    });
    expect(env.registry!.spec.mode.kind === "in-cluster" && env.registry!.spec.mode.storage.storageClassName).toBe(
      "shared",
    );
    expect(env.edgex!.persistence).toEqual({ kind: "pvc", storageClassName: "shared", size: "1Gi" });
    expect(env.edgex!.spec.secretsVolume).toEqual({ storageClassName: "shared", size: "16Mi" });
  });

  test("GIVEN Drone's docker runner THEN dockerd inside gets the pod network's MTU for the cluster's flannel backend", () => {
    const drone = {
      server: { host: "drone.example.com", proto: "http" },
      provider: { kind: "gogs" },
      git: { kind: "gogs" },
    };
    const mtu = (network?: object) => {
      const env = validateEnvironment({ name: "demo", hosts: haHosts, k3s: { ...haSpec, network }, drone });
      const r = env.drone!.spec.runner;
      return r.kind === "docker" ? r.mtu : undefined;
    };
    expect(mtu()).toBe(1450);
    expect(mtu({ flannelBackend: "wireguard-native" })).toBe(1420);
    expect(mtu({ flannelBackend: "host-gw" })).toBe(1500);
  });

  test("GIVEN runtime docker and a registry section THEN it is refused: dockerd ignores registries.yaml", () => {
    expect(
      problems({
        name: "demo",
        hosts: haHosts.filter((h) => h.name !== "agent-2"),
        k3s: { ...haSpec, runtime: "docker" },
        registry: { mode: { kind: "in-cluster", nodePort: 32500 } },
      }),
    ).toEqual([
      'k3s.runtime "docker" cannot pull from the registry section\'s registry: K3s applies registries.yaml to its containerd only, and with --docker dockerd pulls without its CA or credentials (docs.k3s.io/installation/private-registry); use runtime containerd',
    ]);
  });

  test("GIVEN no hosts THEN the message says what an environment needs", () => {
    expect(problems({ name: "demo", hosts: [] })).toEqual([
      'hosts: is empty; an environment needs at least one host with the role "server"',
    ]);
  });

  test("GIVEN something that is not a mapping THEN one clear problem", () => {
    expect(problems(["a"])).toEqual(['environment ["a"] must be a mapping with name, hosts and component sections']);
  });

  test("GIVEN an unresolved secret reference THEN the field is named", () => {
    const registry = {
      mode: { kind: "in-cluster", nodePort: 32500 },
      auth: { users: [{ username: "u", password: { secret: "pw" } }] },
    };
    expect(problems({ name: "demo", hosts: haHosts, k3s: haSpec, registry })).toEqual([
      'registry.auth.users[0].password: refers to secret "pw", which is not resolved: set EDGECLOUD_SECRET_PW for synth, or pulumi config set --secret edgecloud:pw',
    ]);
  });
});

describe("loadEnvironment", () => {
  const dir = mkdtempSync(join(tmpdir(), "edgecloud-env-"));

  test("GIVEN a YAML syntax error THEN the problem names file, line and column", () => {
    const f = join(dir, "syntax.yaml");
    writeFileSync(f, "name: x\nhosts: [\n");
    expect(() => loadEnvironment(f)).toThrow(
      `${f}:3:1: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    );
  });

  test("GIVEN a missing file THEN it says so", () => {
    expect(() => loadEnvironment(join(dir, "nope.yaml"))).toThrow(`${join(dir, "nope.yaml")}: does not exist`);
  });
});

describe("secret references", () => {
  const raw = { a: { secret: "x" }, b: [{ secret: "y" }, { secret: "x" }], c: { secret: "z", other: 1 } };

  test("GIVEN references THEN each distinct name is resolved once; a mapping with more keys is not a reference", () => {
    let calls = 0;
    expect(resolveSecretRefs(raw, (n) => (calls++, `<${n}>`))).toEqual({
      a: "<x>",
      b: ["<y>", "<x>"],
      c: { secret: "z", other: 1 },
    });
    expect(calls).toBe(2);
    expect(secretRefNames(raw)).toEqual(["x", "y"]);
  });

  test("GIVEN the synth resolver THEN an environment variable wins, else a generated value is recorded", () => {
    const generated: string[] = [];
    const r = synthSecretResolver("generated", generated, { [secretEnvVar("registry-admin-password")]: "s3cret" });
    expect(secretEnvVar("registry-admin-password")).toBe("EDGECLOUD_SECRET_REGISTRY_ADMIN_PASSWORD");
    expect(r("registry-admin-password")).toBe("s3cret");
    expect(r("other")).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(generated).toEqual(["other"]);
    expect(synthSecretResolver("placeholder")("x")).toBe("<secret:x>");
  });
});
