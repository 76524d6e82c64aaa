import * as pulumi from "@pulumi/pulumi";
import { IssueCollector, K3sHaCluster, validateHosts, type HostInput } from "edgecloud";

const config = new pulumi.Config();
const ssh = { user: "root", privateKey: config.requireSecret("sshPrivateKey") };
const host = (
  name: string,
  address: string,
  os: HostInput["os"],
  arch: HostInput["arch"],
  roles: HostInput["roles"],
): HostInput => ({ name, address, os, arch, roles, ssh });

const hosts: HostInput[] = [
  host("etcd-1", "192.168.10.11", "debian-12", "amd64", ["etcd"]),
  host("etcd-2", "192.168.10.12", "rocky-9", "amd64", ["etcd"]),
  host("etcd-3", "192.168.10.13", "ubuntu-22.04", "arm64", ["etcd"]),
  host("server-1", "192.168.10.21", "ubuntu-22.04", "amd64", ["server"]),
  host("server-2", "192.168.10.22", "rocky-9", "amd64", ["server"]),
  host("server-3", "192.168.10.23", "openeuler-22.03", "arm64", ["server"]),
  host("agent-1", "192.168.10.31", "debian-12", "amd64", ["agent"]),
  host("agent-2", "192.168.10.32", "ubuntu-24.04", "arm64", ["agent"]),
];

// Every problem with the hosts at once, before any resource exists.
const issues = new IssueCollector();
validateHosts(hosts, issues);
issues.throwIfAny("hosts");

const cluster = new K3sHaCluster("basic", {
  hosts,
  spec: {
    version: "v1.31.4+k3s1",
    registrationAddress: { kind: "kube-vip", vip: "192.168.10.100", interface: "eth0" },
    etcd: { snapshot: { schedule: "hourly", retention: 48, dir: "/var/backups/etcd" } },
    disable: ["traefik"],
  },
});

export const kubeconfig = cluster.kubeconfig; // secret, addressed to the VIP
export const apiServer = `https://${cluster.registrationAddress}:6443`;
export const nodeNames = cluster.nodeNames;
export const etcdEndpoints = cluster.etcdEndpoints;
export const certificateExpiry = cluster.certificateExpiry;
