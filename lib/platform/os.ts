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
 * How a container runtime's packages get onto an OS, or why they do not.
 *
 * Docker Engine: Debian and Ubuntu ship `docker.io`; openEuler ships `docker`; RHEL, Rocky, Alma and CentOS have no
 * Docker Engine in their base repositories: `docker-ce` (with `containerd.io`) comes from download.docker.com's
 * repository, which publishes a `docker-ce.repo` for CentOS (used by the RHEL rebuilds too) at
 * linux/centos/docker-ce.repo. containerd alone (edge nodes; K3s embeds its own): Debian, Ubuntu and openEuler ship
 * `containerd`; the RHEL family takes `containerd.io` from the same Docker repository.
 */
export type RuntimePackages =
  | {
      readonly kind: "packages";
      readonly packages: readonly string[];
      readonly repo?: PackageRepo;
      /** The version the distribution ships, where some release needs a newer one. @default - new enough */
      readonly shipped?: { readonly version: string; readonly source: string };
    }
  | { readonly kind: "unsupported"; readonly reason: string };

/** Docker Engine's packages ({@link RuntimePackages}). */
export type DockerInstall = RuntimePackages;

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
  /** Docker Engine: K3s's `runtime: docker`, edge nodes' `edge.runtime: docker`. */
  readonly docker: RuntimePackages;
  /** containerd on its own: edge nodes' runtime (K3s nodes use K3s's embedded containerd). */
  readonly containerd: RuntimePackages;
  /** Packages a K3s node needs for SELinux (container-selinux's policy, semanage). @default - none */
  readonly selinuxPackages: readonly string[];
  /**
   * The systemd version the release ships (the oldest of its updates): unit features depend on it, e.g.
   * `LoadCredential=` needs 247.
   */
  readonly systemd: number;
  /** The distribution's Docker registry (distribution) package, for the registry's host mode. @default - none */
  readonly registryPackage?: string;
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
  systemd: number,
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
    containerd: { kind: "packages", packages: ["containerd.io"], repo: DOCKER_CE_REPO },
    selinuxPackages: ["container-selinux", "policycoreutils"],
    systemd,
    packages: { ...rhelPackages, ...extra },
  };
}

function deb(id: OsId, osId: string, version: string, systemd: number): OsProfile {
  return {
    id,
    family: "debian",
    packageManager: "apt",
    firewall: osId === "ubuntu" ? "ufw" : "none",
    selinux: false,
    osRelease: { id: [osId], versionPrefix: version },
    docker: { kind: "packages", packages: ["docker.io"] },
    containerd: { kind: "packages", packages: ["containerd"] },
    selinuxPackages: [],
    systemd,
    // Debian's docker-registry package (distribution), also in Ubuntu's universe
    registryPackage: "docker-registry",
    packages: debPackages,
  };
}

// systemd per release (the version each release shipped first): CentOS 7 219, RHEL 8 and its rebuilds 239, RHEL 9 250
// (9.0; later minors 252), openEuler 22.03 LTS 249, 24.03 LTS 255, Kylin V10 243 (openEuler 20.03 LTS's, its base; not verified here),
// Ubuntu 20.04 245, 22.04 249, 24.04 255, Debian 11 247, Debian 12 252.
const openEulerRuntimes = {
  docker: { kind: "packages", packages: ["docker"] },
  containerd: { kind: "packages", packages: ["containerd"] },
} as const;
// Docker's CentOS repository resolves $releasever to "V10" on Kylin, a path it does not publish
const KYLIN_NO_DOCKER_REPO = "Docker's CentOS repository has no $releasever V10";

export const OS_PROFILES: Readonly<Record<OsId, OsProfile>> = {
  "centos-7": rhel("centos-7", ["centos"], "7", "yum", 219),
  "rocky-8": rhel("rocky-8", ["rocky"], "8", "dnf", 239),
  "rocky-9": rhel("rocky-9", ["rocky"], "9", "dnf", 250),
  "alma-8": rhel("alma-8", ["almalinux"], "8", "dnf", 239),
  "alma-9": rhel("alma-9", ["almalinux"], "9", "dnf", 250),
  "rhel-8": rhel("rhel-8", ["rhel"], "8", "dnf", 239),
  "rhel-9": rhel("rhel-9", ["rhel"], "9", "dnf", 250),
  "openeuler-22.03": {
    ...rhel("openeuler-22.03", ["openEuler"], "22.03", "dnf", 249, { etcdServer: "etcd", etcdClient: "etcd" }),
    ...openEulerRuntimes,
  },
  "openeuler-24.03": {
    ...rhel("openeuler-24.03", ["openEuler"], "24.03", "dnf", 255, { etcdServer: "etcd", etcdClient: "etcd" }),
    ...openEulerRuntimes,
  },
  "kylin-v10": {
    ...rhel("kylin-v10", ["kylin"], "V10", "dnf", 243),
    selinux: false,
    selinuxPackages: [],
    docker: {
      kind: "unsupported",
      reason: `has no Docker Engine source edgecloud can verify (${KYLIN_NO_DOCKER_REPO}); use runtime containerd`,
    },
    containerd: {
      kind: "unsupported",
      reason: `has no containerd source edgecloud can verify (${KYLIN_NO_DOCKER_REPO}); install containerd on the host first`,
    },
  },
  "ubuntu-20.04": deb("ubuntu-20.04", "ubuntu", "20.04", 245),
  "ubuntu-22.04": deb("ubuntu-22.04", "ubuntu", "22.04", 249),
  "ubuntu-24.04": deb("ubuntu-24.04", "ubuntu", "24.04", 255),
  "debian-11": {
    ...deb("debian-11", "debian", "11", 247),
    containerd: {
      kind: "packages",
      packages: ["containerd"],
      shipped: { version: "1.4", source: "Debian 11 bullseye's containerd 1.4.13" },
    },
  },
  "debian-12": deb("debian-12", "debian", "12", 252),
};

export function osProfile(id: OsId): OsProfile {
  return OS_PROFILES[id];
}
