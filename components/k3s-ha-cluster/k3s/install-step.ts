import { Host } from "../../../lib/hosts/host";
import { ARCH_NAMES, Arch } from "../../../lib/platform/arch";
import { raw, sh, ShellValue } from "../../../lib/steps/sh";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { COMPONENT } from "../etcd/component";
import { K3sHaClusterSpec } from "../spec";
import { K3S_IMAGES_DIR, K3sRole } from "./paths";

/**
 * Where the binary, its checksum file and the install script come from.
 * - GitHub: release assets under the tag, whose `+` is %2B-encoded in the URL; the install script at the tag.
 * - The China mirror keeps each release under the version with `+` replaced by `-` (`v1.31.4-k3s1/k3s`): its
 *   k3s-install.sh builds `${INSTALL_K3S_MIRROR_URL}/k3s/${VERSION_K3S}/...` after `sed 's/+/-/g'`, and logs
 *   `Downloading hash rancher-mirror.rancher.cn/k3s/v1.27.4-k3s1/sha256sum-amd64.txt`. That script is published
 *   only on the mirror (rancher-mirror.rancher.cn/k3s/k3s-install.sh), not in a repository that could be read at a
 *   tag here; k3s-io/k3s itself (whose install.sh has no mirror support) was too large to fetch (559 MB).
 */
/** curl refuses anything but https, for the first request and every redirect. */
const HTTPS_ONLY = ["--proto", "=https", "--proto-redir", "=https"];

const MIRRORS = {
  github: {
    releases: "https://github.com/k3s-io/k3s/releases/download",
    versionPath: (v: string) => encodeURIComponent(v),
    installScript: (v: string) => `https://raw.githubusercontent.com/k3s-io/k3s/${v}/install.sh`,
  },
  cn: {
    releases: "https://rancher-mirror.rancher.cn/k3s",
    versionPath: (v: string) => v.replace(/\+/g, "-"),
    installScript: () => "https://rancher-mirror.rancher.cn/k3s/k3s-install.sh",
  },
} as const;

/** Where an air-gap directory holds a host's K3s binary: the release asset name for its architecture. */
export function airgapK3sBinary(dir: string, arch: Arch): string {
  return `${dir}/${ARCH_NAMES[arch].k3sBinary}`;
}

