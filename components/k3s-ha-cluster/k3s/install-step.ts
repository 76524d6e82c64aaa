import { Host } from "../../../lib/hosts/host";
import { ARCH_NAMES } from "../../../lib/platform/arch";
import { shellQuote } from "../../../lib/steps/bundle";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { COMPONENT } from "../etcd/component";
import { K3sHaClusterSpec } from "../spec";
import { K3S_IMAGES_DIR, K3sRole } from "./paths";

const MIRRORS = {
  github: {
    releases: "https://github.com/k3s-io/k3s/releases/download",
    installScript: (v: string) => `https://raw.githubusercontent.com/k3s-io/k3s/${v}/install.sh`,
  },
  cn: {
    releases: "https://rancher-mirror.rancher.cn/k3s",
    installScript: () => "https://rancher-mirror.rancher.cn/k3s/k3s-install.sh",
  },
} as const;

/**
 * Places the pinned K3s binary (sha256-verified download, pre-staged air-gap copy, or a per-host override) and
 * runs the upstream install script with INSTALL_K3S_SKIP_DOWNLOAD/SKIP_START/SKIP_ENABLE: it writes the unit,
 * symlinks and uninstall script; no token passes through it (the token lives in config.yaml).
 */
export function k3sInstallStep(
  host: Host,
  role: K3sRole,
  spec: K3sHaClusterSpec,
  dependsOn: readonly string[],
): HostStep {
  const arch = ARCH_NAMES[host.arch];
  const v = spec.version;
  const vUrl = encodeURIComponent(v);
  const override = spec.artifactOverrides[host.name];
  const lines = [
    `want=${shellQuote(v)}`,
    "have=$(/usr/local/bin/k3s --version 2>/dev/null | head -n1 | awk '{print $3}' || true)",
    "unit_present=0",
    `[ -f /etc/systemd/system/${role === "server" ? "k3s" : "k3s-agent"}.service ] && unit_present=1`,
  ];
  lines.push(
    'if [ "$have" != "$want" ] || [ "$unit_present" = 0 ]; then',
    "  work=$(mktemp -d)",
    "  trap 'rm -rf \"$work\"' EXIT",
  );
  const mirrorEnv: string[] = [];
  if (spec.install.kind === "airgap") {
    const dir = spec.install.dir;
    // no rancher rpm repository to reach: k3s-selinux must be pre-installed where SELinux enforces
    mirrorEnv.push("INSTALL_K3S_SKIP_SELINUX_RPM=true");
    lines.push(
      `  for f in ${shellQuote(`${dir}/k3s`)} ${shellQuote(`${dir}/install.sh`)}; do [ -f "$f" ] || { ec_log "air-gap file $f is missing"; exit 1; }; done`,
      `  cp ${shellQuote(override ?? `${dir}/k3s`)} "$work/k3s"`,
      `  cp ${shellQuote(`${dir}/install.sh`)} "$work/install.sh"`,
      `  mkdir -p ${K3S_IMAGES_DIR}`,
      `  for img in ${shellQuote(dir)}/k3s-airgap-images-${arch.k3sImages}.tar*; do [ -f "$img" ] && cp -f "$img" ${K3S_IMAGES_DIR}/; done`,
    );
  } else {
    const m = MIRRORS[spec.install.mirror];
    if (spec.install.mirror === "cn") mirrorEnv.push("INSTALL_K3S_MIRROR=cn");
    const base = `${m.releases}/${vUrl}`;
    if (override && override.startsWith("/")) {
      lines.push(`  cp ${shellQuote(override)} "$work/k3s"`);
    } else if (override) {
      lines.push(`  curl -fsSL --retry 3 -o "$work/k3s" ${shellQuote(override)}`);
    } else {
      lines.push(
        `  curl -fsSL --retry 3 -o "$work/k3s" ${shellQuote(`${base}/${arch.k3sBinary}`)}`,
        `  curl -fsSL --retry 3 -o "$work/sha256sum.txt" ${shellQuote(`${base}/sha256sum-${arch.k3sImages}.txt`)}`,
        `  expected=$(awk '$2 == "${arch.k3sBinary}" { print $1 }' "$work/sha256sum.txt")`,
        `  [ -n "$expected" ] || { ec_log "no checksum for ${arch.k3sBinary} in sha256sum-${arch.k3sImages}.txt"; exit 1; }`,
        '  echo "$expected  $work/k3s" | sha256sum -c --quiet',
      );
    }
    lines.push(`  curl -fsSL --retry 3 -o "$work/install.sh" ${shellQuote(m.installScript(v))}`);
  }
  lines.push(
    '  install -m 0755 "$work/k3s" /usr/local/bin/k3s.new && mv -f /usr/local/bin/k3s.new /usr/local/bin/k3s',
    `  env INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_SKIP_START=true INSTALL_K3S_SKIP_ENABLE=true INSTALL_K3S_VERSION=${shellQuote(v)} ${mirrorEnv.join(" ")} INSTALL_K3S_EXEC=${role} sh "$work/install.sh" >/dev/null`,
    "  ec_changed",
    "fi",
  );
  const uninstall = role === "server" ? "/usr/local/bin/k3s-uninstall.sh" : "/usr/local/bin/k3s-agent-uninstall.sh";
  const deleteScript = `if [ -x ${uninstall} ]; then
  ${uninstall} >/dev/null 2>&1 || ec_log "${uninstall} reported errors"
  ec_changed
fi
ec_rm /usr/local/bin/k3s`;
  return hostStep({
    host: host.name,
    name: "k3s-install",
    component: COMPONENT,
    script: lines.join("\n"),
    deleteScript,
    dependsOn,
  });
}
