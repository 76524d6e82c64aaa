import { spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderStepBundle } from "../../../lib/steps/bundle";
import { IssueCollector } from "../../../lib/validation/issues";
import { keadmInitSteps } from "../../../components/kubeedge-cloud/keadm-init-steps";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { baseSpec, clusterHosts } from "./fixtures";

/** Runs the keadm-init bundle as root in a private mount namespace; /usr/local/bin holds stub `keadm` and `k3s`. */
const canRun =
  process.getuid?.() === 0 && spawnSync("unshare", ["--mount", "--propagation", "private", "true"]).status === 0;
const maybe = canRun ? describe : describe.skip;

maybe("kubeedge-keadm-init bundle, executed (stub keadm and k3s)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ec-keadm-"));
  const state = join(dir, "state");
  beforeAll(() => {
    for (const d of [join(dir, "bin"), join(dir, "varlib"), state]) mkdirSync(d, { recursive: true });
    writeFileSync(
      join(dir, "bin/keadm"),
      `#!/bin/bash\necho "keadm $1 $2" >> "$STUB_STATE/log"\ntouch "$STUB_STATE/installed"\n`,
      { mode: 0o755 },
    );
    // `k3s kubectl -n kubeedge get deployment cloudcore` answers once keadm installed cloudcore
    writeFileSync(
      join(dir, "bin/k3s"),
      `#!/bin/bash\n[ "$4" = get ] && [ "$5" = deployment ] && { [ -f "$STUB_STATE/installed" ]; exit $?; }\nexit 0\n`,
      { mode: 0o755 },
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (spec: object = {}) => {
    const issues = new IssueCollector();
    const p = checkKubeEdgeCloud({ hosts: clusterHosts(), spec: { ...baseSpec, mode: "keadm", ...spec } }, issues);
    issues.throwIfAny();
    const step = keadmInitSteps(p!, p!.keadmHost!).find((s) => s.name === "kubeedge-keadm-init")!;
    const bundle = join(dir, "bundle.sh");
    writeFileSync(bundle, renderStepBundle(step));
    writeFileSync(join(state, "log"), "");
    const r = spawnSync(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        `mount --bind ${dir}/bin /usr/local/bin && mount --bind ${dir}/varlib /var/lib && bash ${bundle}`,
      ],
      {
        encoding: "utf8",
        env: { ...process.env, STUB_STATE: state },
      },
    );
    return {
      status: r.status,
      out: r.stdout + r.stderr,
      calls: readFileSync(join(state, "log"), "utf8").split("\n").filter(Boolean),
    };
  };

  test("GIVEN no cloudcore WHEN the step runs THEN keadm init runs once; a second run changes nothing; changed options run keadm upgrade cloud", () => {
    const first = run();
    expect(first.status).toBe(0);
    expect(first.calls).toEqual(["keadm init --advertise-address=10.0.0.11"]);
    const second = run();
    expect(second.out).toContain("edgecloud-step: changed=0");
    expect(second.calls).toEqual([]);
    const changed = run({ dynamicController: true });
    expect(changed.calls).toEqual(["keadm upgrade cloud"]);
    expect(changed.out).toContain("edgecloud-step: changed=1");
  });
});
