import { Host } from "../../../lib/hosts/host";
import { ARCH_NAMES } from "../../../lib/platform/arch";
import { osProfile } from "../../../lib/platform/os";
import { raw, sh } from "../../../lib/steps/sh";
import { removePackages } from "../../../lib/steps/packages";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { EtcdSpec } from "../spec";
import { COMPONENT } from "./component";
import { ETCD_STAGE_DIR, etcdStagedDir } from "./paths";

/** curl that refuses anything but https, for the first request and every redirect. */
const CURL_HTTPS = "curl -fsSL --retry 3 --proto =https --proto-redir =https";

/**
 * Installs etcd + etcdctl on a member and creates the etcd user. The distribution's own etcd.service (Debian
 * starts one in plaintext on install) is stopped and masked: edgecloud runs its own TLS-only unit.
 */
export function etcdInstallStep(host: Host, etcd: EtcdSpec, dependsOn: readonly string[] = []): HostStep {
  const os = osProfile(host.os);
  const lines: string[] = [];
  const del: string[] = [];
  switch (etcd.install.kind) {
    case "distro": {
      const pkgs = [...new Set([os.packages.etcdServer!, os.packages.etcdClient!])];
      if (os.packageManager === "apt") {
        lines.push(
          "# keep the package from starting a plaintext etcd while it installs",
          sh`if ! dpkg-query -W -f='\${Status}' ${pkgs[0]!} 2>/dev/null | grep -q 'install ok installed'; then`,
          "  printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d",
          "  trap 'rm -f /usr/sbin/policy-rc.d' EXIT",
          "fi",
        );
      }
      lines.push(sh`ec_pkg ${os.packageManager} ${pkgs}`);
      del.push(removePackages(os, pkgs));
      break;
    }
    case "release":
    case "prestaged": {
      const arch = ARCH_NAMES[host.arch].etcd;
      const name = `etcd-${etcd.version}-linux-${arch}`;
      const i = etcd.install;
      const tarball =
        i.kind === "prestaged" ? (i.tarball ?? `${i.dir}/${name}.tar.gz`) : `/var/cache/edgecloud/${name}.tar.gz`;
      lines.push(sh`want=${etcd.version.slice(1)}`, sh`tarball=${tarball}`, sh`stage=${etcdStagedDir(etcd)}`);
      // staged, not installed: the running member keeps its binary until the member step's turn in the roll
      // grep reads all of it: with -q it exits at the first line, etcd dies of SIGPIPE and pipefail fails the test
      lines.push('if ! "$stage/etcd" --version 2>/dev/null | grep "etcd Version: $want$" >/dev/null; then');
      // etcd-io/etcd v3.5.17 scripts/release.sh: every release publishes SHA256SUMS (sha256 of each tarball)
      const verify = (file: string, sum: string | undefined, sums: ReturnType<typeof raw>, label: string) =>
        sum
          ? [sh`  echo ${`${sum}  `}"${raw(file)}" | sha256sum -c --quiet`]
          : [
              sh`  expected=$(${sums} | awk -v f=${`${name}.tar.gz`} '$2 == f { print $1 }')`,
              sh`  [ -n "$expected" ] || { ec_log ${`no checksum for ${name}.tar.gz in ${label}`}; exit 1; }`,
              `  echo "$expected  ${file}" | sha256sum -c --quiet`,
            ];
      if (i.kind === "release") {
        const base = `${i.mirror}/${etcd.version}`;
        const curl = i.insecure ? raw("curl -fsSL --retry 3") : raw(CURL_HTTPS);
        lines.push(
          sh`  ec_pkg ${os.packageManager} ${os.packages.curl} ${os.packages.tar}`,
          "  mkdir -p /var/cache/edgecloud",
          sh`  ${curl} -o "$tarball.part" -- ${`${base}/${name}.tar.gz`}`,
          ...verify("$tarball.part", i.sha256?.[host.arch], raw(sh`${curl} -- ${`${base}/SHA256SUMS`}`), "SHA256SUMS"),
          '  mv -f "$tarball.part" "$tarball"',
        );
      } else {
        const sums = `${tarball.replace(/\/[^/]*$/, "")}/SHA256SUMS`;
        lines.push(
          '  [ -f "$tarball" ] || { ec_log "pre-staged etcd tarball $tarball is missing"; exit 1; }',
          ...verify("$tarball", i.sha256?.[host.arch], raw(sh`cat -- ${sums}`), sums),
        );
      }
      lines.push(
        "  work=$(mktemp -d)",
        '  tar -xzf "$tarball" -C "$work" --strip-components=1',
        '  mkdir -p "$stage"',
        '  for b in etcd etcdctl etcdutl; do if [ -f "$work/$b" ]; then install -m 0755 "$work/$b" "$stage/$b.new" && mv -f "$stage/$b.new" "$stage/$b"; fi; done',
        '  rm -rf "$work"',
        "  ec_changed",
        "fi",
        "# the clients go on PATH at once (etcdctl talks to members one minor apart); the server binary is put in place",
        "# by the member step, one member at a time",
        "for b in etcdctl etcdutl; do",
        '  if [ -f "$stage/$b" ] && ! cmp -s "$stage/$b" "/usr/local/bin/$b"; then',
        '    install -m 0755 "$stage/$b" "/usr/local/bin/$b.new" && mv -f "/usr/local/bin/$b.new" "/usr/local/bin/$b"',
        "    ec_changed",
        "  fi",
        "done",
      );
      del.push(
        `ec_rm /usr/local/bin/etcd /usr/local/bin/etcdctl /usr/local/bin/etcdutl ${ETCD_STAGE_DIR}` +
          (etcd.install.kind === "release" ? ` /var/cache/edgecloud/${name}.tar.gz` : ""),
      );
      break;
    }
  }
  lines.push(
    "# a distribution etcd.service must never run beside ours",
    'if systemctl cat etcd.service >/dev/null 2>&1 && [ "$(systemctl is-enabled etcd.service 2>/dev/null || true)" != masked ]; then',
    "  systemctl disable --now --quiet etcd.service 2>/dev/null || true",
    "  systemctl mask --quiet etcd.service",
    "  # the package's data directory (ETCD_DATA_DIR=/var/lib/etcd/default) is kept, moved aside, never deleted",
    '  if [ -d /var/lib/etcd/default ]; then mv /var/lib/etcd/default "/var/lib/etcd/default.edgecloud-moved-$(date -u +%Y%m%dT%H%M%SZ)"; fi',
    "  ec_changed",
    "fi",
    sh`ec_user etcd ${etcd.dataDir}`,
  );
  del.unshift(
    'if [ "$(systemctl is-enabled etcd.service 2>/dev/null || true)" = masked ]; then systemctl unmask --quiet etcd.service; ec_changed; fi',
  );
  del.push("if id -u etcd >/dev/null 2>&1; then userdel etcd 2>/dev/null || true; ec_changed; fi");
  return hostStep({
    host: host.name,
    name: "etcd-install",
    component: COMPONENT,
    script: lines.join("\n"),
    deleteScript: del.join("\n"),
    dependsOn,
  });
}
