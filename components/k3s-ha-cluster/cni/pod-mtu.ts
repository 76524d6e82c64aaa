/**
 * The pod interface MTU on a 1500-byte host network per flannel backend: vxlan takes 50 bytes
 * (flannel-io/flannel v0.26.1 pkg/backend/vxlan/device.go `devAttrs.MTU - 50`), wireguard 80
 * (pkg/backend/wireguard/wireguard_network.go `overhead = 80`), host-gw none. With `none` (Calico) 1450 leaves room
 * for Calico's VXLAN encapsulation, the largest it adds.
 */
export function podMtu(flannelBackend: string): number {
  switch (flannelBackend) {
    case "host-gw":
      return 1500;
    case "wireguard-native":
      return 1420;
    default:
      return 1450;
  }
}
