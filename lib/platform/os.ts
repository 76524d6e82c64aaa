/** Operating systems edgecloud renders host steps for. */
export const OS_IDS = [
  "centos-7",
  "rocky-8",
  "rocky-9",
  "alma-8",
  "alma-9",
  "rhel-8",
  "rhel-9",
  "openeuler-22.03",
  "openeuler-24.03",
  "kylin-v10",
  "ubuntu-20.04",
  "ubuntu-22.04",
  "ubuntu-24.04",
  "debian-11",
  "debian-12",
] as const;
export type OsId = (typeof OS_IDS)[number];

export type OsFamily = "rhel" | "debian";
export type PackageManager = "apt" | "dnf" | "yum";
export type Firewall = "firewalld" | "ufw" | "none";

/** A vendor package repository added (as a .repo file) before installing packages from it. */
export interface PackageRepo {
  readonly url: string;
  readonly file: string;
}

/**
 * How Docker Engine gets onto an OS, or why it does not. Debian and Ubuntu ship `docker.io`; openEuler ships
 * `docker`; RHEL, Rocky, Alma and CentOS have no Docker Engine in their base repositories: `docker-ce` (with
 * `containerd.io`) comes from download.docker.com's repository, which publishes a `docker-ce.repo` for CentOS
 * (used by the RHEL rebuilds too) at linux/centos/docker-ce.repo.
 */
export type DockerInstall =
  | { readonly kind: "packages"; readonly packages: readonly string[]; readonly repo?: PackageRepo }
  | { readonly kind: "unsupported"; readonly reason: string };

export const DOCKER_CE_REPO: PackageRepo = {
  url: "https://download.docker.com/linux/centos/docker-ce.repo",
  file: "/etc/yum.repos.d/docker-ce.repo",
};

/** Per-OS facts the renderers branch on. */
export interface OsProfile {
  readonly id: OsId;
  readonly family: OsFamily;
  readonly packageManager: PackageManager;
  /** The firewall the distribution enables by default. */
  readonly firewall: Firewall;
  /** SELinux enforcing by default: K3s needs k3s-selinux, etcd data dirs need a context. */
  readonly selinux: boolean;
  /** `ID` and `VERSION_ID` prefixes in /etc/os-release that identify it (pre-flight compares). */
  readonly osRelease: { readonly id: readonly string[]; readonly versionPrefix: string };
  /** Docker Engine for K3s's `runtime: docker`. */
  readonly docker: DockerInstall;
  /** Distribution package names. */
  readonly packages: {
    readonly nfsClient: string;
    readonly nfsServer: string;
    /** etcd from the distribution, when it ships one. */
    readonly etcdServer?: string;
    readonly etcdClient?: string;
    readonly tar: string;
    readonly curl: string;
    /** xz and zstd decompressors (release tarballs: Kata Containers). */
    readonly xz: string;
    readonly zstd: string;
    /** GnuPG, to dearmor a vendor's apt signing key into a keyring (apt only). */
    readonly gpg?: string;
  };
}

const rhelPackages = {
  nfsClient: "nfs-utils",
  nfsServer: "nfs-utils",
  tar: "tar",
  curl: "curl",
  xz: "xz",
  zstd: "zstd",
} as const;
const debPackages = {
  nfsClient: "nfs-common",
  nfsServer: "nfs-kernel-server",
  tar: "tar",
  curl: "curl",
  xz: "xz-utils",
  zstd: "zstd",
  gpg: "gpg",
  etcdServer: "etcd-server",
  etcdClient: "etcd-client",
} as const;

function rhel(
  id: OsId,
  osIds: string[],
  version: string,
  pm: PackageManager,
  extra: Partial<OsProfile["packages"]> = {},
): OsProfile {
  return {
    id,
    family: "rhel",
    packageManager: pm,
    firewall: "firewalld",
    selinux: true,
    osRelease: { id: osIds, versionPrefix: version },
    docker: { kind: "packages", packages: ["docker-ce", "containerd.io"], repo: DOCKER_CE_REPO },
    packages: { ...rhelPackages, ...extra },
  };
}

function deb(id: OsId, osId: string, version: string): OsProfile {
  return {
    id,
    family: "debian",
    packageManager: "apt",
    firewall: osId === "ubuntu" ? "ufw" : "none",
    selinux: false,
    osRelease: { id: [osId], versionPrefix: version },
    docker: { kind: "packages", packages: ["docker.io"] },
    packages: debPackages,
  };
}

export const OS_PROFILES: Readonly<Record<OsId, OsProfile>> = {
  "centos-7": rhel("centos-7", ["centos"], "7", "yum"),
  "rocky-8": rhel("rocky-8", ["rocky"], "8", "dnf"),
  "rocky-9": rhel("rocky-9", ["rocky"], "9", "dnf"),
  "alma-8": rhel("alma-8", ["almalinux"], "8", "dnf"),
  "alma-9": rhel("alma-9", ["almalinux"], "9", "dnf"),
  "rhel-8": rhel("rhel-8", ["rhel"], "8", "dnf"),
  "rhel-9": rhel("rhel-9", ["rhel"], "9", "dnf"),
  "openeuler-22.03": {
    ...rhel("openeuler-22.03", ["openEuler"], "22.03", "dnf", { etcdServer: "etcd", etcdClient: "etcd" }),
    docker: { kind: "packages", packages: ["docker"] },
  },
  "openeuler-24.03": {
    ...rhel("openeuler-24.03", ["openEuler"], "24.03", "dnf", { etcdServer: "etcd", etcdClient: "etcd" }),
    docker: { kind: "packages", packages: ["docker"] },
  },
  "kylin-v10": {
    ...rhel("kylin-v10", ["kylin"], "V10", "dnf"),
    selinux: false,
    // Docker's CentOS repository resolves $releasever to "V10" there, a path it does not publish
    docker: {
      kind: "unsupported",
      reason:
        "has no Docker Engine source edgecloud can verify (Docker's CentOS repository has no $releasever V10); use runtime containerd",
    },
  },
  "ubuntu-20.04": deb("ubuntu-20.04", "ubuntu", "20.04"),
  "ubuntu-22.04": deb("ubuntu-22.04", "ubuntu", "22.04"),
  "ubuntu-24.04": deb("ubuntu-24.04", "ubuntu", "24.04"),
  "debian-11": deb("debian-11", "debian", "11"),
  "debian-12": deb("debian-12", "debian", "12"),
};

export function osProfile(id: OsId): OsProfile {
  return OS_PROFILES[id];
}
