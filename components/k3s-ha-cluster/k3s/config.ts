import { stringify } from "yaml";
import { Host, internalAddress } from "../../../lib/hosts/host";
import { HostCapabilities, capabilityLabels, capabilityTaints } from "../../../lib/hosts/capabilities";
import { osProfile } from "../../../lib/platform/os";
import { K3sHaClusterSpec } from "../spec";
import { ClusterTopology } from "../topology";
import { K3S_DATASTORE_FILES, K3sRole } from "./paths";
import { joinHostPort } from "../../../lib/validation/net";

/** The mirror the CN install recipe pairs with INSTALL_K3S_MIRROR=cn for K3s's system images. */
export const CN_SYSTEM_DEFAULT_REGISTRY = "registry.cn-hangzhou.aliyuncs.com";

/** `system-default-registry` for the servers: the spec's, or the CN mirror's with `mirror: "cn"`. */
export function systemDefaultRegistry(spec: K3sHaClusterSpec): string | undefined {
  if (spec.systemDefaultRegistry) return spec.systemDefaultRegistry;
  return spec.install.kind === "online" && spec.install.mirror === "cn" ? CN_SYSTEM_DEFAULT_REGISTRY : undefined;
}

/** The node's /etc/rancher/k3s/config.yaml (written 0600: it holds the token). Keys are K3s CLI flag names. */
export function renderK3sConfig(
  host: Host,
  role: K3sRole,
  spec: K3sHaClusterSpec,
  topo: ClusterTopology,
  token: string,
): string {
  const cfg: Record<string, unknown> = {};
  if (role === "agent" || (topo.servers[0] && topo.servers[0].name !== host.name && !topo.externalEtcd)) {
    cfg.server = `https://${joinHostPort(topo.registrationAddress, 6443)}`;
  }
  cfg.token = token;
  cfg["node-name"] = host.name;
  cfg["node-ip"] = internalAddress(host);
  if (role === "server") {
    cfg["tls-san"] = [...new Set([topo.registrationAddress, ...spec.tlsSan, host.address])];
    cfg["write-kubeconfig-mode"] = "0600";
    cfg["secrets-encryption"] = true;
    if (topo.externalEtcd) {
      cfg["datastore-endpoint"] = topo.etcdEndpoints.join(",");
      cfg["datastore-cafile"] = K3S_DATASTORE_FILES.ca;
      cfg["datastore-certfile"] = K3S_DATASTORE_FILES.cert;
      cfg["datastore-keyfile"] = K3S_DATASTORE_FILES.key;
    }
    cfg["cluster-cidr"] = spec.network.clusterCidr;
    cfg["service-cidr"] = spec.network.serviceCidr;
    cfg["cluster-dns"] = spec.network.clusterDns;
    cfg["flannel-backend"] = spec.network.flannelBackend;
    if (spec.network.cni === "calico") cfg["disable-network-policy"] = true;
    if (spec.disable.length) cfg.disable = [...spec.disable];
    const sdr = systemDefaultRegistry(spec);
    if (sdr) cfg["system-default-registry"] = sdr;
  }
  if (spec.runtime === "docker") cfg.docker = true;
  const os = osProfile(host.os);
  if (os.selinux) cfg.selinux = true;
  // the capabilities' labels and taints (what their DaemonSets, RuntimeClasses and KubeVirt select on) beside the host's
  const labels = Object.entries({ ...capabilityLabels(host.capabilities), ...host.labels }).map(
    ([k, v]) => `${k}=${v}`,
  );
  if (labels.length) cfg["node-label"] = labels;
  const taints = [...new Set([...host.taints, ...capabilityTaints(host.capabilities)])];
  if (taints.length) cfg["node-taint"] = taints;
  const rt = host.capabilities?.realtime;
  if (rt) cfg["kubelet-arg"] = realtimeKubeletArgs(rt);
  return stringify(cfg);
}

/**
 * kubelet flags for a real-time node (K3s `kubelet-arg`, each `flag=value`): the static CPU manager hands whole
 * CPUs to Guaranteed pods with integer CPU requests, never the reserved ones; the topology manager aligns them with
 * devices (SR-IOV VFs, GPUs) on one NUMA node. Flag names: kubernetes v1.31 cmd/kubelet/app/options
 * (`--cpu-manager-policy`, `--reserved-cpus`, `--topology-manager-policy`); `--reserved-cpus` satisfies the static
 * policy's need for a non-zero reservation.
 */
export function realtimeKubeletArgs(rt: NonNullable<HostCapabilities["realtime"]>): string[] {
  return [
    "cpu-manager-policy=static",
    `reserved-cpus=${rt.reservedCpus}`,
    `topology-manager-policy=${rt.topologyManagerPolicy}`,
  ];
}
