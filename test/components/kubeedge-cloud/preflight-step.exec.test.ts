import { spawnSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderStepBundle } from "../../../lib/steps/bundle";
import { IssueCollector } from "../../../lib/validation/issues";
import { edgeNodeSteps } from "../../../components/kubeedge-cloud/edge-node-steps";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { baseSpec, clusterHosts } from "./fixtures";

/** Runs edge-1's (declared ubuntu-22.04, arm64) pre-flight bundle with a scratch /etc/os-release and a `uname` stub. */
const canRun =
  process.getuid?.() === 0 && spawnSync("unshare", ["--mount", "--propagation", "private", "true"]).status === 0;
const maybe = canRun ? describe : describe.skip;

maybe("kubeedge-preflight bundle, executed", () => {
  const dir = mkdtempSync(join(tmpdir(), "ec-kepf-"));
  beforeAll(() => {
    mkdirSync(join(dir, "etc"));
    mkdirSync(join(dir, "bin"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (osRelease: string, machine: string, controllers?: string) => {
    const issues = new IssueCollector();
    const p = checkKubeEdgeCloud({ hosts: clusterHosts(), spec: baseSpec }, issues)!;
    const step = edgeNodeSteps(p, "tok").find((s) => s.id === "edge-1/kubeedge-preflight")!;
    writeFileSync(join(dir, "bundle.sh"), renderStepBundle(step));
    writeFileSync(join(dir, "etc", "os-release"), osRelease);
    if (controllers !== undefined) writeFileSync(join(dir, "controllers"), controllers);
    writeFileSync(join(dir, "bin", "uname"), `#!/bin/sh\necho ${machine}\n`, { mode: 0o755 });
    const r = spawnSync(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        [
          `mount --bind ${dir}/etc/os-release /etc/os-release`,
          ...(controllers !== undefined ? [`mount --bind ${dir}/controllers /sys/fs/cgroup/cgroup.controllers`] : []),
          `PATH=${dir}/bin:$PATH bash ${dir}/bundle.sh`,
        ].join(" && "),
      ],
      { encoding: "utf8" },
    );
    return { status: r.status, out: r.stdout + r.stderr };
  };

  test("GIVEN the declared OS and arch WHEN the pre-flight runs THEN it passes and changes nothing", () => {
    const r = run('ID=ubuntu\nVERSION_ID="22.04"\n', "aarch64");
    expect(r.out).toContain("edgecloud-step: changed=0");
    expect(r.status).toBe(0);
  });

  test("GIVEN an amd64 Debian host declared as arm64 Ubuntu WHEN the pre-flight runs THEN it fails naming both mismatches", () => {
    const r = run('ID=debian\nVERSION_ID="12"\n', "x86_64");
    expect(r.status).not.toBe(0);
    expect(r.out).toContain("pre-flight edge-1: OS is debian 12, declared ubuntu-22.04");
    expect(r.out).toContain("pre-flight edge-1: architecture is x86_64, declared arm64");
  });

  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  (v2 ? test : test.skip)(
    "GIVEN a cgroup v2 host without the memory controller (a Raspberry Pi's default) WHEN the pre-flight runs THEN it fails saying what to add to the kernel command line",
    () => {
      const r = run('ID=ubuntu\nVERSION_ID="22.04"\n', "aarch64", "cpuset cpu io pids\n");
      expect(r.status).not.toBe(0);
      expect(r.out).toContain(
        "pre-flight edge-1: the memory cgroup controller is not enabled (cgroup v2); add cgroup_enable=memory to the kernel command line and reboot",
      );
    },
  );
});
