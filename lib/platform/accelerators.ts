import { Arch } from "./arch";
import { OsId, OsFamily } from "./os";

/**
 * Where the NVIDIA Container Toolkit comes from and what its vendor ships it for.
 *
 * NVIDIA/cloud-native-docs container-toolkit/1.17.4/supported-platforms.html ("tested and expected to work"):
 * Ubuntu 20.04, 22.04, 24.04 on amd64 and arm64; RHEL 8.x and 9.x (and CentOS 8) on amd64 and arm64; Debian 11 on
 * amd64 only; no openEuler, Kylin, Debian 12 or CentOS 7 row, no 32-bit arm, riscv64 or loong64 column. Rocky and
 * Alma 8/9 are binary-compatible rebuilds of RHEL 8/9 and use the same repository (the rpm repository is one for
 * every RHEL-compatible distribution, container-toolkit/1.17.4/install-guide.html "With dnf").
 *
 * The repositories (same install guide): apt — the key https://nvidia.github.io/libnvidia-container/gpgkey and the
 * list https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list, whose `deb https://`
 * lines get `[signed-by=<keyring>]`; dnf/yum — https://nvidia.github.io/libnvidia-container/stable/rpm/nvidia-container-toolkit.repo.
 * The package is `nvidia-container-toolkit` on both.
 */
export const NVIDIA_TOOLKIT_SUPPORT: Readonly<Partial<Record<OsId, readonly Arch[]>>> = {
  "ubuntu-20.04": ["amd64", "arm64"],
  "ubuntu-22.04": ["amd64", "arm64"],
  "ubuntu-24.04": ["amd64", "arm64"],
  "debian-11": ["amd64"],
  "rhel-8": ["amd64", "arm64"],
  "rhel-9": ["amd64", "arm64"],
  "rocky-8": ["amd64", "arm64"],
  "rocky-9": ["amd64", "arm64"],
  "alma-8": ["amd64", "arm64"],
  "alma-9": ["amd64", "arm64"],
};

export interface NvidiaToolkitRepo {
  readonly family: OsFamily;
  /** apt: the list to fetch; dnf/yum: the .repo file to fetch. */
  readonly url: string;
  /** Where it is written on the host. */
  readonly file: string;
  /** apt only: the armored key and the keyring it is dearmored into. */
  readonly key?: { readonly url: string; readonly keyring: string };
}

export const NVIDIA_TOOLKIT_PACKAGE = "nvidia-container-toolkit";

export const NVIDIA_TOOLKIT_REPOS: Readonly<Record<OsFamily, NvidiaToolkitRepo>> = {
  debian: {
    family: "debian",
    url: "https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list",
    file: "/etc/apt/sources.list.d/nvidia-container-toolkit.list",
    key: {
      url: "https://nvidia.github.io/libnvidia-container/gpgkey",
      keyring: "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg",
    },
  },
  rhel: {
    family: "rhel",
    url: "https://nvidia.github.io/libnvidia-container/stable/rpm/nvidia-container-toolkit.repo",
    file: "/etc/yum.repos.d/nvidia-container-toolkit.repo",
  },
};

/** `os/arch` pairs NVIDIA ships the toolkit for, as users write them. */
export function nvidiaToolkitTargets(): string[] {
  return Object.entries(NVIDIA_TOOLKIT_SUPPORT).flatMap(([os, arches]) => arches!.map((a) => `${os}/${a}`));
}

export function nvidiaToolkitSupports(os: OsId, arch: Arch): boolean {
  return NVIDIA_TOOLKIT_SUPPORT[os]?.includes(arch) ?? false;
}

/**
 * Kata Containers: the release's static tarball `kata-static-<version>-<arch>.tar.xz`
 * (kata-containers/kata-containers tools/packaging/release/release.sh `_upload_kata_static_tarball`, 3.x) is
 * uploaded for amd64, arm64, s390x and ppc64le (the kata-deploy multi-arch manifest in the same script lists those
 * four); edgecloud targets the first two. It is distribution-independent (everything under /opt/kata), so every
 * OS family takes the same tarball.
 */
export const KATA_ARCHES: readonly Arch[] = ["amd64", "arm64"];

/**
 * KubeVirt v1.5.2 builds for x86_64, aarch64 and s390x only (kubevirt/kubevirt v1.5.2 hack/build-go.sh: "only
 * support x86_64, aarch64 and s390x"; hack/bazel-push-images.sh pushes the same three); edgecloud targets amd64 and
 * arm64. KVM itself is the host's kernel.
 */
export const KUBEVIRT_ARCHES: readonly Arch[] = ["amd64", "arm64"];

/**
 * The SR-IOV network device plugin v3.9.0 image is a manifest of linux/amd64, linux/arm64 and linux/ppc64le
 * (k8snetworkplumbingwg/sriov-network-device-plugin v3.9.0 .github/workflows/image-push-release.yml: one build per
 * platform, joined by `docker buildx imagetools create`); edgecloud targets the first two.
 */
export const SRIOV_PLUGIN_ARCHES: readonly Arch[] = ["amd64", "arm64"];
