import { Host } from "../../../lib/hosts/host";
import { ARCH_NAMES } from "../../../lib/platform/arch";
import { osProfile } from "../../../lib/platform/os";
import { shellQuote } from "../../../lib/steps/bundle";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { EtcdSpec } from "../spec";
import { COMPONENT } from "./component";

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
          "if ! dpkg-query -W -f='${Status}' " + pkgs[0] + " 2>/dev/null | grep -q 'install ok installed'; then",
          "  printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d",
          "  trap 'rm -f /usr/sbin/policy-rc.d' EXIT",
          "fi",
        );
      }
      lines.push(`ec_pkg ${os.packageManager} ${pkgs.join(" ")}`);
      del.push(
        ...(os.packageManager === "apt"
          ? [
              `if dpkg-query -W ${pkgs[0]} >/dev/null 2>&1; then DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ${pkgs.join(" ")} >/dev/null; ec_changed; fi`,
            ]
          : [
              `if rpm -q ${pkgs[0]} >/dev/null 2>&1; then ${os.packageManager} remove -y -q ${pkgs.join(" ")} >/dev/null; ec_changed; fi`,
            ]),
      );
      break;
    }
    case "release":
    case "prestaged": {
      const arch = ARCH_NAMES[host.arch].etcd;
      const name = `etcd-${etcd.version}-linux-${arch}`;
      const i = etcd.install;
      const tarball =
        i.kind === "prestaged" ? (i.tarball ?? `${i.dir}/${name}.tar.gz`) : `/var/cache/edgecloud/${name}.tar.gz`;
      lines.push(`want=${shellQuote(etcd.version.slice(1))}`, `tarball=${shellQuote(tarball)}`);
      lines.push('if ! /usr/local/bin/etcd --version 2>/dev/null | grep -q "etcd Version: $want$"; then');
      if (etcd.install.kind === "release") {
        const base = `${etcd.install.mirror}/${etcd.version}`;
        const sum = etcd.install.sha256?.[host.arch];
        lines.push(
          `  ec_pkg ${os.packageManager} ${os.packages.curl} ${os.packages.tar}`,
          "  mkdir -p /var/cache/edgecloud",
          `  curl -fsSL --retry 3 -o "$tarball.part" ${shellQuote(`${base}/${name}.tar.gz`)}`,
          sum
            ? `  echo ${shellQuote(`${sum}  ${tarball}.part`)} | sha256sum -c --quiet`
            : `  expected=$(curl -fsSL --retry 3 ${shellQuote(`${base}/SHA256SUMS`)} | awk -v f=${shellQuote(`${name}.tar.gz`)} '$2 == f { print $1 }')\n  [ -n "$expected" ] || { ec_log "no checksum for ${name}.tar.gz in SHA256SUMS"; exit 1; }\n  echo "$expected  $tarball.part" | sha256sum -c --quiet`,
          '  mv -f "$tarball.part" "$tarball"',
        );
      } else {
        lines.push('  [ -f "$tarball" ] || { ec_log "pre-staged etcd tarball $tarball is missing"; exit 1; }');
      }
      lines.push(
        "  work=$(mktemp -d)",
        '  tar -xzf "$tarball" -C "$work" --strip-components=1',
        '  for b in etcd etcdctl etcdutl; do if [ -f "$work/$b" ]; then install -m 0755 "$work/$b" "/usr/local/bin/$b.new" && mv -f "/usr/local/bin/$b.new" "/usr/local/bin/$b"; fi; done',
        '  rm -rf "$work"',
        "  ec_changed",
        "fi",
      );
      del.push(
        "ec_rm /usr/local/bin/etcd /usr/local/bin/etcdctl /usr/local/bin/etcdutl" +
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
    "  rm -rf /var/lib/etcd/default",
    "  ec_changed",
    "fi",
    `ec_user etcd ${shellQuote(etcd.dataDir)}`,
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
