import { spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { parse } from "yaml";
import { IssueCollector } from "../../../lib/validation/issues";
import { artifactProblem } from "../../../stacks/dist-artifact";
import { mintKubeEdgeJoinToken } from "../../../components/kubeedge-cloud/join-token";
import { poolArtifacts } from "../../../components/kubeedge-cloud/pool-artifacts";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { baseSpec, clusterHosts } from "./fixtures";
import { shellcheck } from "./shellcheck";

const props = (() => {
  const issues = new IssueCollector();
  const p = checkKubeEdgeCloud(
    {
      hosts: clusterHosts(),
      spec: {
        ...baseSpec,
        edgePools: [
          { name: "plant-a", os: "debian-12", arch: "amd64" },
          { name: "plant-b", os: "ubuntu-22.04", arch: "arm64" },
        ],
      },
    },
    issues,
  );
  issues.throwIfAny();
  return p!;
})();

describe("synth's edge pool bundles (dist/<env>/edge-pools/<pool>/)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ec-pool-artifacts-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const runScript = (script: string, env: Record<string, string> = {}) => {
    const f = join(dir, `join-${Math.random()}.sh`);
    writeFileSync(f, script);
    return spawnSync("/bin/bash", [f], { encoding: "utf8", env: { PATH: "/usr/bin:/bin", ...env } });
  };

  test("GIVEN no token WHEN synth renders the pools THEN user-data and join.sh per pool, 0600 and secret, and a note that says where a real bundle comes from", () => {
    const r = poolArtifacts(props, undefined);
    expect(r.artifacts.map((a) => [a.path, a.mode.toString(8), a.secret])).toEqual([
      ["edge-pools/plant-a/user-data", "600", true],
      ["edge-pools/plant-a/join.sh", "600", true],
      ["edge-pools/plant-b/user-data", "600", true],
      ["edge-pools/plant-b/join.sh", "600", true],
    ]);
    for (const a of r.artifacts) expect(artifactProblem(a)).toBeUndefined();
    expect(r.notes).toEqual([
      "kubeedge: the join bundles of edge pool(s) plant-a, plant-b (edge-pools/<pool>/user-data, join.sh) hold no credential and refuse to run: synth cannot mint one without cloudcore's CA. Take the bundles from pulumi up (stack output edgeJoinBundles: a credential per pool, rotated), or set EDGECLOUD_KUBEEDGE_TOKEN to a token cloudcore issued (kubectl -n kubeedge get secret tokensecret, or keadm gettoken) and synth again",
    ]);
    expect(poolArtifacts({ ...props, spec: { ...props.spec, edgePools: [] } }, undefined)).toEqual({
      artifacts: [],
      notes: [],
    });
  });

  test("GIVEN the placeholder bundle WHEN run (even as root, with a free name) THEN it refuses before anything, naming why and what to do; the user-data runs the same script", () => {
    const [userData, script] = poolArtifacts(props, undefined).artifacts;
    expect(shellcheck(script!.content)).toBe("");
    expect(script!.content).toContain("# Holds NO join credential (written by edgecloud synth): it refuses to run.");
    const r = runScript(script!.content);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `edgecloud-join: this bundle of pool "plant-a" holds no join credential (edgecloud synth cannot mint one: cloudcore's CA exists once cloudcore runs); take the bundle from pulumi up (stack output edgeJoinBundles) or synth again with EDGECLOUD_KUBEEDGE_TOKEN\n`,
    );
    const doc = parse(userData!.content) as { write_files: { content: string }[] };
    expect(Buffer.from(doc.write_files[0]!.content, "base64").toString("utf8")).toBe(script!.content);
  });

  test("GIVEN EDGECLOUD_KUBEEDGE_TOKEN (a KubeEdge token) THEN every bundle carries it until its exp: refused after, not refused as a placeholder before", () => {
    const exp = Math.floor(Date.now() / 1000) - 60;
    const token = mintKubeEdgeJoinToken(
      Buffer.from("ca").toString("base64"),
      Buffer.from("key").toString("base64"),
      exp,
    );
    const r = poolArtifacts(props, token);
    expect(r.notes).toEqual([
      `kubeedge: the join bundles of edge pool(s) plant-a, plant-b carry EDGECLOUD_KUBEEDGE_TOKEN (cloudcore's own token, not a per-pool credential) and refuse to run after its exp, ${new Date(exp * 1000).toISOString()}; they are secrets (0600)`,
    ]);
    const script = r.artifacts[1]!.content;
    expect(script).not.toContain("holds no join credential");
    expect(script).not.toContain(token);
    // run as "root" (id stubbed) so the expiry check is what stops it
    const bin = mkdtempSync(join(dir, "bin-"));
    writeFileSync(join(bin, "id"), "#!/bin/sh\necho 0\n", { mode: 0o755 });
    const run = runScript(script, { PATH: `${bin}:/usr/bin:/bin` });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `edgecloud-join: the join credential of pool "plant-a" expired at ${new Date(exp * 1000).toISOString()}`,
    );
  });

  test("GIVEN EDGECLOUD_KUBEEDGE_TOKEN that is not a KubeEdge token THEN a clear error naming the variable, never its value", () => {
    expect(() => poolArtifacts(props, "not-a-token-secret-value")).toThrow(
      'kubeedge.edgePools: cannot render the join bundles: 1 problem\n  - EDGECLOUD_KUBEEDGE_TOKEN "(24 characters, not shown)" is not a KubeEdge join token ("<sha256 of the CA>.<JWT with exp>", what keadm gettoken prints): edge pool bundles refuse a credential past its exp, so they need it',
    );
    try {
      poolArtifacts(props, "not-a-token-secret-value");
    } catch (e) {
      expect(String(e)).not.toContain("not-a-token-secret-value");
    }
  });

  test("GIVEN an artifact with a path out of its directory or a secret readable by others THEN the problem is named", () => {
    const a = { path: "edge-pools/x/join.sh", content: "", mode: 0o600, secret: true };
    expect(artifactProblem({ ...a, path: "../x" })).toBe(
      'artifact path "../x" must be relative, without empty, "." or ".." segments',
    );
    expect(artifactProblem({ ...a, path: "/etc/x" })).toBe(
      'artifact path "/etc/x" must be relative, without empty, "." or ".." segments',
    );
    expect(artifactProblem({ ...a, mode: 0o644 })).toBe(
      'artifact "edge-pools/x/join.sh" holds a secret; mode 644 must have no group or other bit',
    );
    expect(artifactProblem({ ...a, mode: 0o644, secret: false })).toBeUndefined();
  });
});
