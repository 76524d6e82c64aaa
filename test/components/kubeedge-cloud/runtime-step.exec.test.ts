import { spawnSync } from "child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderStepBundle } from "../../../lib/steps/bundle";
import { IssueCollector } from "../../../lib/validation/issues";
import { edgeNodeSteps } from "../../../components/kubeedge-cloud/edge-node-steps";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { baseSpec, clusterHosts } from "./fixtures";

/**
 * Runs the runtime bundle of an Ubuntu edge host as root in a private mount namespace: /etc and /sys/module are
 * scratch directories, and containerd, dpkg-query, apt-get, modprobe, sysctl and systemctl are stubs that record
 * their calls.
 */
const canRun =
  process.getuid?.() === 0 && spawnSync("unshare", ["--mount", "--propagation", "private", "true"]).status === 0;
const maybe = canRun ? describe : describe.skip;

const stub = (body: string) => `#!/bin/bash\necho "$(basename "$0") $*" >> "$STUB_STATE/log"\n${body}\n`;
const STUBS: Record<string, string> = {
  containerd: stub(`case "$1" in
  --version) echo "containerd github.com/containerd/containerd \${STUB_CONTAINERD_VERSION:-1.7.12} abc" ;;
  config) printf '%s\\n' 'version = 2' '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]' '            SystemdCgroup = false' ;;
esac`),
  "dpkg-query": stub(`echo 'install ok installed'`),
  // serves the fake CNI tarball and its .sha256 from $STUB_STATE/../cni
  curl: stub(`out=""; url=""
while [ $# -gt 0 ]; do case "$1" in -o) out=$2; shift 2 ;; -*) shift ;; *) url=$1; shift ;; esac; done
case "$url" in
  *.sha256) (cd "$STUB_STATE/../cni" && sha256sum "$(basename "\${url%.sha256}")") >"$out" ;;
  *) cp "$STUB_STATE/../cni/$(basename "$url")" "$out" ;;
esac`),
  "apt-get": stub("exit 0"),
  modprobe: stub(`mkdir -p "/sys/module/$1"`),
  sysctl: stub("exit 0"),
  systemctl: stub(`case "$1" in
  is-active) shift; [ "$1" = --quiet ] && shift; [ -f "$STUB_STATE/active-$1" ]; exit $? ;;
  is-enabled) shift; [ "$1" = --quiet ] && shift; [ -f "$STUB_STATE/enabled-$1" ]; exit $? ;;
  enable) shift; [ "$1" = --quiet ] && shift; touch "$STUB_STATE/enabled-$1" ;;
  start|restart) touch "$STUB_STATE/active-$2" ;;
esac`),
};

