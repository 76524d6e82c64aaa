import { OsId, osProfile } from "../../lib/platform/os";

/** How a container runtime is installed on an OS: an optional vendor repository, then packages. */
export interface RuntimeInstall {
  /** A repository file to add before installing (Docker's repo on RHEL-family hosts). */
  readonly repo?: { readonly url: string; readonly file: string };
  readonly packages: readonly string[];
  /** The systemd unit of the runtime. */
  readonly unit: "containerd.service" | "docker.service";
}

const DOCKER_RHEL_REPO = {
  url: "https://download.docker.com/linux/centos/docker-ce.repo",
  file: "/etc/yum.repos.d/docker-ce.repo",
};

/**
 * Packages per OS family and runtime: Debian/Ubuntu ship `containerd` and `docker.io`; openEuler ships `containerd`
 * and `docker`; RHEL, Rocky, Alma, CentOS and Kylin take `containerd.io`/`docker-ce` from Docker's repository.
 * CNI plugins are not taken from the distribution: Debian's package puts them in /usr/lib/cni and openEuler's in
 * /usr/libexec/cni, while containerd's CRI plugin looks in /opt/cni/bin (containerd#6600); see {@link CNI_PLUGINS}.
 */
export function runtimeInstall(os: OsId, runtime: "containerd" | "docker"): RuntimeInstall {
  const p = osProfile(os);
  const unit = runtime === "docker" ? "docker.service" : "containerd.service";
  if (p.family === "debian") {
    return {
      packages: runtime === "docker" ? ["docker.io"] : ["containerd"],
      unit,
    };
  }
  if (os.startsWith("openeuler")) {
    return {
      packages: runtime === "docker" ? ["docker"] : ["containerd"],
      unit,
    };
  }
  return {
    repo: DOCKER_RHEL_REPO,
    packages: runtime === "docker" ? ["docker-ce", "containerd.io"] : ["containerd.io"],
    unit,
  };
}

/**
 * The CNI plugins every edge node's containerd needs before its kubelet (inside edgecore) reports the node Ready:
 * upstream's release tarball unpacked into containerd's default `bin_dir` /opt/cni/bin, and a bridge conflist in
 * /etc/cni/net.d — what kubeedge/kubeedge v1.23.1 hack/lib/install.sh `install_cni_plugins` does (containernetworking/
 * plugins v1.1.1, `10-containerd-net.conflist`: bridge cni0, isGateway, ipMasq, promiscMode, host-local, portmap).
 * Without a CNI config the runtime reports NetworkReady=false and the node stays NotReady (kubeedge#5779).
 */
export const CNI_PLUGINS = {
  // kubeedge/kubeedge v1.23.1 hack/lib/install.sh CNI_DOWNLOAD_ADDR
  version: "v1.1.1",
  mirror: "https://github.com/containernetworking/plugins/releases/download",
  binDir: "/opt/cni/bin",
  confFile: "/etc/cni/net.d/10-containerd-net.conflist",
  /** Plugins the conflist uses; the step checks they are in binDir. */
  required: ["bridge", "host-local", "portmap", "loopback"],
} as const;

/** `cni-plugins-linux-<arch>-<v>.tgz` (containernetworking/plugins release asset name). */
export function cniTarball(arch: string, version: string = CNI_PLUGINS.version): string {
  return `cni-plugins-linux-${arch}-${version}.tgz`;
}

/** The conflist of kubeedge/kubeedge v1.23.1 hack/lib/install.sh, IPv4 only, with the node-local pod subnet. */
export function cniConflist(subnet: string): string {
  return `${JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "containerd-net",
      plugins: [
        {
          type: "bridge",
          bridge: "cni0",
          isGateway: true,
          ipMasq: true,
          promiscMode: true,
          ipam: { type: "host-local", ranges: [[{ subnet }]], routes: [{ dst: "0.0.0.0/0" }] },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )}\n`;
}

/**
 * The containerd a distribution ships, where it is older than some release needs (validation refuses the pair
 * instead of letting the runtime step stop at deploy). Debian 11 (bullseye) ships containerd 1.4.13.
 */
export const DISTRO_CONTAINERD: Partial<Record<OsId, { readonly version: string; readonly source: string }>> = {
  "debian-11": { version: "1.4", source: "Debian 11 bullseye's containerd 1.4.13" },
};