/** The download URLs of a host's K3s binary and checksum file on a mirror (exported for tests and docs). */
export function k3sDownloadUrls(
  mirror: keyof typeof MIRRORS,
  version: string,
  arch: (typeof ARCH_NAMES)[keyof typeof ARCH_NAMES],
): { binary: string; sha256sum: string } {
  const m = MIRRORS[mirror];
  const base = `${m.releases}/${m.versionPath(version)}`;
  return { binary: `${base}/${arch.k3sBinary}`, sha256sum: `${base}/sha256sum-${arch.k3sImages}.txt` };
}

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
  const override = spec.artifactOverrides[host.name];
  const lines = [
    sh`want=${v}`,
    "have=$(/usr/local/bin/k3s --version 2>/dev/null | head -n1 | awk '{print $3}' || true)",
    "unit_present=0",
    `[ -f /etc/systemd/system/${role === "server" ? "k3s" : "k3s-agent"}.service ] && unit_present=1`,
  ];
  lines.push(
    'if [ "$have" != "$want" ] || [ "$unit_present" = 0 ]; then',
    "  work=$(mktemp -d)",
    "  trap 'rm -rf \"$work\"' EXIT",
  );
  // k3s-io/k3s install.sh download_hash(): every release publishes sha256sum-<arch>.txt listing k3s<suffix>
  // and the air-gap image tarballs; the binary is checked against it (or against the override's own sha256).
  const verifyFrom = (sums: ShellValue, label: string) => [
    sh`  expected=$(awk -v f=${arch.k3sBinary} '$2 == f { print $1 }' ${sums})`,
    sh`  [ -n "$expected" ] || { ec_log ${`no checksum for ${arch.k3sBinary} in ${label}`}; exit 1; }`,
    '  echo "$expected  $work/k3s" | sha256sum -c --quiet',
  ];
  const verifyOverride = (sha256: string) => [sh`  echo ${`${sha256}  `}"$work/k3s" | sha256sum -c --quiet`];
  const mirrorEnv: string[] = [];
  if (spec.install.kind === "airgap") {
    const dir = spec.install.dir;
    // one directory serves every architecture: the binary under its release asset name (k3s, k3s-arm64, k3s-armhf)
    const binary = override?.source ?? airgapK3sBinary(dir, host.arch);
    const sums = `${dir}/sha256sum-${arch.k3sImages}.txt`;
    // no rancher rpm repository to reach: k3s-selinux must be pre-installed where SELinux enforces (pre-flight checks)
    mirrorEnv.push("INSTALL_K3S_SKIP_SELINUX_RPM=true");
    lines.push(
      sh`  for f in ${[binary, `${dir}/install.sh`, ...(override ? [] : [sums])]}; do [ -f "$f" ] || { ec_log "air-gap file $f is missing"; exit 1; }; done`,
      sh`  cp -- ${binary} "$work/k3s"`,
      ...(override ? verifyOverride(override.sha256) : verifyFrom(sums, sums)),
      sh`  cp -- ${`${dir}/install.sh`} "$work/install.sh"`,
      sh`  mkdir -p ${K3S_IMAGES_DIR}`,
      sh`  for img in ${dir}/k3s-airgap-images-${arch.k3sImages}.tar*; do [ -f "$img" ] && cp -f "$img" ${K3S_IMAGES_DIR}/; done`,
    );
  } else {
    const m = MIRRORS[spec.install.mirror];
    if (spec.install.mirror === "cn") mirrorEnv.push("INSTALL_K3S_MIRROR=cn");
    const urls = k3sDownloadUrls(spec.install.mirror, v, arch);
    if (override && override.source.startsWith("/")) {
      lines.push(sh`  cp -- ${override.source} "$work/k3s"`, ...verifyOverride(override.sha256));
    } else if (override) {
      lines.push(
        sh`  curl -fsSL --retry 3 ${override.insecure ? [] : HTTPS_ONLY} -o "$work/k3s" -- ${override.source}`,
        ...verifyOverride(override.sha256),
      );
    } else {
      lines.push(
        sh`  curl -fsSL --retry 3 ${HTTPS_ONLY} -o "$work/k3s" -- ${urls.binary}`,
        sh`  curl -fsSL --retry 3 ${HTTPS_ONLY} -o "$work/sha256sum.txt" -- ${urls.sha256sum}`,
        ...verifyFrom(raw('"$work/sha256sum.txt"'), `sha256sum-${arch.k3sImages}.txt`),
      );
    }
    lines.push(sh`  curl -fsSL --retry 3 ${HTTPS_ONLY} -o "$work/install.sh" -- ${m.installScript(v)}`);
  }
  lines.push(
    '  install -m 0755 "$work/k3s" /usr/local/bin/k3s.new && mv -f /usr/local/bin/k3s.new /usr/local/bin/k3s',
    // SKIP_DOWNLOAD=binary (online) skips only the binary, so install.sh still installs k3s-selinux and labels the
    // binary where SELinux is on; =true would skip that too (k3s-io/k3s install.sh @0136cf25
    // can_skip_download_binary / can_skip_download_selinux / setup_selinux). Air-gap has no rpm repository: true.
    sh`  env ${`INSTALL_K3S_SKIP_DOWNLOAD=${spec.install.kind === "airgap" ? "true" : "binary"}`} INSTALL_K3S_SKIP_START=true INSTALL_K3S_SKIP_ENABLE=true ${`INSTALL_K3S_VERSION=${v}`} ${mirrorEnv} ${`INSTALL_K3S_EXEC=${role}`} sh "$work/install.sh" >/dev/null`,
    "  ec_changed",
    "fi",
  );
  const uninstall = role === "server" ? "/usr/local/bin/k3s-uninstall.sh" : "/usr/local/bin/k3s-agent-uninstall.sh";
  const deleteScript = sh`if [ -x ${uninstall} ]; then
  ${uninstall} >/dev/null 2>&1 || ec_log ${`${uninstall} reported errors`}
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
