import { Host, internalAddress } from "../../../lib/hosts/host";
import { closeFirewall, FirewallRule, openFirewall } from "../../../lib/steps/firewall";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { ipVersion } from "../../../lib/validation/net";
import { EtcdSpec } from "../spec";
import { COMPONENT } from "./component";

/**
 * The etcd ports a member opens and to whom: the client port to every member (members dial each other's client
 * port in health checks and joins) and every K3s server (datastore-endpoint), the peer port to the members only.
 * etcd serves clients on 2379 and peers on 2380 by default (etcd-io/etcd v3.5.17 server/embed/config.go
 * DefaultListenClientURLs / DefaultListenPeerURLs). An address that is a DNS name cannot be a firewall source:
 * its port is then opened to every IPv4 address.
 */
export function etcdFirewallRules(etcd: EtcdSpec, members: readonly Host[], servers: readonly Host[]): FirewallRule[] {
  const sources = (hosts: readonly Host[]) => {
    const addrs = [...new Set(hosts.map(internalAddress))];
    return addrs.every((a) => ipVersion(a) !== 0) ? addrs : ["0.0.0.0/0"];
  };
  return [
    { port: etcd.clientPort, protocol: "tcp", sources: sources([...members, ...servers]) },
    { port: etcd.peerPort, protocol: "tcp", sources: sources(members) },
  ];
}

/** Opens a member's client and peer ports in firewalld or ufw (whichever runs), limited to the cluster's hosts. */
export function etcdFirewallStep(
  member: Host,
  etcd: EtcdSpec,
  members: readonly Host[],
  servers: readonly Host[],
  dependsOn: readonly string[] = [],
): HostStep {
  const rules = etcdFirewallRules(etcd, members, servers);
  return hostStep({
    host: member.name,
    name: "etcd-firewall",
    component: COMPONENT,
    script: openFirewall({ rules }),
    deleteScript: closeFirewall({ rules }),
    dependsOn,
  });
}
