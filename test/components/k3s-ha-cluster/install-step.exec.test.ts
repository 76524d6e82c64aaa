import { spawnSync } from "child_process";
import { createHash } from "crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { k3sInstallStep } from "../../../components/k3s-ha-cluster/k3s/install-step";
import { validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { renderStepBundle } from "../../../lib/steps/bundle";
import { haHosts, haSpec } from "../../fixtures/cluster";

/**
 * Runs a k3s-install bundle as root in a private mount namespace (/usr/local/bin and /etc/systemd/system are
 * scratch directories) with `curl` replaced by a stub that serves a fake mirror from a directory laid out as the
 * real one is: a URL the mirror does not have fails like `curl -f` does (exit 22). The served install.sh records
 * the environment it ran with.
 */
const canRun =
  process.getuid?.() === 0 && spawnSync("unshare", ["--mount", "--propagation", "private", "true"]).status === 0;
const maybe = canRun ? describe : describe.skip;

const VERSION = "v1.31.4+k3s1";
const FAKE_K3S = `#!/bin/sh\necho "k3s version ${VERSION} (fake)"\n`;
const INSTALL_SH = `#!/bin/sh\nenv | grep '^INSTALL_K3S_' | sort >"$STUB_STATE/install-env"\ntouch /etc/systemd/system/k3s.service\n`;
const CURL = `#!/bin/bash
out= url=
while [ "$#" -gt 0 ]; do case "$1" in -o) out=$2; shift 2 ;; --retry) shift 2 ;; -*) shift ;; *) url=$1; shift ;; esac; done
echo "$url" >>"$STUB_STATE/urls"
f="$STUB_MIRROR/\${url#*://}"
[ -f "$f" ] || { echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; }
if [ -n "$out" ]; then cp "$f" "$out"; else cat "$f"; fi
`;

maybe("k3s-install bundle, executed against a fake mirror", () => {
  const dir = mkdtempSync(join(tmpdir(), "ec-k3si-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The mirror tree: `<host>/<path>` files, as the stub curl serves them. */
  const mirror = (files: Record<string, string>) => {
    const root = join(dir, `mirror-${Math.random().toString(36).slice(2)}`);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(root, path, ".."), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    return root;
  };
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");

  const run = (spec: object, host: string, mirrorRoot: string) => {
    const registrationAddress = {
      ...haSpec.registrationAddress!,
      image: "registry.example.lan/kube-vip/kube-vip:v0.8.9",
    };
    const props = validateK3sHaCluster({
      name: "demo",
      hosts: haHosts,
      spec: { ...haSpec, registrationAddress, ...spec },
    });
    const h = props.hosts.find((x) => x.name === host)!;
    const step = k3sInstallStep(h, "server", props.spec, []);
    const run = join(dir, `run-${Math.random().toString(36).slice(2)}`);
    for (const d of ["bin", "usrlocalbin", "systemd", "state"]) mkdirSync(join(run, d), { recursive: true });
    writeFileSync(join(run, "bin", "curl"), CURL, { mode: 0o755 });
    writeFileSync(join(run, "bundle.sh"), renderStepBundle(step));
    const r = spawnSync(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "bash",
        "-c",
        `mount --bind ${run}/usrlocalbin /usr/local/bin && mount --bind ${run}/systemd /etc/systemd/system && PATH=${run}/bin:$PATH bash ${run}/bundle.sh`,
      ],
      { encoding: "utf8", env: { ...process.env, STUB_STATE: join(run, "state"), STUB_MIRROR: mirrorRoot } },
    );
    const read = (f: string) => {
      try {
        return readFileSync(join(run, f), "utf8");
      } catch {
        return "";
      }
    };
    return {
      status: r.status,
      out: r.stdout + r.stderr,
      urls: read("state/urls").split("\n").filter(Boolean),
      installEnv: read("state/install-env"),
      binary: read("usrlocalbin/k3s"),
    };
  };

  test("GIVEN mirror: cn WHEN the step runs against the China mirror's layout (v1.31.4-k3s1/…) THEN the binary is fetched, sha256-checked and installed", () => {
    const root = mirror({
      "rancher-mirror.rancher.cn/k3s/v1.31.4-k3s1/k3s": FAKE_K3S,
      "rancher-mirror.rancher.cn/k3s/v1.31.4-k3s1/sha256sum-amd64.txt": `${sha(FAKE_K3S)}  k3s\n`,
      "rancher-mirror.rancher.cn/k3s/k3s-install.sh": INSTALL_SH,
    });
    const r = run({ install: { kind: "online", mirror: "cn" } }, "server-1", root);
    expect(r.out).not.toContain("404");
    expect(r.status).toBe(0);
    expect(r.urls).toEqual([
      "https://rancher-mirror.rancher.cn/k3s/v1.31.4-k3s1/k3s",
      "https://rancher-mirror.rancher.cn/k3s/v1.31.4-k3s1/sha256sum-amd64.txt",
      "https://rancher-mirror.rancher.cn/k3s/k3s-install.sh",
    ]);
    expect(r.binary).toBe(FAKE_K3S);
    expect(r.installEnv).toContain("INSTALL_K3S_MIRROR=cn");
  });

  test("GIVEN GitHub WHEN the step runs THEN it takes the %2B-encoded tag path, and install.sh runs with SKIP_DOWNLOAD=binary (so it still installs k3s-selinux where SELinux is on)", () => {
    const root = mirror({
      "github.com/k3s-io/k3s/releases/download/v1.31.4%2Bk3s1/k3s": FAKE_K3S,
      "github.com/k3s-io/k3s/releases/download/v1.31.4%2Bk3s1/sha256sum-amd64.txt": `${sha(FAKE_K3S)}  k3s\n`,
      "raw.githubusercontent.com/k3s-io/k3s/v1.31.4+k3s1/install.sh": INSTALL_SH,
    });
    const r = run({}, "server-1", root);
    expect(r.status).toBe(0);
    expect(r.installEnv).toContain("INSTALL_K3S_SKIP_DOWNLOAD=binary");
    expect(r.installEnv).not.toContain("INSTALL_K3S_SKIP_SELINUX_RPM");
  });

  test("GIVEN a binary that does not match the mirror's checksum THEN the step fails and installs nothing", () => {
    const root = mirror({
      "github.com/k3s-io/k3s/releases/download/v1.31.4%2Bk3s1/k3s": FAKE_K3S,
      "github.com/k3s-io/k3s/releases/download/v1.31.4%2Bk3s1/sha256sum-amd64.txt": `${sha("other")}  k3s\n`,
      "raw.githubusercontent.com/k3s-io/k3s/v1.31.4+k3s1/install.sh": INSTALL_SH,
    });
    const r = run({}, "server-1", root);
    expect(r.status).not.toBe(0);
    expect(r.binary).toBe("");
  });
});
