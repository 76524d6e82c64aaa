import { hasRole, Host, internalAddress } from "../../lib/hosts/host";
import { closeFirewall, FirewallOpening, FirewallPort, openFirewall } from "../../lib/steps/firewall";
import { HostStep, hostStep } from "../../lib/steps/host-step";
import { KUBEEDGE_COMPONENT } from "./edge-node-steps";
import { KubeEdgeCloudProps } from "./spec";

export const FIREWALL_STEP = "kubeedge-firewall";

/**
 * The ports edge nodes dial on cloud hosts, per exposure (node ports for NodePort; cloudcore's own otherwise), the
 * stream port included (see {@link streamPort}: it is opened only to the K3s servers).
 */
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
 * The stream port: cloudstream asks for a client certificate but does not require one, and its containerLogs/exec
 * routes authenticate nothing (kubeedge/kubeedge v1.23.1 cloud/pkg/cloudstream/streamserver.go `tls.RequestClientCert`).
 * Edge nodes never dial it (they use cloudHub, the certificate port and the tunnel); only the API servers reach it,
 * through the iptables-manager's DNAT. So it is opened to the K3s servers' addresses only.
 */
export function streamPort(props: KubeEdgeCloudProps): FirewallPort | undefined {
  const { spec } = props;
  if (!spec.cloudStream.enable) return undefined;
  return {
    port: spec.exposure.kind === "NodePort" ? spec.exposure.nodePorts.stream : spec.cloudStream.streamPort,
    protocol: "tcp",
  };
}

/** The K3s servers other than `host` (the API servers that reach the stream port through the DNAT). */
function apiServerSources(props: KubeEdgeCloudProps, host: Host): string[] {
  return props.cloudHosts.filter((h) => hasRole(h, "server") && h.name !== host.name).map((h) => internalAddress(h));
}

/**
 * Opens cloudcore's ports in the cloud hosts' firewalls (whichever of firewalld/ufw runs there at run time): on the
 * node cloudcore is pinned to when it uses the host network, else on every cloud host (NodePort and K3s ServiceLB
 * answer on any node). The stream port is opened to the other K3s servers only, and closed to everyone if an
 * earlier rendering opened it publicly.
 */
export function cloudFirewallSteps(props: KubeEdgeCloudProps): HostStep[] {
  const stream = streamPort(props);
  const ports = cloudcoreFirewallPorts(props).filter(
    (p) => !(stream && p.port === stream.port && p.protocol === "tcp"),
  );
  const hosts = props.cloudcoreNode ? props.cloudHosts.filter((h) => h.name === props.cloudcoreNode) : props.cloudHosts;
  return hosts.map((h) => {
    // the API server on this host reaches cloudcore locally: only the other servers need the stream port
    const firewall: FirewallOpening = {
      rules: [...ports, ...(stream ? [{ ...stream, sources: apiServerSources(props, h) }] : [])],
      ...(stream ? { closeToEveryone: [stream] } : {}),
    };
    return hostStep({
      host: h.name,
      name: FIREWALL_STEP,
      component: KUBEEDGE_COMPONENT,
      script: openFirewall(firewall),
      deleteScript: closeFirewall(firewall),
    });
  });
}
