import { Arch } from "./arch";
import { OsId } from "./os";

/** Upstream artifacts edgecloud installs; each ships for some architectures only. */
export type Artifact = "k3s" | "etcd-release" | "etcd-distro" | "keadm" | "edgex";

/**
 * What each upstream ships per architecture (release assets as published):
 * - K3s: k3s (amd64), k3s-arm64, k3s-armhf; no official riscv64/loong64 build (k3s-io/k3s#7151).
 * - etcd release tarballs: linux-amd64, linux-arm64 (plus ppc64le/s390x, which edgecloud does not target).
 * - etcd from the distribution: Debian/Ubuntu build etcd-server for amd64, arm64, armhf; openEuler ships etcd
 *   for amd64/arm64; CentOS/RHEL/Rocky/Alma/Kylin do not ship etcd in their base repositories.
 * - keadm (KubeEdge): amd64, arm64, arm.
 * - EdgeX images: amd64, arm64.
 */
export const SUPPORTED_ARCHES: Readonly<Record<Artifact, readonly Arch[]>> = {
  k3s: ["amd64", "arm64", "arm"],
  "etcd-release": ["amd64", "arm64"],
  "etcd-distro": ["amd64", "arm64", "arm"],
  keadm: ["amd64", "arm64", "arm"],
  edgex: ["amd64", "arm64"],
};

export function supportsArch(artifact: Artifact, arch: Arch): boolean {
  return SUPPORTED_ARCHES[artifact].includes(arch);
}

/** OS ids whose base repositories carry an etcd server package. */
export const DISTRO_ETCD_OS: readonly OsId[] = [
  "debian-11",
  "debian-12",
  "ubuntu-20.04",
  "ubuntu-22.04",
  "ubuntu-24.04",
  "openeuler-22.03",
  "openeuler-24.03",
];
