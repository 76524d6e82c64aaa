import { spawnSync } from "child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderDeleteBundle, renderStepBundle } from "../../../lib/steps/bundle";
import { IssueCollector } from "../../../lib/validation/issues";
import { edgeNodeSteps } from "../../../components/kubeedge-cloud/edge-node-steps";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { baseSpec, clusterHosts } from "./fixtures";

/**
 * Runs the real join bundle as root in a private mount namespace: /etc and /var/lib are scratch directories
 * (bind-mounted), systemctl is a stub that records calls. Skipped where that is not possible (not root, no unshare).
 */
const canRun =
  process.getuid?.() === 0 && spawnSync("unshare", ["--mount", "--propagation", "private", "true"]).status === 0;
const maybe = canRun ? describe : describe.skip;

const SYSTEMCTL = `#!/bin/bash
echo "systemctl $*" >> "$STUB_STATE/log"
case "$1" in
  is-active) shift; [ "$1" = --quiet ] && shift; [ -f "$STUB_STATE/active-$1" ]; exit $? ;;
  is-enabled) shift; [ "$1" = --quiet ] && shift; [ -f "$STUB_STATE/enabled-$1" ]; exit $? ;;
  enable) shift; [ "$1" = --quiet ] && shift; touch "$STUB_STATE/enabled-$1" ;;
  start|restart) touch "$STUB_STATE/active-$2" ;;
  cat|list-unit-files) [ -f "/etc/systemd/system/$2" ]; exit $? ;;
esac
exit 0
`;

maybe("kubeedge-join bundle, executed (mount namespace, stub systemctl)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ec-kejoin-"));
  const etc = join(dir, "etc");
  const state = join(dir, "state");
  beforeAll(() => {
    for (const d of [
      join(etc, "kubeedge/certs"),
      join(etc, "systemd/system"),
      join(dir, "varlib"),
      join(dir, "bin"),
      state,
    ])
      mkdirSync(d, { recursive: true });
    for (const f of ["passwd", "group", "nsswitch.conf"])
      if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(etc, f));
    // the node already fetched its certificate (cloudcore accepted the token)
    writeFileSync(join(etc, "kubeedge/certs/server.crt"), "CERT");
    writeFileSync(join(dir, "bin/systemctl"), SYSTEMCTL, { mode: 0o755 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const props = (spec: object = {}) => {
    const issues = new IssueCollector();
    const p = checkKubeEdgeCloud({ hosts: clusterHosts(), spec: { ...baseSpec, ...spec } }, issues);
    issues.throwIfAny();
    return p!;
  };
  const run = (token: string, spec: object = {}, del = false) => {
    const step = edgeNodeSteps(props(spec), token).find((s) => s.id === "edge-1/kubeedge-join")!;
    const bundle = join(dir, "bundle.sh");
    writeFileSync(bundle, del ? renderDeleteBundle(step) : renderStepBundle(step));
    writeFileSync(join(state, "log"), "");
    const r = spawnSync(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        `mount --bind ${etc} /etc && mount --bind ${dir}/varlib /var/lib && PATH=${dir}/bin:$PATH STUB_STATE=${state} bash ${bundle}`,
      ],
      { encoding: "utf8" },
    );
    const calls = spawnSync("cat", [join(state, "log")], { encoding: "utf8" })
      .stdout.split("\n")
      .filter((l) => /start|restart|enable |disable /.test(l));
    return { status: r.status, out: r.stdout + r.stderr, calls };
  };

  test("GIVEN a fresh node WHEN joined twice THEN edgecore is enabled and started once, and the second run changes nothing", () => {
    const first = run("tok-A");
    expect(first.status).toBe(0);
    expect(first.calls).toEqual(["systemctl enable --quiet edgecore.service", "systemctl start edgecore.service"]);
    const second = run("tok-A");
    expect(second.out).toContain("edgecloud-step: changed=0");
    expect(second.calls).toEqual([]);
  });

  test("GIVEN a rotated token on a node holding its certificate WHEN re-run THEN the file is rewritten (0600) without restarting edgecore", () => {
    const r = run("tok-B");
    expect(r.out).toContain("only the join token changed");
    expect(r.out).toContain("edgecloud-step: changed=1");
    expect(r.calls).toEqual([]);
    const mode = spawnSync("stat", ["-c", "%a", join(etc, "kubeedge/config/edgecore.yaml")], {
      encoding: "utf8",
    }).stdout.trim();
    expect(mode).toBe("600");
  });

  test("GIVEN another change (labels) WHEN re-run THEN edgecore restarts once, and a further run changes nothing", () => {
    const r = run("tok-B", { edge: { labels: { line: "2" } } });
    expect(r.calls).toEqual(["systemctl restart edgecore.service"]);
    expect(run("tok-B", { edge: { labels: { line: "2" } } }).out).toContain("edgecloud-step: changed=0");
  });

  test("GIVEN a joined node WHEN deleted THEN edgecore is disabled and its config, state and unit are gone; a second delete changes nothing", () => {
    const r = run("tok-B", {}, true);
    expect(r.status).toBe(0);
    expect(r.calls).toEqual(["systemctl disable --now --quiet edgecore.service"]);
    expect(existsSync(join(etc, "kubeedge"))).toBe(false);
    expect(existsSync(join(etc, "systemd/system/edgecore.service"))).toBe(false);
    const again = run("tok-B", {}, true);
    expect(again.out).toContain("edgecloud-step: changed=0");
    expect(again.calls).toEqual([]);
  });
});
