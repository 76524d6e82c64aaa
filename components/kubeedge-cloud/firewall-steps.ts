import { osProfile } from "../../lib/platform/os";
import { closeFirewallPorts, FirewallPort, openFirewallPorts } from "../../lib/steps/firewall";
import { HostStep, hostStep } from "../../lib/steps/host-step";
import { KUBEEDGE_COMPONENT } from "./edge-node-steps";
import { KubeEdgeCloudProps } from "./spec";

export const FIREWALL_STEP = "kubeedge-firewall";

/** The ports edge nodes dial on cloud hosts, per exposure (node ports for NodePort; cloudcore's own otherwise). */
export function cloudcoreFirewallPorts(props: KubeEdgeCloudProps): FirewallPort[] {
  const { spec } = props;
  const e = spec.exposure;
  if (e.kind === "NodePort") {
    return [
      { port: e.nodePorts.cloudhub, protocol: "tcp" },
      ...(spec.cloudHub.quic ? [{ port: e.nodePorts.quic, protocol: "udp" as const }] : []),
      { port: e.nodePorts.https, protocol: "tcp" },
      ...(spec.cloudStream.enable
        ? [
            { port: e.nodePorts.stream, protocol: "tcp" as const },
            { port: e.nodePorts.tunnel, protocol: "tcp" as const },
          ]
        : []),
    ];
  }
  return [
    { port: spec.cloudHub.websocketPort, protocol: "tcp" },
    ...(spec.cloudHub.quic ? [{ port: spec.cloudHub.quicPort, protocol: "udp" as const }] : []),
    { port: spec.cloudHub.httpsPort, protocol: "tcp" },
    ...(spec.cloudStream.enable
      ? [
          { port: spec.cloudStream.streamPort, protocol: "tcp" as const },
          { port: spec.cloudStream.tunnelPort, protocol: "tcp" as const },
        ]
      : []),
  ];
}

/**
 * Opens cloudcore's ports in the cloud hosts' firewalls (firewalld/ufw when active): on the node cloudcore is pinned
 * to when it uses the host network, else on every cloud host (NodePort and K3s ServiceLB answer on any node).
 */
export function cloudFirewallSteps(props: KubeEdgeCloudProps): HostStep[] {
  const ports = cloudcoreFirewallPorts(props);
  const hosts = props.cloudcoreNode ? props.cloudHosts.filter((h) => h.name === props.cloudcoreNode) : props.cloudHosts;
  return hosts
    .filter((h) => osProfile(h.os).firewall !== "none")
    .map((h) =>
      hostStep({
        host: h.name,
        name: FIREWALL_STEP,
        component: KUBEEDGE_COMPONENT,
        script: openFirewallPorts(osProfile(h.os), ports),
        deleteScript: closeFirewallPorts(osProfile(h.os), ports),
      }),
    );
}
