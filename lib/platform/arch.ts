/** CPU architectures, named as Kubernetes/Go name them. */
export const ARCHES = ["amd64", "arm64", "arm", "riscv64", "loong64"] as const;
export type Arch = (typeof ARCHES)[number];

/** How each upstream spells an architecture, and what `uname -m` reports for it. */
export interface ArchNames {
  /** `uname -m` values that mean this arch (pre-flight compares). */
  readonly uname: readonly string[];
  /** K3s release asset suffix: `k3s` (amd64), `k3s-arm64`, `k3s-armhf`, `k3s-riscv64`. */
  readonly k3sBinary: string;
  /** K3s airgap images tarball suffix. */
  readonly k3sImages: string;
  /** etcd release tarball arch: etcd-v3.5.x-linux-<arch>.tar.gz */
  readonly etcd: string;
  /** keadm/kubeedge release arch. */
  readonly kubeedge: string;
  /** EdgeX Hanoi image suffix (`-arm64` naming; "" for amd64). */
  readonly edgexHanoiSuffix: string;
}

export const ARCH_NAMES: Readonly<Record<Arch, ArchNames>> = {
  amd64: {
    uname: ["x86_64"],
    k3sBinary: "k3s",
    k3sImages: "amd64",
    etcd: "amd64",
    kubeedge: "amd64",
    edgexHanoiSuffix: "",
  },
  arm64: {
    uname: ["aarch64", "arm64"],
    k3sBinary: "k3s-arm64",
    k3sImages: "arm64",
    etcd: "arm64",
    kubeedge: "arm64",
    edgexHanoiSuffix: "-arm64",
  },
  arm: {
    uname: ["armv7l", "armv7", "armhf"],
    k3sBinary: "k3s-armhf",
    k3sImages: "arm",
    etcd: "arm",
    kubeedge: "arm",
    edgexHanoiSuffix: "",
  },
  riscv64: {
    uname: ["riscv64"],
    k3sBinary: "k3s-riscv64",
    k3sImages: "riscv64",
    etcd: "riscv64",
    kubeedge: "riscv64",
    edgexHanoiSuffix: "",
  },
  loong64: {
    uname: ["loongarch64"],
    k3sBinary: "k3s-loong64",
    k3sImages: "loong64",
    etcd: "loong64",
    kubeedge: "loong64",
    edgexHanoiSuffix: "",
  },
};
