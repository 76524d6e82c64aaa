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
