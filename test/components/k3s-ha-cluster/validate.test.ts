import { checkK3sHaCluster, validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { IssueCollector, ValidationError, formatIssue } from "../../../lib/validation/issues";
import { haHosts, haSpec } from "../../fixtures/cluster";

const cases: Record<string, [unknown[], unknown]> = {
  dupName: [haHosts.map((h, i) => (i === 4 ? { ...h, name: "server-1" } : h)), haSpec],
  dupAddr: [haHosts.map((h, i) => (i === 4 ? { ...h, address: "192.168.10.21" } : h)), haSpec],
  evenEtcd: [haHosts.filter((h) => h.name !== "etcd-3"), haSpec],
  unknownOs: [haHosts.map((h, i) => (i === 0 ? { ...h, os: "windows-11" } : h)), haSpec],
  badArch: [haHosts.map((h, i) => (i === 0 ? { ...h, arch: "mips" } : h)), haSpec],
  noKey: [haHosts.map((h, i) => (i === 1 ? { ...h, ssh: {} } : h)), haSpec],
  bothKeys: [haHosts.map((h, i) => (i === 1 ? { ...h, ssh: { privateKey: "k", privateKeyPath: "/k" } } : h)), haSpec],
  riscv: [haHosts.map((h, i) => (i === 6 ? { ...h, arch: "riscv64" } : h)), haSpec],
  ipsec: [haHosts, { ...haSpec, network: { flannelBackend: "ipsec" } }],
  wg: [haHosts, { ...haSpec, version: "v1.25.16+k3s4", network: { flannelBackend: "wireguard-native" } }],
  overlap: [
    haHosts,
    { ...haSpec, network: { clusterCidr: "10.42.0.0/16", serviceCidr: "10.42.128.0/17", clusterDns: "10.42.128.10" } },
  ],
  hostNet: [haHosts, { ...haSpec, network: { clusterCidr: "192.168.0.0/16" } }],
  dns: [haHosts, { ...haSpec, network: { clusterDns: "10.99.0.10" } }],
  noReg: [haHosts, { ...haSpec, registrationAddress: undefined }],
  noEtcd: [haHosts.filter((h) => !h.roles.includes("etcd")), haSpec],
  noServer: [haHosts.filter((h) => !h.roles.includes("server")), haSpec],
  version: [haHosts, { ...haSpec, version: "1.31" }],
  cniNoNone: [haHosts, { ...haSpec, network: { cni: "calico" } }],
  vipClash: [
    haHosts,
    { ...haSpec, registrationAddress: { kind: "kube-vip", vip: "192.168.10.21", interface: "eth0" } },
  ],
  plaintext: [haHosts, { ...haSpec, etcd: { tls: false } }],
  samePorts: [haHosts, { ...haSpec, etcd: { clientPort: 2380 } }],
  distroEtcdRocky: [haHosts, { ...haSpec, etcd: { install: { kind: "distro" } } }],
  serverAgent: [haHosts.map((h, i) => (i === 6 ? { ...h, roles: ["server", "agent"] } : h)), haSpec],
  edgeAgent: [haHosts.map((h, i) => (i === 6 ? { ...h, roles: ["agent", "edge"] } : h)), haSpec],
  overrideUnknown: [
    haHosts,
    { ...haSpec, artifactOverrides: { nope: { source: "/opt/k3s", sha256: "a".repeat(64) } } },
  ],
  overrideNoSum: [haHosts, { ...haSpec, artifactOverrides: { "agent-1": { source: "/opt/k3s" } } }],
  overrideHttp: [
    haHosts,
    { ...haSpec, artifactOverrides: { "agent-1": { source: "http://m.local/k3s", sha256: "a".repeat(64) } } },
  ],
  unknownVersion: [haHosts, { ...haSpec, version: "v1.99.0+k3s9" }],
  etcdVersion: [haHosts, { ...haSpec, etcd: { version: "v3.9.0" } }],
  dataDirRoot: [haHosts, { ...haSpec, etcd: { dataDir: "/" } }],
  dataDirDotDot: [haHosts, { ...haSpec, etcd: { dataDir: "/var/lib/../../etc" } }],
  snapshotDirEtc: [haHosts, { ...haSpec, etcd: { snapshot: { dir: "/etc" } } }],
  scheduleInjection: [haHosts, { ...haSpec, etcd: { snapshot: { schedule: "hourly\nUnit=reboot.target" } } }],
  httpMirror: [haHosts, { ...haSpec, etcd: { install: { kind: "release", mirror: "http://mirror.local/etcd" } } }],
  vipOctet: [
    haHosts,
    { ...haSpec, registrationAddress: { kind: "kube-vip", vip: "192.168.10.300", interface: "eth0" } },
  ],
  vipInterface: [
    haHosts,
    { ...haSpec, registrationAddress: { kind: "kube-vip", vip: "192.168.10.100", interface: "eth0;reboot" } },
  ],
  unknownField: [haHosts, { ...haSpec, flannel: "vxlan" }],
  badTaint: [haHosts.map((h, i) => (i === 7 ? { ...h, taints: ["gpu"] } : h)), haSpec],
  releaseArm: [haHosts.map((h, i) => (i === 0 ? { ...h, arch: "arm" } : h)), haSpec],
  mirrorNotCentos: [
    haHosts.map((h, i) => (i === 1 ? { ...h, packageMirror: { baseUrl: "https://vault.centos.org/7.9.2009" } } : h)),
    haSpec,
  ],
  mirrorHttp: [
    haHosts.map((h, i) => (i === 6 ? { ...h, packageMirror: { baseUrl: "http://mirror.lan/centos" } } : h)),
    haSpec,
  ],
  badInterface: [
    haHosts,
    { ...haSpec, registrationAddress: { kind: "kube-vip", vip: "192.168.10.100", interface: "eth0; reboot" } },
  ],
  badCalendar: [
    haHosts,
    { ...haSpec, etcd: { snapshot: { schedule: "every hour" }, maintenanceSchedule: "Sun 25:00" } },
  ],
  kubeVipAirgap: [haHosts, { ...haSpec, install: { kind: "airgap", dir: "/opt/k3s" } }],
  kubeVipCn: [haHosts, { ...haSpec, install: { kind: "online", mirror: "cn" } }],
  dockerKylin: [haHosts, { ...haSpec, runtime: "docker" }],
  dnsNotIp: [haHosts, { ...haSpec, network: { clusterDns: "999.43.0.10" } }],
  cidrNotIp: [haHosts, { ...haSpec, network: { clusterCidr: "10.42.0.300/16" } }],
  vipNotIp: [
    haHosts,
    { ...haSpec, registrationAddress: { kind: "kube-vip", vip: "192.168.10.256", interface: "eth0" } },
  ],
  etcdTarballMixedArch: [haHosts, { ...haSpec, etcd: { install: { kind: "prestaged", tarball: "/opt/etcd.tar.gz" } } }],
  etcdPrestagedBoth: [
    haHosts,
    { ...haSpec, etcd: { install: { kind: "prestaged", tarball: "/opt/etcd.tar.gz", dir: "/opt/etcd" } } },
  ],
};

/** Every validation rule of K3sHaCluster: GIVEN a config breaking it, THEN exactly this message. */
const expected: Record<string, string[]> = {
  dupName: [
    'hosts[4].name "server-1" is used twice (hosts[3]); host names must be unique (K3s registers nodes by name)',
  ],
  dupAddr: ['hosts[4].address "192.168.10.21" is used twice (hosts[3]); each host needs its own address'],
  evenEtcd: [
    'hosts ["etcd-1","etcd-2"] give 2 hosts the role "etcd"; etcd needs an odd number of members (1, 3, 5 or 7) to keep quorum (to pass through an even count on purpose set k3s.etcd.force: ["even-member-count"])',
  ],
  unknownOs: [
    'hosts[0].os "windows-11" is not allowed; allowed: "centos-7", "rocky-8", "rocky-9", "alma-8", "alma-9", "rhel-8", "rhel-9", "openeuler-22.03", "openeuler-24.03", "kylin-v10", "ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04", "debian-11", "debian-12"',
  ],
  badArch: ['hosts[0].arch "mips" is not allowed; allowed: "amd64", "arm64", "arm", "riscv64", "loong64"'],
  noKey: ["hosts[1].ssh: has no private key; set ssh.privateKey (a secret) or ssh.privateKeyPath"],
  bothKeys: ["hosts[1].ssh: sets both privateKey and privateKeyPath; set exactly one"],
  riscv: [
    'hosts[6].arch "riscv64" (host "agent-1", centos-7/riscv64): k3s v1.31.4+k3s1 ships no riscv64 build; supported: amd64, arm64, arm; or set k3s.artifactOverrides["agent-1"] to your own k3s binary ({ source: URL or path, sha256 })',
  ],
  ipsec: [
    'k3s.network.flannelBackend "ipsec" was removed in K3s v1.27 (k3s#7297); v1.31.4+k3s1 allows vxlan, host-gw, wireguard-native or none',
  ],
  wg: ['k3s.network.flannelBackend "wireguard-native" needs K3s v1.26 or later; v1.25.16+k3s4 has it not'],
  overlap: [
    'k3s.network.clusterCidr "10.42.0.0/16" overlaps network.serviceCidr 10.42.128.0/17; pod and service ranges must be disjoint',
  ],
  hostNet: [
    'k3s.network.clusterCidr "192.168.0.0/16" contains the address 192.168.10.11 of host "etcd-1"; pick a range disjoint from the host network',
    'k3s.network.clusterCidr "192.168.0.0/16" contains the address 192.168.10.12 of host "etcd-2"; pick a range disjoint from the host network',
    'k3s.network.clusterCidr "192.168.0.0/16" contains the address 192.168.10.13 of host "etcd-3"; pick a range disjoint from the host network',
    'k3s.network.clusterCidr "192.168.0.0/16" contains the address 192.168.10.21 of host "server-1"; pick a range disjoint from the host network',
    'k3s.network.clusterCidr "192.168.0.0/16" contains the address 192.168.10.22 of host "server-2"; pick a range disjoint from the host network',
    'k3s.network.clusterCidr "192.168.0.0/16" contains the address 192.168.10.23 of host "server-3"; pick a range disjoint from the host network',
    'k3s.network.clusterCidr "192.168.0.0/16" contains the address 192.168.10.31 of host "agent-1"; pick a range disjoint from the host network',
    'k3s.network.clusterCidr "192.168.0.0/16" contains the address 192.168.10.32 of host "agent-2"; pick a range disjoint from the host network',
    'k3s.registrationAddress.vip "192.168.10.100" lies inside network.clusterCidr 192.168.0.0/16',
  ],
  dns: ['k3s.network.clusterDns "10.99.0.10" must lie inside network.serviceCidr 10.43.0.0/16'],
  noReg: [
    'k3s.registrationAddress: is required with 3 servers (agents and kubeconfig need one fixed address): { kind: "kube-vip", vip, interface } or { kind: "external", address }',
  ],
  noEtcd: [
    'hosts: 3 servers but no "etcd" host; more than one server needs the external etcd cluster (give 1, 3 or 5 hosts the role "etcd")',
  ],
  noServer: ['hosts: no host has the role "server"; a cluster needs at least one'],
  version: [
    'k3s.version "1.31" is not a K3s release edgecloud knows (v1.31.4+k3s1, v1.30.8+k3s1, v1.29.12+k3s1, v1.28.15+k3s1, v1.25.16+k3s4); for a newer release write { unlisted: "<version>" }',
  ],
  unknownVersion: [
    'k3s.version "v1.99.0+k3s9" is not a K3s release edgecloud knows (v1.31.4+k3s1, v1.30.8+k3s1, v1.29.12+k3s1, v1.28.15+k3s1, v1.25.16+k3s4); for a newer release write { unlisted: "v1.99.0+k3s9" }',
  ],
  etcdVersion: [
    'k3s.etcd.version "v3.9.0" is not a etcd release edgecloud knows (v3.5.15, v3.5.16, v3.5.17, v3.5.18, v3.5.19, v3.5.20, v3.5.21); for a newer release write { unlisted: "v3.9.0" }',
  ],
  dataDirRoot: [
    'k3s.etcd.dataDir "/" is the system directory /; edgecloud owns, chowns and removes this directory, so it must be a directory of its own below one (e.g. /srv/edgecloud-…)',
  ],
  dataDirDotDot: ['k3s.etcd.dataDir "/var/lib/../../etc" must not contain ".." segments'],
  snapshotDirEtc: [
    'k3s.etcd.snapshot.dir "/etc" is the system directory /etc; edgecloud owns, chowns and removes this directory, so it must be a directory of its own below one (e.g. /etc/edgecloud-…)',
  ],
  scheduleInjection: [
    'k3s.etcd.snapshot.schedule "hourly\\nUnit=reboot.target" must be a systemd calendar expression such as "hourly", "daily", "*-*-* 03:30:00" or "Mon..Fri *-*-* 02:00"',
  ],
  httpMirror: [
    'k3s.etcd.install.mirror "http://mirror.local/etcd" uses plain http://, which anyone on the path can tamper with; use https://, or set insecure: true',
  ],
  vipOctet: [
    'k3s.registrationAddress.vip "192.168.10.300" must be an IPv4 address such as 10.0.0.11 (four octets 0-255)',
  ],
  vipInterface: [
    'k3s.registrationAddress.interface "eth0;reboot" must be a network interface name such as eth0 (at most 15 characters)',
  ],
  overrideNoSum: ["k3s.artifactOverrides.agent-1.sha256: is required (string)"],
  overrideHttp: [
    'k3s.artifactOverrides.agent-1.source "http://m.local/k3s" uses plain http://, which anyone on the path can tamper with; use https://, or set insecure: true',
  ],
  cniNoNone: ['k3s.network.cni "calico" requires network.flannelBackend "none" (it is "vxlan")'],
  vipClash: [
    'k3s.registrationAddress.vip "192.168.10.21" is the address of host "server-1"; the VIP must be a free address on the servers\' network',
  ],
  plaintext: ["k3s.etcd.tls false is refused: edgecloud runs etcd with TLS only (tls must be true)"],
  samePorts: ["k3s.etcd.peerPort 2380 must differ from etcd.clientPort"],
  distroEtcdRocky: [
    'hosts[1].os "rocky-9" (host "etcd-2"): the distribution ships no etcd package; use etcd.install { kind: "release" } or "prestaged" (distro etcd exists on debian-11, debian-12, ubuntu-20.04, ubuntu-22.04, ubuntu-24.04, openeuler-22.03, openeuler-24.03)',
  ],
  serverAgent: [
    'hosts[6].roles ["server","agent"] has both "server" and "agent"; a K3s server already runs workloads, pick one',
  ],
  edgeAgent: ['hosts[6].roles ["agent","edge"] has "edge" with "server"/"agent"; an edge node runs edgecore, not K3s'],
  overrideUnknown: ["k3s.artifactOverrides.nope: names no host; keys are host names"],
  unknownField: ['k3s: unknown field "flannel"'],
  badTaint: ['hosts[7].taints[0] "gpu" must be key[=value]:NoSchedule|PreferNoSchedule|NoExecute'],
  releaseArm: [
    'hosts[0].arch "arm" (host "etcd-1", debian-12/arm): etcd v3.5.17 release tarballs exist for amd64, arm64 only; use etcd.install { kind: "distro" } or "prestaged"',
  ],
  mirrorNotCentos: [
    'hosts[1].packageMirror "https://vault.centos.org/7.9.2009" is supported on centos-7 only (whose stock repositories are gone), not rocky-9; configure that host\'s own package repositories',
  ],
  mirrorHttp: [
    'hosts[6].packageMirror.baseUrl "http://mirror.lan/centos" uses plain http://, which anyone on the path can tamper with; use https://, or set insecure: true',
  ],
  badInterface: [
    'k3s.registrationAddress.interface "eth0; reboot" must be a network interface name such as eth0 (at most 15 characters)',
  ],
  badCalendar: [
    'k3s.etcd.snapshot.schedule "every hour" must be a systemd calendar expression such as "hourly", "daily", "*-*-* 03:30:00" or "Mon..Fri *-*-* 02:00" (weekdays: Mon Tue Wed Thu Fri Sat Sun)',
    'k3s.etcd.maintenanceSchedule "Sun 25:00" must be a systemd calendar expression such as "hourly", "daily", "*-*-* 03:30:00" or "Mon..Fri *-*-* 02:00" (time: hour:minute[:second])',
  ],
  kubeVipAirgap: [
    'k3s.registrationAddress.image "ghcr.io/kube-vip/kube-vip:v0.8.9" cannot be pulled with install.kind "airgap" (the K3s air-gap images do not include kube-vip); set image to a copy in a registry the servers reach',
  ],
  kubeVipCn: [
    'k3s.registrationAddress.image "ghcr.io/kube-vip/kube-vip:v0.8.9" cannot be pulled with install.mirror "cn" (ghcr.io is unreachable from mainland China); set image to a copy in a registry the servers reach',
  ],
  dockerKylin: [
    'hosts[7].os "kylin-v10" (host "agent-2") with k3s.runtime "docker" has no Docker Engine source edgecloud can verify (Docker\'s CentOS repository has no $releasever V10); use runtime containerd',
  ],
  dnsNotIp: ['k3s.network.clusterDns "999.43.0.10" must be an IPv4 address such as 10.0.0.11 (four octets 0-255)'],
  cidrNotIp: [
    'k3s.network.clusterCidr "10.42.0.300/16" must be an IPv4 CIDR such as 10.42.0.0/16 (a single host is /32)',
  ],
  vipNotIp: [
    'k3s.registrationAddress.vip "192.168.10.256" must be an IPv4 address such as 10.0.0.11 (four octets 0-255)',
  ],
  etcdTarballMixedArch: [
    'k3s.etcd.install.tarball "/opt/etcd.tar.gz" is one file for members of 2 architectures (etcd-1: amd64, etcd-2: amd64, etcd-3: arm64); use dir with etcd-v3.5.17-linux-<arch>.tar.gz for each',
  ],
  etcdPrestagedBoth: [
    'k3s.etcd.install {"kind":"prestaged","tarball":"/opt/etcd.tar.gz","dir":"/... must name exactly one of tarball (one path, every member the same architecture) or dir (<dir>/etcd-<version>-linux-<arch>.tar.gz per member)',
  ],
};

function messages(hosts: unknown[], spec: unknown): string[] {
  const issues = new IssueCollector();
  checkK3sHaCluster({ name: "demo", hosts, spec }, issues);
  return issues.issues.map(formatIssue);
}

describe("K3sHaCluster validation", () => {
  test.each(Object.keys(expected))("rule %s reports its exact message", (rule) => {
    const [hosts, spec] = cases[rule]!;
    expect(messages(hosts, spec)).toEqual(expected[rule]);
  });

  test("GIVEN the example HA cluster THEN it is valid", () => {
    expect(messages(haHosts, haSpec)).toEqual([]);
  });

  test("GIVEN several problems WHEN validating THEN all are thrown together before anything exists", () => {
    const hosts = haHosts.map((h, i) => (i === 4 ? { ...h, name: "server-1" } : i === 0 ? { ...h, ssh: {} } : h));
    let err: unknown;
    try {
      validateK3sHaCluster({ name: "demo", hosts, spec: { ...haSpec, network: { flannelBackend: "ipsec" } } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toEqual([
      "hosts[0].ssh",
      "hosts[4].name",
      "k3s.network.flannelBackend",
    ]);
    expect((err as Error).message).toMatch(
      /^K3sHaCluster "demo": 3 problems\n {2}- hosts\[0\]\.ssh: has no private key/,
    );
  });

  test("GIVEN a single server and no etcd hosts THEN no registration address or etcd is needed", () => {
    const one = [{ ...haHosts[3]! }];
    expect(messages(one, { version: "v1.31.4+k3s1" })).toEqual([]);
  });
});
