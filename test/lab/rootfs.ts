import { createHash } from "crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "fs";
import { join } from "path";
import { run } from "./proc";

/**
 * The Debian 12 root filesystem every lab host boots from (read-only lower layer of each host's overlay).
 * Built with debootstrap, cached outside the repository and rebuilt when absent or when anything that shapes it
 * (package list, suite, mirror, image tweaks) changes: the cache directory is named by a hash of all of that.
 */
export const ROOTFS_BASE_PACKAGES: readonly string[] = [
  "systemd",
  "systemd-sysv",
  "dbus",
  "openssh-server",
  "iproute2",
  "ca-certificates",
  "curl",
  "etcd-server",
  "etcd-client",
  "procps",
  "openssl",
];

/**
 * Installed with apt inside the debootstrapped tree (booted with systemd-nspawn, host network): debootstrap
 * cannot configure some of their dependencies itself (golang-github-containers-common fails there).
 * The Registry (host mode) and NFS steps need them; the hosts are offline, so `ec_pkg` must find them installed.
 */
export const ROOTFS_EXTRA_PACKAGES: readonly string[] = [
  "docker-registry",
  "skopeo",
  "nfs-kernel-server",
  "nfs-common",
  // real nodes (nodes.lab.test.ts, issue 15): Debian's container runtime, CNI plugins and what kubelet and
  // kube-proxy call; the image fixture's tools (umoci, catatonit as the pause process, busybox-static) and the
  // third-party services EdgeX runs next to its own (redis, mosquitto, nginx), packaged as OCI images from here
  "containerd",
  "runc",
  "containernetworking-plugins",
  "iptables",
  "conntrack",
  "socat",
  "ethtool",
  "umoci",
  "catatonit",
  "busybox-static",
  "redis-server",
  "mosquitto",
  "nginx",
  // firewalls an operator may enable on a Debian host (issue 11): the library's firewall steps must open their
  // ports on whichever runs. Both services are inert in the image (see IMAGE_TWEAKS); `LabHostSpec.firewall`
  // turns one on per host. nftables gives the `nft` CLI to read what firewalld programmed.
  "firewalld",
  "ufw",
  "nftables",
  // edge pools (edge-pool.lab.test.ts, issue 18): machines that run their join bundle at first boot through real
  // cloud-init (Debian 12's 22.4.2, NoCloud datasource from a seed directory). Inert without a seed: its generator
  // (ds-identify) finds no datasource and enables none of its units (see IMAGE_TWEAKS).
  "cloud-init",
];

/** Every package of the image. */
export const ROOTFS_PACKAGES: readonly string[] = [...ROOTFS_BASE_PACKAGES, ...ROOTFS_EXTRA_PACKAGES];

export const ROOTFS_SUITE = "bookworm";
export const ROOTFS_MIRROR = process.env.EDGECLOUD_LAB_MIRROR ?? "http://deb.debian.org/debian";
export const ROOTFS_CACHE = process.env.EDGECLOUD_LAB_CACHE ?? "/var/cache/edgecloud-lab";

/**
 * Tweaks applied to the debootstrapped tree before it is published. Bump IMAGE_REVISION when changing them.
 *
 * - Debian's etcd-server package enables etcd.service, which starts a default single-member etcd listening on
 *   plaintext localhost:2379/2380 with data in /var/lib/etcd/default. The image disables it (a lab host must
 *   start clean); `LabHostSpec.distroEtcdRunning` re-enables it per host to reproduce a fresh `apt install`.
 * - Likewise docker-registry.service (plaintext :5000), nfs-server.service and containerd.service are disabled: the
 *   library's steps enable what they configure. redis-server, mosquitto and nginx are there as image sources only:
 *   their services are disabled.
 * - firewalld.service is disabled (its package enables it, and a running firewalld closes every port but SSH);
 *   ufw ships inert (`ENABLED=no` in /etc/ufw/ufw.conf). `LabHostSpec.firewall` enables either per host.
 * - apt and maintenance timers are masked: the hosts are offline and an apt-daily run would hold the dpkg lock.
 * - machine-id and SSH host keys are removed: each host gets its own at boot time (see lab.ts).
 * - cloud-init stays as installed: without a seed in /var/lib/cloud/seed/nocloud its ds-identify finds no datasource
 *   and cloud-init is disabled for that boot (a lab host gets a seed only from `LabHostSpec.files`).
 */
const IMAGE_REVISION = 6;
const IMAGE_TWEAKS = `
set -euo pipefail
cd "$1"
systemctl --root=. disable etcd.service >/dev/null 2>&1 || true
rm -f etc/systemd/system/multi-user.target.wants/etcd.service etc/systemd/system/etcd2.service
for u in docker-registry.service nfs-server.service containerd.service redis-server.service mosquitto.service \\
         nginx.service firewalld.service nftables.service; do systemctl --root=. disable "$u" >/dev/null 2>&1 || true; done
for t in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \\
         e2scrub_reap.service systemd-pstore.service getty@tty1.service; do
  systemctl --root=. mask "$t" >/dev/null 2>&1
done
: >etc/machine-id
rm -f var/lib/dbus/machine-id
rm -f etc/ssh/ssh_host_*
mkdir -p etc/ssh/sshd_config.d
cat >etc/ssh/sshd_config.d/edgecloud-lab.conf <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
MaxStartups 64:30:128
EOF
rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/*_Packages
`;

