import { spawnSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderDeleteBundle, renderStepBundle } from "../../../lib/steps/bundle";
import { IssueCollector } from "../../../lib/validation/issues";
import { edgeNodeSteps } from "../../../components/kubeedge-cloud/edge-node-steps";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { baseSpec, clusterHosts } from "./fixtures";

/** Runs the install bundle (pre-staged tarballs) as root in a private mount namespace over scratch directories. */
const canRun =
  process.getuid?.() === 0 && spawnSync("unshare", ["--mount", "--propagation", "private", "true"]).status === 0;
const maybe = canRun ? describe : describe.skip;

maybe("kubeedge-install bundle, executed (mount namespace, pre-staged tarballs)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ec-keinst-"));
  const staged = join(dir, "opt/kubeedge");
  beforeAll(() => {
    for (const d of [
      staged,
      join(dir, "bin"),
      join(dir, "varlib"),
      join(dir, "build/keadm-v1.23.1-linux-arm64/keadm"),
      join(dir, "build/kubeedge-v1.23.1-linux-arm64/edge"),
    ])
      mkdirSync(d, { recursive: true });
    writeFileSync(join(dir, "build/keadm-v1.23.1-linux-arm64/keadm/keadm"), "#!/bin/sh\necho keadm\n");
    writeFileSync(join(dir, "build/kubeedge-v1.23.1-linux-arm64/edge/edgecore"), "#!/bin/sh\necho edgecore\n");
    for (const t of ["keadm-v1.23.1-linux-arm64", "kubeedge-v1.23.1-linux-arm64"]) {
      expect(spawnSync("tar", ["-czf", join(staged, `${t}.tar.gz`), "-C", join(dir, "build"), t]).status).toBe(0);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (del = false) => {
    const issues = new IssueCollector();
    const p = checkKubeEdgeCloud(
      { hosts: clusterHosts(), spec: { ...baseSpec, edge: { install: { kind: "prestaged", dir: "/opt/kubeedge" } } } },
      issues,
    )!;
    const step = edgeNodeSteps(p, "tok").find((s) => s.id === "edge-1/kubeedge-install")!;
    const bundle = join(dir, "bundle.sh");
    writeFileSync(bundle, del ? renderDeleteBundle(step) : renderStepBundle(step));
    const mounts = `mount --bind ${dir}/opt /opt && mount --bind ${dir}/bin /usr/local/bin && mount --bind ${dir}/varlib /var/lib`;
    return spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", `${mounts} && bash ${bundle}`], {
      encoding: "utf8",
    });
  };

  test("GIVEN pre-staged tarballs WHEN installed twice THEN keadm and edgecore are in place with the version marker, and the second run changes nothing", () => {
    const first = run();
    expect(first.stderr).toBe("");
    expect(first.stdout).toContain("edgecloud-step: changed=1");
    expect(readFileSync(join(dir, "bin/edgecore"), "utf8")).toContain("echo edgecore");
    expect(readFileSync(join(dir, "varlib/edgecloud/kubeedge.version"), "utf8")).toBe("v1.23.1\n");
    expect(run().stdout).toContain("edgecloud-step: changed=0");
  });

  test("GIVEN an installed node WHEN the step is deleted THEN the binaries and the marker are gone", () => {
    expect(run(true).status).toBe(0);
    expect(existsSync(join(dir, "bin/keadm"))).toBe(false);
    expect(existsSync(join(dir, "varlib/edgecloud/kubeedge.version"))).toBe(false);
  });
});
