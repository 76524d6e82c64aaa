import type { K3sHaClusterSpecInput } from "../../components/k3s-ha-cluster/spec";
import type { HostInput } from "../../lib/hosts/host";

/** The benchmark's cluster spec: the default spec behind a kube-vip registration address. */
export const BENCH_SPEC: K3sHaClusterSpecInput = {
  registrationAddress: { kind: "kube-vip", vip: "10.0.0.100", interface: "eth0" },
};

/** 3 etcd members, 3 servers and `agents` agents (debian-12/amd64), each reached as root with the key at `keyPath`. */
export function benchHosts(agents: number, keyPath: string): HostInput[] {
  return fleetHosts(agents, { user: "root", privateKeyPath: keyPath });
}

/**
 * 3 etcd members (10.0.0.11-13), 3 servers (10.0.0.21-23) and `agents` agents (10.1.x.y, 250 per /24),
 * debian-12/amd64, every one reached with `ssh`: the fleet the engine benchmark and the preflight-gate tests build.
 */
export function fleetHosts(agents: number, ssh: HostInput["ssh"]): HostInput[] {
  const host = (name: string, address: string, role: "etcd" | "server" | "agent"): HostInput => ({
    name,
    address,
    os: "debian-12",
    arch: "amd64",
    roles: [role],
    ssh,
  });
  return [
    ...[1, 2, 3].map((i) => host(`etcd-${i}`, `10.0.0.${10 + i}`, "etcd")),
    ...[1, 2, 3].map((i) => host(`server-${i}`, `10.0.0.${20 + i}`, "server")),
    ...Array.from({ length: agents }, (_, i) =>
      host(`agent-${i + 1}`, `10.1.${Math.floor(i / 250)}.${(i % 250) + 2}`, "agent"),
    ),
  ];
}
