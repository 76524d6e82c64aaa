import { hasRole, Host } from "../lib/hosts/host";
import { IssueCollector } from "../lib/validation/issues";
import type { Environment } from "./environment";

/** A port one role of the environment listens on, on one host or (NodePorts) on every node. */
interface Listener {
  readonly port: number;
  readonly proto: "tcp" | "udp";
  /** The field that sets it (or the component's fixed port). */
  readonly field: string;
  /** Host names it binds on; undefined for a NodePort (every K3s node). */
  readonly hosts?: readonly string[];
}

// k3s-io/docs docs/installation/requirements.md "Inbound Rules for K3s Nodes": 6443 (supervisor and API server),
// 10250 (kubelet) on every node, 8472/udp (flannel VXLAN); K3s's API server listens on 6444 behind the supervisor.
const K3S_SERVER = [6443, 6444];
const K3S_NODE = [10250];

/**
 * Ports of co-located roles must not clash: etcd's client/peer ports, K3s's own ports, the host-mode registry,
 * cloudcore on the host network, and the NodePorts of the registry and cloudcore (every node). Each clash is named
 * by both fields.
 */
export function checkPortClashes(env: Environment, issues: IssueCollector): void {
  const hosts = env.hosts;
  const names = (f: (h: Host) => boolean) => hosts.filter(f).map((h) => h.name);
  const servers = names((h) => hasRole(h, "server"));
  const nodes = names((h) => hasRole(h, "server") || hasRole(h, "agent"));
  const etcd = env.cluster.spec.etcd;
  const list: Listener[] = [
    ...K3S_SERVER.map((port) => ({ port, proto: "tcp" as const, field: `K3s server port ${port}`, hosts: servers })),
    ...K3S_NODE.map((port) => ({ port, proto: "tcp" as const, field: `kubelet port ${port}`, hosts: nodes })),
    { port: etcd.clientPort, proto: "tcp", field: "k3s.etcd.clientPort", hosts: names((h) => hasRole(h, "etcd")) },
    { port: etcd.peerPort, proto: "tcp", field: "k3s.etcd.peerPort", hosts: names((h) => hasRole(h, "etcd")) },
  ];
  const reg = env.registry?.spec.mode;
  if (reg?.kind === "host") list.push({ port: reg.port, proto: "tcp", field: "registry.mode.port", hosts: [reg.host] });
  if (reg?.kind === "in-cluster" && reg.nodePort !== undefined)
    list.push({ port: reg.nodePort, proto: "tcp", field: "registry.mode.nodePort" });
  const ke = env.kubeedge?.spec;
  if (ke) {
    const cloudcore = env.kubeedge!.cloudcoreNode ? [env.kubeedge!.cloudcoreNode] : servers;
    const hub = ke.cloudHub;
    const stream = ke.cloudStream;
    if (ke.exposure.kind === "hostNetwork") {
      list.push(
        { port: hub.websocketPort, proto: "tcp", field: "kubeedge.cloudHub.websocketPort", hosts: cloudcore },
        { port: hub.httpsPort, proto: "tcp", field: "kubeedge.cloudHub.httpsPort", hosts: cloudcore },
        ...(hub.quic
          ? [{ port: hub.quicPort, proto: "udp" as const, field: "kubeedge.cloudHub.quicPort", hosts: cloudcore }]
          : []),
        ...(stream.enable
          ? [
              {
                port: stream.streamPort,
                proto: "tcp" as const,
                field: "kubeedge.cloudStream.streamPort",
                hosts: cloudcore,
              },
              {
                port: stream.tunnelPort,
                proto: "tcp" as const,
                field: "kubeedge.cloudStream.tunnelPort",
                hosts: cloudcore,
              },
            ]
          : []),
      );
    } else if (ke.exposure.kind === "NodePort") {
      for (const [k, port] of Object.entries(ke.exposure.nodePorts))
        list.push({ port, proto: k === "quic" ? "udp" : "tcp", field: `kubeedge.exposure.nodePorts.${k}` });
    }
  }
  const everywhere = (l: Listener) => l.hosts ?? nodes;
  const reported = new Set<string>();
  list.forEach((a, i) => {
    for (const b of list.slice(i + 1)) {
      if (a.port !== b.port || a.proto !== b.proto || a.field === b.field) continue;
      const shared = everywhere(a).filter((h) => everywhere(b).includes(h));
      if (shared.length === 0) continue;
      const named = a.field.includes(".") ? a : b;
      const other = named === a ? b : a;
      const key = `${named.field}|${other.field}`;
      if (reported.has(key)) continue;
      reported.add(key);
      issues.add(
        named.field,
        named.port,
        `clashes with ${other.field} (${other.port}/${other.proto}) on ${shared.join(", ")}; co-located roles need distinct ports`,
      );
    }
  });
}
