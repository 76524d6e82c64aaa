import { HostInput } from "../../../lib/hosts/host";

/** A small cluster: two servers, one agent, three edge nodes of different OS/arch. */
export function clusterHosts(): HostInput[] {
  const ssh = { privateKeyPath: "/dev/null" };
  return [
    { name: "cp-1", address: "10.0.0.11", ssh, os: "ubuntu-22.04", arch: "amd64", roles: ["server"] },
    { name: "cp-2", address: "10.0.0.12", ssh, os: "ubuntu-22.04", arch: "amd64", roles: ["server"] },
    { name: "worker-1", address: "10.0.0.21", ssh, os: "rocky-9", arch: "amd64", roles: ["agent"] },
    {
      name: "edge-1",
      address: "10.0.1.31",
      ssh,
      os: "ubuntu-22.04",
      arch: "arm64",
      roles: ["edge"],
      labels: { site: "plant-a" },
    },
    { name: "edge-2", address: "10.0.1.32", ssh, os: "debian-12", arch: "arm", roles: ["edge"] },
    { name: "edge-3", address: "10.0.1.33", ssh, os: "rocky-9", arch: "amd64", roles: ["edge"] },
  ];
}

export const baseSpec = { kubernetesVersion: "v1.31.4+k3s1", cloudHub: { advertiseAddress: ["10.0.0.11"] } };
