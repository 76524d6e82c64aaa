import { Host } from "../../../lib/hosts/host";
import { osProfile } from "../../../lib/platform/os";
import { closeFirewall, FirewallOpening, FirewallPort, openFirewall } from "../../../lib/steps/firewall";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { sh } from "../../../lib/steps/sh";
import { COMPONENT } from "../etcd/component";
import { K3sHaClusterSpec } from "../spec";
import { K3sRole } from "./paths";

const SYSCTL_FILE = "/etc/sysctl.d/90-edgecloud-k3s.conf";
const MODULES_FILE = "/etc/modules-load.d/edgecloud-k3s.conf";

/** Ports a K3s node needs open (K3s networking requirements). */
export function k3sPorts(role: K3sRole, spec: K3sHaClusterSpec): FirewallPort[] {
  const ports: FirewallPort[] = [{ port: 10250, protocol: "tcp" }];
  if (role === "server") ports.push({ port: 6443, protocol: "tcp" });
  const fb = spec.network.flannelBackend;
  if (fb === "vxlan") ports.push({ port: 8472, protocol: "udp" });
  if (fb === "wireguard-native") ports.push({ port: "51820-51821", protocol: "udp" });
  // Calico: BGP 179, VXLAN 4789, Typha 5473 (projectcalico/calico v3.29.7 charts/calico/templates/calico-typha.yaml)
  if (spec.network.cni === "calico")
    ports.push({ port: 179, protocol: "tcp" }, { port: 4789, protocol: "udp" }, { port: 5473, protocol: "tcp" });
  return ports;
}

/** Packages, kernel modules, sysctls, firewall and container runtime a K3s node needs before install. */
export function k3sPrereqsStep(
  host: Host,
  role: K3sRole,
  spec: K3sHaClusterSpec,
  dependsOn: readonly string[] = [],
): HostStep {
  const os = osProfile(host.os);
  const pkgs = [os.packages.curl, os.packages.tar];
  if (os.selinux) pkgs.push(...os.selinuxPackages);
  const docker = spec.runtime === "docker" && os.docker.kind === "packages" ? os.docker : undefined;
  if (docker) pkgs.push(...docker.packages);
  // pods and services talk to the node on any port: their networks are trusted
  const firewall: FirewallOpening = {
    rules: k3sPorts(role, spec),
    trusted: [spec.network.clusterCidr, spec.network.serviceCidr],
  };
  const files = [
    { path: MODULES_FILE, mode: "0644", content: "overlay\nbr_netfilter\n", secret: false },
    {
      path: SYSCTL_FILE,
      mode: "0644",
      content:
        "net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n",
      secret: false,
    },
  ];
  const repo = docker?.repo;
  const script = [
    ...(repo
      ? [
          "# docker-ce and containerd.io come from Docker's repository only",
          sh`if [ ! -f ${repo.file} ]; then`,
          sh`  ec_pkg ${os.packageManager} ${os.packages.curl}`,
          sh`  mkdir -p ${repo.file.slice(0, repo.file.lastIndexOf("/"))}`,
          sh`  curl -fsSL --retry 3 -o ${`${repo.file}.part`} ${repo.url}`,
          sh`  mv -f ${`${repo.file}.part`} ${repo.file}`,
          "  ec_changed",
          "fi",
        ]
      : []),
    sh`ec_pkg ${os.packageManager} ${pkgs}`,
    "for m in overlay br_netfilter; do",
    '  if [ ! -d "/sys/module/$m" ]; then modprobe "$m" 2>/dev/null || ec_log "kernel module $m cannot be loaded here; K3s networking needs it"; fi',
    "done",
    sh`if ec_file_changed ${SYSCTL_FILE}; then sysctl -e -q -p ${SYSCTL_FILE} || ec_log "some sysctls are not settable here"; fi`,
    // the firewall fragment is rendered (and quoted) by lib/steps/firewall.ts
    openFirewall(firewall),
    ...(spec.runtime === "docker"
      ? [
          "if ! systemctl is-enabled --quiet docker.service 2>/dev/null; then systemctl enable --now --quiet docker.service; ec_changed; fi",
        ]
      : []),
  ]
    .filter((l) => l !== "")
    .join("\n");
  // Docker's repository file is removed with the step (the packages stay: other workloads may use them)
  const deleteScript = [
    sh`ec_rm ${MODULES_FILE} ${SYSCTL_FILE} ${repo ? [repo.file] : []}`.trimEnd(),
    closeFirewall(firewall),
  ]
    .filter((l) => l !== "")
    .join("\n");
  return hostStep({
    host: host.name,
    name: "k3s-prereqs",
    component: COMPONENT,
    script,
    files,
    deleteScript,
    dependsOn,
  });
}
