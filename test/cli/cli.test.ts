import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { EXIT, runCli } from "../../bin/cli";

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), cwd: tmp });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const tmp = mkdtempSync(join(tmpdir(), "edgecloud-cli-"));
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

describe("edgecloud synth", () => {
  let result: Awaited<ReturnType<typeof run>>;
  const dist = join(tmp, "out", "default");
  beforeAll(async () => {
    result = await run("synth", "--out", "out");
  });

  test("GIVEN no --env THEN the default environment is synthesized into <out>/default and the exit code is 0", () => {
    expect(result.code).toBe(EXIT.ok);
    expect(readdirSync(dist).sort()).toEqual(["hosts", "manifests", "topology.svg"]);
  });

  test("THEN each host has numbered step scripts (0700), delete scripts, a files/ tree and files.txt", () => {
    expect(readdirSync(join(dist, "hosts")).sort()).toEqual([
      "agent-1",
      "agent-2",
      "edge-1",
      "edge-2",
      "etcd-1",
      "etcd-2",
      "etcd-3",
      "nfs-1",
      "server-1",
      "server-2",
      "server-3",
    ]);
    const server = join(dist, "hosts", "server-1");
    const scripts = readdirSync(server).filter((f) => f.endsWith(".sh"));
    expect(scripts[0]).toBe("01-preflight.sh");
    expect(scripts).toContain("03-k3s-config.sh");
    expect(scripts.every((s, i) => s.startsWith(String(i + 1).padStart(2, "0")))).toBe(true);
    expect(mode(join(server, "01-preflight.sh"))).toBe("700");
    expect(mode(dist)).toBe("700");
    expect(readFileSync(join(server, "01-preflight.sh"), "utf8")).toMatch(
      /^#!\/usr\/bin\/env bash\n# edgecloud step server-1\/preflight/,
    );
    expect(existsSync(join(server, "delete", "06-k3s-start.sh"))).toBe(true);
    expect(readFileSync(join(server, "files.txt"), "utf8")).toContain(
      "0600 root:root /etc/rancher/k3s/config.yaml 03-k3s-config.sh secret",
    );
  });

  test("THEN secret files are stubs in files/ (their content lives only in the bundle), other files are verbatim", () => {
    const files = join(dist, "hosts", "server-1", "files");
    expect(readFileSync(join(files, "etc/rancher/k3s/config.yaml"), "utf8")).toMatch(
      /^# secret: \d+ bytes, sha256 [0-9a-f]{16}…; written by 03-k3s-config.sh\n$/,
    );
    expect(mode(join(files, "etc/rancher/k3s/config.yaml"))).toBe("600");
    expect(readFileSync(join(files, "etc/rancher/k3s/etcd/ca.crt"), "utf8")).toContain("-----BEGIN CERTIFICATE-----");
  });

  test("THEN each component's manifest is YAML and the summary lists hosts × steps and objects per component", () => {
    expect(readdirSync(join(dist, "manifests")).sort()).toEqual(
      expect.arrayContaining(["k3s-ha-cluster.yaml", "registry.yaml"]),
    );
    expect(readFileSync(join(dist, "manifests", "k3s-ha-cluster.yaml"), "utf8")).toContain("kind: DaemonSet");
    expect(result.out).toMatch(/^environment "default" → .*out\/default$/m);
    expect(result.out).toMatch(/^ {2}server-1 +server +ubuntu-22\.04\/amd64 +11 +\d+$/m);
    expect(result.out).toMatch(/^ {2}k3s-ha-cluster +4$/m);
    expect(result.out).toContain("never commit it");
    expect(readFileSync(join(dist, "topology.svg"), "utf8")).toMatch(/^<svg /);
  });

  test("THEN progress lines go to stderr, and --quiet silences them", async () => {
    expect(result.err).toContain("  · material: generating token and certificates");
    const quiet = await run("synth", "--env", "single-node", "--out", "out", "-q", "--placeholders");
    expect(quiet.code).toBe(EXIT.ok);
    expect(quiet.err).toBe("");
    expect(
      readFileSync(join(tmp, "out", "single-node", "hosts", "dev-1", "files", "etc/rancher/k3s/config.yaml"), "utf8"),
    ).toMatch(/^# secret/);
  });
});

describe("edgecloud synth of an environment with an edge pool (edge-cloud: pool plant-c)", () => {
  let result: Awaited<ReturnType<typeof run>>;
  const dist = join(tmp, "pools", "edge-cloud");
  const pool = join(dist, "edge-pools", "plant-c");
  beforeAll(async () => {
    result = await run("synth", "--env", "edge-cloud", "--out", "pools", "-q");
  });

  test("THEN the pool's bundle is in edge-pools/plant-c/: user-data and join.sh, 0600 in 0700 directories (they hold a credential)", () => {
    expect(result.code).toBe(EXIT.ok);
    expect(readdirSync(dist).sort()).toEqual(["edge-pools", "hosts", "manifests", "topology.svg"]);
    expect(readdirSync(pool).sort()).toEqual(["join.sh", "user-data"]);
    expect([mode(join(dist, "edge-pools")), mode(pool)]).toEqual(["700", "700"]);
    expect([mode(join(pool, "user-data")), mode(join(pool, "join.sh"))]).toEqual(["600", "600"]);
    expect(readFileSync(join(pool, "user-data"), "utf8")).toMatch(/^#cloud-config\nwrite_files:/);
    expect(readFileSync(join(pool, "join.sh"), "utf8")).toMatch(
      /^#!\/usr\/bin\/env bash\n# shellcheck disable=SC2317\n# edgecloud join bundle: KubeEdge v1\.23\.1 edge pool "plant-c" \(debian-12\/arm64\)\n/,
    );
  });

  test("THEN the summary names the bundle's files and the note says the bundle refuses to run and where a real one comes from", () => {
    expect(result.out).toContain("\nedge-pools/plant-c/: user-data, join.sh\n");
    expect(result.out).toContain(
      "note: kubeedge: the join bundles of edge pool(s) plant-c (edge-pools/<pool>/user-data, join.sh) hold no credential and refuse to run",
    );
    // no host of the environment got a step for the pool's machines
    expect(readdirSync(join(dist, "hosts")).filter((h) => /plant|pool/.test(h))).toEqual([]);
  });
});

describe("edgecloud validate and errors", () => {
  test("GIVEN a valid environment THEN validate exits 0 and writes nothing", async () => {
    const r = await run("validate", "--env", "ha-cloud", "-q");
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toMatch(/ha-cloud\.yaml: environment "ha-cloud" is valid \(7 hosts\)$/);
    expect(existsSync(join(tmp, "dist"))).toBe(false);
  });

  test("GIVEN a bad config THEN every problem comes out in one block on stderr and the exit code is 1", async () => {
    const f = join(tmp, "bad.yaml");
    writeFileSync(f, "name: bad\nhosts: []\nextra: 1\nk3s: { runtime: podman }\n");
    const r = await run("synth", "--config", "bad.yaml", "-q");
    expect(r.code).toBe(EXIT.invalid);
    expect(r.out).toBe("");
    expect(r.err).toBe(
      [
        `edgecloud synth: environment ${f}: 3 problems`,
        "  - extra: is not an environment section; allowed: name, description, hosts, k3s, nfs, registry, drone, kubeedge, edgex, rancher, allowInlineSecrets",
        '  - hosts: is empty; an environment needs at least one host with the role "server"',
        '  - k3s.runtime "podman" is not allowed; allowed: "containerd", "docker"',
      ].join("\n"),
    );
  });

  test("GIVEN an unknown environment name THEN exit 1 naming the file", async () => {
    const r = await run("validate", "--env", "nope", "-q");
    expect(r.code).toBe(EXIT.invalid);
    expect(r.err).toMatch(/environments\/nope\.yaml: does not exist$/);
  });

  test.each([
    [["synth", "--bogus"], "edgecloud: unknown option --bogus"],
    [["deploy"], 'edgecloud: unknown command "deploy"; expected synth, validate or fleet'],
    [["synth", "--env", "default", "--config", "x.yaml"], "edgecloud: give either --env or --config, not both"],
    [["synth", "--out"], "edgecloud: --out needs a value"],
    [["synth", "--out", "-q"], "edgecloud: --out needs a value"],
    [["synth", "--quiet=yes"], "edgecloud: --quiet takes no value"],
    [["synth", "validate"], "edgecloud: unexpected argument validate"],
    [[], "usage: edgecloud <command> [options]"],
  ])("GIVEN %j THEN usage error, exit 2", async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(EXIT.usage);
    expect(r.err.split("\n")[0]).toBe(message);
  });

  test("GIVEN --help THEN usage on stdout, exit 0", async () => {
    const r = await run("--help");
    expect(r.code).toBe(EXIT.ok);
    expect(r.out).toContain("synth      render an environment");
  });
});
