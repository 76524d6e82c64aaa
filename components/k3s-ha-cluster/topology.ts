import { Host, hasRole, internalAddress } from "../../lib/hosts/host";
import { K3sHaClusterProps } from "./spec";
import { joinHostPort } from "../../lib/validation/net";

/** Who does what in a cluster, in host order. */
export interface ClusterTopology {
  readonly etcd: readonly Host[];
  readonly servers: readonly Host[];
  readonly agents: readonly Host[];
  /** True when the servers use the external etcd cluster (false: single server on embedded SQLite). */
  readonly externalEtcd: boolean;
  /** Address agents and kubeconfigs use: the VIP, the external LB, or the only server. */
  readonly registrationAddress: string;
  /** `https://<member>:<clientPort>` for every member. */
  readonly etcdEndpoints: readonly string[];
}

export function clusterTopology(props: K3sHaClusterProps): ClusterTopology {
  const etcd = props.hosts.filter((h) => hasRole(h, "etcd"));
  const servers = props.hosts.filter((h) => hasRole(h, "server"));
  const agents = props.hosts.filter((h) => hasRole(h, "agent"));
  const reg = props.spec.registrationAddress;
  const registrationAddress =
    reg?.kind === "kube-vip" ? reg.vip : reg?.kind === "external" ? reg.address : internalAddress(servers[0]!);
  return {
    etcd,
    servers,
    agents,
    externalEtcd: etcd.length > 0,
    registrationAddress,
    etcdEndpoints: etcd.map((h) => `https://${joinHostPort(internalAddress(h), props.spec.etcd.clientPort)}`),
  };
}
