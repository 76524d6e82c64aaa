import { hasRole, Host, internalAddress } from "../../lib/hosts/host";
import { OsProfile, osProfile } from "../../lib/platform/os";
import { ipVersion } from "../../lib/validation/net";
import { closeFirewallPorts, FirewallPort, openFirewallPorts } from "../../lib/steps/firewall";
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

/** Script lines that allow one port from the given sources only (and close it to everyone, if an older rule opened it). */
function allowFrom(os: OsProfile, port: FirewallPort, sources: readonly string[]): string {
  const spec = `${port.port}/${port.protocol}`;
  switch (os.firewall) {
    case "firewalld": {
      const rule = (a: string) =>
        `rule family="${ipVersion(a) === 6 ? "ipv6" : "ipv4"}" source address="${a}" port port="${port.port}" protocol="${port.protocol}" accept`;
      return `if command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null 2>&1; then
  fw_changed=0
  if firewall-cmd --permanent --query-port=${spec} >/dev/null 2>&1; then firewall-cmd --permanent --remove-port=${spec} >/dev/null; fw_changed=1; fi
${sources.map((a) => `  if ! firewall-cmd --permanent --query-rich-rule='${rule(a)}' >/dev/null 2>&1; then firewall-cmd --permanent --add-rich-rule='${rule(a)}' >/dev/null; fw_changed=1; fi`).join("\n")}
  if [ "$fw_changed" = 1 ]; then firewall-cmd --reload >/dev/null; ec_changed; fi
fi`;
    }
    case "ufw":
      return `if command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q 'Status: active'; then
  if ufw show added 2>/dev/null | grep -qx "ufw allow ${spec}"; then ufw delete allow ${spec} >/dev/null; ec_changed; fi
${sources.map((a) => `  if ! ufw show added 2>/dev/null | grep -qx "ufw allow from ${a} to any port ${port.port} proto ${port.protocol}"; then ufw allow from ${a} to any port ${port.port} proto ${port.protocol} >/dev/null; ec_changed; fi`).join("\n")}
fi`;
    case "none":
      return "";
  }
}

/** The inverse of {@link allowFrom}. */
function removeAllowFrom(os: OsProfile, port: FirewallPort, sources: readonly string[]): string {
  switch (os.firewall) {
    case "firewalld": {
      const rule = (a: string) =>
        `rule family="${ipVersion(a) === 6 ? "ipv6" : "ipv4"}" source address="${a}" port port="${port.port}" protocol="${port.protocol}" accept`;
      return `if command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null 2>&1; then
${sources.map((a) => `  if firewall-cmd --permanent --query-rich-rule='${rule(a)}' >/dev/null 2>&1; then firewall-cmd --permanent --remove-rich-rule='${rule(a)}' >/dev/null; ec_changed; fi`).join("\n")}
  firewall-cmd --reload >/dev/null
fi`;
    }
    case "ufw":
      return `if command -v ufw >/dev/null 2>&1; then
${sources.map((a) => `  if ufw show added 2>/dev/null | grep -qx "ufw allow from ${a} to any port ${port.port} proto ${port.protocol}"; then ufw delete allow from ${a} to any port ${port.port} proto ${port.protocol} >/dev/null; ec_changed; fi`).join("\n")}
fi`;
    case "none":
      return "";
  }
}

/** The K3s servers other than `host` (the API servers that reach the stream port through the DNAT). */
function apiServerSources(props: KubeEdgeCloudProps, host: Host): string[] {
  return props.cloudHosts.filter((h) => hasRole(h, "server") && h.name !== host.name).map((h) => internalAddress(h));
}

/**
 * Opens cloudcore's ports in the cloud hosts' firewalls (firewalld/ufw when active): on the node cloudcore is pinned
 * to when it uses the host network, else on every cloud host (NodePort and K3s ServiceLB answer on any node).
 */
export function cloudFirewallSteps(props: KubeEdgeCloudProps): HostStep[] {
  const stream = streamPort(props);
  const ports = cloudcoreFirewallPorts(props).filter(
    (p) => !(stream && p.port === stream.port && p.protocol === "tcp"),
  );
  const hosts = props.cloudcoreNode ? props.cloudHosts.filter((h) => h.name === props.cloudcoreNode) : props.cloudHosts;
  return hosts
    .filter((h) => osProfile(h.os).firewall !== "none")
    .map((h) => {
      const os = osProfile(h.os);
      // the API server on this host reaches cloudcore locally: only the other servers need the stream port
      const sources = stream ? apiServerSources(props, h) : [];
      return hostStep({
        host: h.name,
        name: FIREWALL_STEP,
        component: KUBEEDGE_COMPONENT,
        script: [openFirewallPorts(os, ports), ...(stream ? [allowFrom(os, stream, sources)] : [])].join("\n"),
        deleteScript: [
          closeFirewallPorts(os, ports),
          ...(stream && sources.length > 0 ? [removeAllowFrom(os, stream, sources)] : []),
        ].join("\n"),
      });
    });
}