export function rootfsHash(): string {
  return createHash("sha256")
    .update(
      JSON.stringify({
        p: [...ROOTFS_PACKAGES].sort(),
        s: ROOTFS_SUITE,
        m: ROOTFS_MIRROR,
        r: IMAGE_REVISION,
        t: IMAGE_TWEAKS,
      }),
    )
    .digest("hex")
    .slice(0, 16);
}

export interface RootfsInfo {
  readonly dir: string;
  /** True when this call built it (false: taken from the cache). */
  readonly built: boolean;
  readonly ms: number;
}

/** Returns the cached rootfs, building it first when absent. Safe against concurrent callers (lock directory). */
export async function ensureRootfs(log: (m: string) => void = () => undefined): Promise<RootfsInfo> {
  const t0 = Date.now();
  const hash = rootfsHash();
  const dir = join(ROOTFS_CACHE, `rootfs-${hash}`);
  if (existsSync(join(dir, ".edgecloud-lab-ready"))) {
    touchReady(dir);
    return { dir, built: false, ms: Date.now() - t0 };
  }
  mkdirSync(ROOTFS_CACHE, { recursive: true });
  const lock = join(ROOTFS_CACHE, `.lock-${hash}`);
  await acquireLock(lock);
  try {
    if (existsSync(join(dir, ".edgecloud-lab-ready"))) return { dir, built: false, ms: Date.now() - t0 };
    for (const e of readdirSync(ROOTFS_CACHE)) {
      if (e.startsWith(`rootfs-${hash}.tmp-`)) rmSync(join(ROOTFS_CACHE, e), { recursive: true, force: true });
    }
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    const tmp = `${dir}.tmp-${process.pid}`;
    log(`building lab rootfs ${dir} (debootstrap ${ROOTFS_SUITE}, ${ROOTFS_PACKAGES.length} packages)`);
    const r = await run(
      "debootstrap",
      ["--variant=minbase", `--include=${ROOTFS_BASE_PACKAGES.join(",")}`, ROOTFS_SUITE, tmp, ROOTFS_MIRROR],
      { timeoutMs: 15 * 60_000 },
    );
    if (r.code !== 0) {
      rmSync(tmp, { recursive: true, force: true });
      throw new Error(`debootstrap failed (exit ${r.code}):\n${(r.stdout + r.stderr).slice(-4000)}`);
    }
    if (ROOTFS_EXTRA_PACKAGES.length) {
      const a = await run(
        "systemd-nspawn",
        [
          "-q",
          "-D",
          tmp,
          "--register=no",
          "--keep-unit",
          "-E",
          "DEBIAN_FRONTEND=noninteractive",
          "bash",
          "-c",
          // policy-rc.d: no maintainer script starts a service here (this container shares the runner's network)
          "printf '#!/bin/sh\\nexit 101\\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && " +
            `apt-get update -q && apt-get install -y -q --no-install-recommends ${ROOTFS_EXTRA_PACKAGES.join(" ")} && apt-get clean && rm -f /usr/sbin/policy-rc.d`,
        ],
        { timeoutMs: 15 * 60_000 },
      );
      if (a.code !== 0) {
        rmSync(tmp, { recursive: true, force: true });
        throw new Error(
          `apt-get install in the rootfs failed (exit ${a.code}):\n${(a.stdout + a.stderr).slice(-4000)}`,
        );
      }
    }
    const t = await run("bash", ["-c", IMAGE_TWEAKS, "tweaks", tmp]);
    if (t.code !== 0) throw new Error(`rootfs tweaks failed: ${t.stderr}`);
    writeFileSync(
      join(tmp, ".edgecloud-lab-ready"),
      JSON.stringify({ hash, packages: ROOTFS_PACKAGES, at: new Date().toISOString() }),
    );
    renameSync(tmp, dir);
    log(`built lab rootfs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    pruneOldRootfs(dir, log);
    return { dir, built: true, ms: Date.now() - t0 };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Marks a rootfs as used now (its ready marker's mtime): {@link pruneOldRootfs} keeps what was used lately. */
function touchReady(dir: string): void {
  const now = new Date();
  try {
    utimesSync(join(dir, ".edgecloud-lab-ready"), now, now);
  } catch {
    /* read-only cache: pruning then goes by the build time */
  }
}

/**
 * A rootfs used this recently is kept: worktrees of one machine with different package lists share the cache, and
 * each build removed the other's (an idle one is unmounted), so they rebuilt each other's in turn (minutes each).
 */
export const ROOTFS_KEEP_USED_MS = 12 * 3600_000;

/** Removes root filesystems of earlier package lists that no mounted overlay uses and nobody used lately. */
function pruneOldRootfs(keep: string, log: (m: string) => void): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8");
  for (const e of readdirSync(ROOTFS_CACHE)) {
    const path = join(ROOTFS_CACHE, e);
    if (!/^rootfs-[0-9a-f]{16}$/.test(e) || path === keep || mounts.includes(path)) continue;
    const ready = join(path, ".edgecloud-lab-ready");
    if (existsSync(ready) && Date.now() - statSync(ready).mtimeMs < ROOTFS_KEEP_USED_MS) continue;
    log(`removing the old lab rootfs ${path}`);
    rmSync(path, { recursive: true, force: true });
  }
}

async function acquireLock(lock: string): Promise<void> {
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      return;
    } catch {
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(lock, "pid"), "utf8"));
      } catch {
        /* being created or removed */
      }
      if (Number.isInteger(holder) && !alive(holder)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the rootfs lock ${lock}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