maybe("kubeedge-runtime bundle, executed (Ubuntu, stubs)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ec-kert-"));
  const etc = join(dir, "etc");
  const state = join(dir, "state");
  beforeAll(() => {
    for (const d of [etc, join(dir, "bin"), join(dir, "sysmodule"), join(dir, "opt"), state])
      mkdirSync(d, { recursive: true });
    const plugins = join(dir, "plugins");
    mkdirSync(plugins);
    for (const p of ["bridge", "host-local", "portmap", "loopback"])
      writeFileSync(join(plugins, p), "#!/bin/sh\n", { mode: 0o755 });
    mkdirSync(join(dir, "cni"));
    spawnSync("tar", ["-czf", join(dir, "cni", "cni-plugins-linux-arm64-v1.1.1.tgz"), "-C", plugins, "."]);
    for (const f of ["passwd", "group", "nsswitch.conf"])
      if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(etc, f));
    for (const [name, body] of Object.entries(STUBS)) writeFileSync(join(dir, "bin", name), body, { mode: 0o755 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (env: Record<string, string> = {}) => {
    const issues = new IssueCollector();
    const p = checkKubeEdgeCloud({ hosts: clusterHosts(), spec: baseSpec }, issues)!;
    const step = edgeNodeSteps(p, "tok").find((s) => s.id === "edge-1/kubeedge-runtime")!;
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
        `mount --bind ${etc} /etc && mount --bind ${dir}/sysmodule /sys/module && mount --bind ${dir}/opt /opt && PATH=${dir}/bin:$PATH bash ${bundle}`,
      ],
      {
        encoding: "utf8",
        env: { ...process.env, STUB_STATE: state, ...env },
      },
    );
    const calls = readFileSync(join(state, "log"), "utf8")
      .split("\n")
      .filter((l) => /^(systemctl (enable|start|restart)|sysctl|apt-get|modprobe)/.test(l));
    return { status: r.status, out: r.stdout + r.stderr, calls };
  };

  test("GIVEN a host with containerd WHEN the runtime step runs twice THEN config.toml gets SystemdCgroup = true, sysctls apply once, the second run changes nothing", () => {
    const first = run();
    expect(first.status).toBe(0);
    expect(readFileSync(join(etc, "containerd/config.toml"), "utf8")).toContain("            SystemdCgroup = true");
    expect(first.calls).toEqual([
      "modprobe overlay",
      // a br_netfilter already in the kernel (built in: no /sys/module entry) shows in /proc/sys/net/bridge
      ...(existsSync("/proc/sys/net/bridge") ? [] : ["modprobe br_netfilter"]),
      "sysctl -q -p /etc/sysctl.d/90-edgecloud-kubeedge.conf",
      "systemctl enable --quiet containerd.service",
      "systemctl start containerd.service",
    ]);
    const second = run();
    expect(second.out).toContain("edgecloud-step: changed=0");
    expect(second.calls).toEqual([]);
  });

  test("GIVEN an edge host WHEN the runtime step ran THEN the CNI plugins are in /opt/cni/bin (containerd's bin_dir), checksum-verified, and a bridge conflist is in /etc/cni/net.d, so the kubelet can report the node Ready", () => {
    const r = run();
    expect(r.status).toBe(0);
    for (const p of ["bridge", "host-local", "portmap", "loopback"])
      expect(existsSync(join(dir, "opt/cni/bin", p))).toBe(true);
    const conf = JSON.parse(readFileSync(join(etc, "cni/net.d/10-containerd-net.conflist"), "utf8"));
    expect(conf.plugins.map((x: any) => x.type)).toEqual(["bridge", "portmap"]);
    expect(conf.plugins[0].ipam.ranges).toEqual([[{ subnet: "10.88.0.0/16" }]]);
    // containerd's generated config looks in /opt/cni/bin: the distribution's /usr/lib/cni is not used
    expect(readFileSync(join(etc, "containerd/config.toml"), "utf8")).not.toContain("/usr/lib/cni");
  });

  test("GIVEN a tampered CNI tarball WHEN the runtime step runs THEN the checksum check fails and nothing is unpacked", () => {
    rmSync(join(dir, "opt/cni"), { recursive: true, force: true });
    const tgz = join(dir, "cni", "cni-plugins-linux-arm64-v1.1.1.tgz");
    const good = readFileSync(tgz);
    const curl = readFileSync(join(dir, "bin", "curl"), "utf8");
    // the .sha256 is computed from the good file, the tarball served is another
    writeFileSync(
      join(dir, "bin", "curl"),
      curl.replace('*) cp "$STUB_STATE/../cni/$(basename "$url")" "$out" ;;', '*) echo tampered >"$out" ;;'),
      { mode: 0o755 },
    );
    try {
      const r = run();
      expect(r.status).not.toBe(0);
      expect(existsSync(join(dir, "opt/cni/bin/loopback"))).toBe(false);
    } finally {
      writeFileSync(join(dir, "bin", "curl"), curl, { mode: 0o755 });
      writeFileSync(tgz, good);
    }
  });

  test("GIVEN containerd 1.5 WHEN the runtime step runs THEN it fails naming the minimum", () => {
    const r = run({ STUB_CONTAINERD_VERSION: "1.5.9" });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain("containerd 1.5 on edge-1 is older than 1.6, which KubeEdge v1.23.1 needs");
  });
});
