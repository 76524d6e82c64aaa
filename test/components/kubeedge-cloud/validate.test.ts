import { validateHosts } from "../../../lib/hosts/validate-hosts";
import { IssueCollector, ValidationError } from "../../../lib/validation/issues";
import {
  checkKubeEdgeCloudSection,
  checkKubeEdgeCloud,
  joinParameters,
} from "../../../components/kubeedge-cloud/validate";
import { kubernetesCompatible, KUBEEDGE_RELEASES } from "../../../components/kubeedge-cloud/release";
import { KubeEdgeCloudSpecSchema } from "../../../components/kubeedge-cloud/spec";
import { baseSpec, clusterHosts } from "./fixtures";

function messages(spec: object, hosts = clusterHosts()): string[] {
  const issues = new IssueCollector();
  checkKubeEdgeCloud({ hosts, spec: { ...baseSpec, ...spec } }, issues);
  return issues.issues.map((i) =>
    i.value === undefined ? `${i.path}: ${i.message}` : `${i.path} ${JSON.stringify(i.value)} ${i.message}`,
  );
}

describe("checkKubeEdgeCloud", () => {
  test("GIVEN a valid spec WHEN checked THEN there are no issues, the join address defaults to the first advertised address", () => {
    const issues = new IssueCollector();
    const p = checkKubeEdgeCloud({ hosts: clusterHosts(), spec: baseSpec }, issues);
    expect(issues.issues).toEqual([]);
    expect(p!.join).toEqual({
      cloudcoreIpPort: "10.0.0.11:10000",
      certServer: "https://10.0.0.11:10002",
      address: "10.0.0.11",
      hubProtocol: "websocket",
      kubeedgeVersion: "v1.23.1",
      tokenSecret: { namespace: "kubeedge", name: "tokensecret", key: "tokendata" },
    });
    expect(p!.cloudcoreNode).toBe("cp-1");
    expect(p!.edgeHosts.map((h) => h.name)).toEqual(["edge-1", "edge-2", "edge-3"]);
  });

  test("GIVEN an IPv6 join address THEN the hub endpoint and the certificate URL bracket it", () => {
    const p = joinParameters(KubeEdgeCloudSpecSchema.parse(baseSpec), "fd00::11");
    expect([p.cloudcoreIpPort, p.certServer]).toEqual(["[fd00::11]:10000", "https://[fd00::11]:10002"]);
  });

  test("GIVEN a join address that is not advertised WHEN checked THEN the mismatch is reported", () => {
    expect(messages({ edge: { joinAddress: "10.0.0.99" } })).toEqual([
      'kubeedge.edge.joinAddress "10.0.0.99" is not in kubeedge.cloudHub.advertiseAddress ["10.0.0.11"]; cloudcore\'s certificate covers only the advertised addresses, so edge nodes must join one of them',
    ]);
  });

  test("GIVEN a LoadBalancer IP that is not advertised WHEN checked THEN it is reported", () => {
    expect(messages({ exposure: { kind: "LoadBalancer", loadBalancerIP: "10.0.0.200" } })).toEqual([
      'kubeedge.exposure.loadBalancerIP "10.0.0.200" is not in kubeedge.cloudHub.advertiseAddress ["10.0.0.11"]; edge nodes reach cloudcore through the load balancer, so its address must be advertised',
    ]);
  });

  test("GIVEN a release older than the cluster's Kubernetes WHEN checked THEN the compatible releases are named", () => {
    expect(messages({ version: "v1.20.0" })).toEqual([
      'kubeedge.version "v1.20.0" supports Kubernetes 1.28-1.30, not 1.31 (kubeedge.kubernetesVersion); use v1.23.1',
    ]);
    expect(messages({ kubernetesVersion: "v1.35.0+k3s1" })).toEqual([
      'kubeedge.version "v1.23.1" supports Kubernetes 1.30-1.32, not 1.35 (kubeedge.kubernetesVersion); no known KubeEdge release supports it',
    ]);
  });

  test("GIVEN an unknown release or an unparseable Kubernetes version WHEN checked THEN both are reported", () => {
    expect(messages({ version: "v1.99.0" })).toEqual([
      'kubeedge.version "v1.99.0" is not allowed; allowed: "v1.13.4", "v1.20.0", "v1.23.1"',
    ]);
    expect(messages({ kubernetesVersion: "latest" })).toEqual([
      'kubeedge.kubernetesVersion "latest" must be a Kubernetes or K3s version such as v1.31.4+k3s1',
    ]);
  });

  test("GIVEN the docker runtime on a release without dockershim WHEN checked THEN it is refused with the alternatives", () => {
    expect(messages({ edge: { runtime: "docker" } })).toEqual([
      'kubeedge.edge.runtime "docker" is not supported by KubeEdge v1.23.1 (dockershim was removed in v1.14); use "containerd", or version v1.13.4',
    ]);
  });

  test("GIVEN an edge host of an arch keadm does not ship WHEN checked THEN the host's arch is reported", () => {
    const hosts = clusterHosts();
    hosts[5] = { ...hosts[5], arch: "riscv64" };
    expect(messages({}, hosts)).toEqual([
      'hosts[5].arch "riscv64" is not supported by KubeEdge (edge host "edge-3"); allowed: amd64, arm64, arm',
    ]);
  });

  test("GIVEN a host that is both edge and agent WHEN checked THEN it is refused", () => {
    const hosts = clusterHosts();
    hosts[3] = { ...hosts[3], roles: ["edge", "agent"] };
    expect(messages({}, hosts)).toEqual([
      'hosts[3].roles ["edge","agent"] combines "edge" with "agent"; an edge node runs edgecore instead of the K3s kubelet, give it only "edge"',
    ]);
  });

  test("GIVEN QUIC edge nodes without cloudHub.quic, and clashing ports WHEN checked THEN both are reported at once", () => {
    expect(
      messages({ edge: { hubProtocol: "quic" }, cloudHub: { advertiseAddress: ["10.0.0.11"], httpsPort: 10000 } }),
    ).toEqual([
      'kubeedge.edge.hubProtocol "quic" needs kubeedge.cloudHub.quic: true (cloudcore only listens for QUIC when enabled)',
      "kubeedge.cloudHub.httpsPort 10000 is also kubeedge.cloudHub.websocketPort; cloudcore's listeners need distinct ports",
    ]);
  });

  test("GIVEN keadm mode on a host that is not a server WHEN checked THEN it is reported", () => {
    expect(messages({ mode: "keadm", keadmHost: "worker-1" })).toEqual([
      'kubeedge.keadmHost "worker-1" must name a host with the role "server"; servers: cp-1, cp-2',
    ]);
  });

  test("GIVEN keadm mode with a custom port or a LoadBalancer WHEN checked THEN both are refused (the chart fixes the ports and renders no LoadBalancer, kubeedge#6550)", () => {
    expect(
      messages({
        mode: "keadm",
        cloudHub: { advertiseAddress: ["10.0.0.11"], websocketPort: 11000 },
        exposure: { kind: "LoadBalancer", loadBalancerIP: "10.0.0.11" },
      }),
    ).toEqual([
      'kubeedge.cloudHub.websocketPort 11000 must be 10000 with mode "keadm" (keadm\'s cloudcore chart fixes the port); use mode "manifests" for other ports',
      'kubeedge.exposure.kind "LoadBalancer" is not rendered by keadm\'s cloudcore chart (its Service template falls back to ClusterIP, kubeedge#6550), so edge nodes could not reach cloudcore; use exposure "hostNetwork" or "NodePort" with mode "keadm", or mode "manifests" for a LoadBalancer',
    ]);
    expect(messages({ mode: "keadm", exposure: { kind: "LoadBalancer" } })).toHaveLength(1);
  });

  test("GIVEN an edge node's own address advertised WHEN checked THEN it is refused: cloudcore never runs on an edge node", () => {
    expect(messages({ cloudHub: { advertiseAddress: ["10.0.1.31"] }, exposure: { kind: "NodePort" } })).toEqual([
      'kubeedge.cloudHub.advertiseAddress[0] "10.0.1.31" is the address of edge host "edge-1"; cloudcore runs on cloud nodes, never on an edge node: advertise a server\'s or agent\'s address',
    ]);
  });

  test("GIVEN host-network exposure and an address no cloud host owns WHEN checked THEN it is refused (cloudcore is pinned to the host that owns it); NodePort accepts it", () => {
    expect(messages({ cloudHub: { advertiseAddress: ["10.0.0.100"] } })).toEqual([
      'kubeedge.cloudHub.advertiseAddress[0] "10.0.0.100" is not the address of a cloud host; with exposure "hostNetwork" cloudcore is pinned to the host that owns the address edge nodes dial (kubeedge#4417): use one of 10.0.0.11, 10.0.0.12, 10.0.0.21, or exposure "NodePort"',
    ]);
    expect(messages({ cloudHub: { advertiseAddress: ["10.0.0.100"] }, exposure: { kind: "NodePort" } })).toEqual([]);
  });

  test("GIVEN the cluster's kube-vip VIP advertised with host-network exposure WHEN the section is checked THEN it is refused: the VIP follows the lease, cloudcore stays on one node", () => {
    const issues = new IssueCollector();
    checkKubeEdgeCloudSection(
      validateHosts(clusterHosts(), new IssueCollector()),
      { ...baseSpec, cloudHub: { advertiseAddress: ["10.0.0.100"] } },
      issues,
      undefined,
      { registrationAddress: "10.0.0.100" },
    );
    expect(issues.issues.map((i) => `${i.path} ${JSON.stringify(i.value)} ${i.message}`)).toEqual([
      'kubeedge.cloudHub.advertiseAddress[0] "10.0.0.100" is the cluster\'s registration address (a kube-vip VIP moves to whichever server holds the lease, a load balancer forwards the API server), while cloudcore on the host network runs on one node, so edge nodes would dial an address where nothing listens (again after every failover); advertise the address of the cloud host cloudcore should run on (10.0.0.11, 10.0.0.12, 10.0.0.21), or use exposure "NodePort" (every node answers)',
    ]);
  });

  test("GIVEN a Debian 11 edge host and KubeEdge v1.23.1 WHEN checked THEN it is refused at validation: bullseye's containerd 1.4 is older than 1.6", () => {
    const hosts = clusterHosts().map((h) => (h.name === "edge-2" ? { ...h, os: "debian-11" } : h));
    const issues = new IssueCollector();
    checkKubeEdgeCloud({ hosts, spec: baseSpec }, issues);
    expect(issues.issues.map((i) => `${i.path} ${JSON.stringify(i.value)} ${i.message}`)).toEqual([
      'hosts[4].os "debian-11" ships containerd 1.4 (Debian 11 bullseye\'s containerd 1.4.13), older than 1.6, which KubeEdge v1.23.1 needs on edge host "edge-2"; use a newer OS (debian-12, ubuntu-22.04), or kubeedge.version v1.13.4',
    ]);
  });

  test("GIVEN no advertise address WHEN checked THEN it is required", () => {
    expect(messages({ cloudHub: { advertiseAddress: [] } })).toEqual([
      "kubeedge.cloudHub.advertiseAddress [] must be >= 1 items",
    ]);
  });

  test("GIVEN several problems WHEN thrown THEN one ValidationError lists them all", () => {
    const issues = new IssueCollector();
    checkKubeEdgeCloud(
      {
        hosts: clusterHosts(),
        spec: { ...baseSpec, version: "v1.20.0", edge: { runtime: "docker", joinAddress: "1.2.3.4" } },
      },
      issues,
    );
    expect(() => issues.throwIfAny()).toThrow(ValidationError);
    expect(issues.issues).toHaveLength(3);
  });

  test("GIVEN the compatibility table WHEN queried THEN K3s versions are read by minor", () => {
    expect(kubernetesCompatible(KUBEEDGE_RELEASES["v1.23.1"], "v1.31.4+k3s1")).toBe(true);
    expect(kubernetesCompatible(KUBEEDGE_RELEASES["v1.23.1"], "1.29")).toBe(false);
  });
});

describe("checkKubeEdgeCloudSection", () => {
  test("GIVEN validated hosts and a section without kubernetesVersion WHEN checked with the cluster's version THEN it is filled in", () => {
    const { validateHosts } =
      require("../../../lib/hosts/validate-hosts") as typeof import("../../../lib/hosts/validate-hosts");
    const { checkKubeEdgeCloudSection } =
      require("../../../components/kubeedge-cloud/validate") as typeof import("../../../components/kubeedge-cloud/validate");
    const issues = new IssueCollector();
    const hosts = validateHosts(clusterHosts(), issues);
    const p = checkKubeEdgeCloudSection(hosts, { cloudHub: { advertiseAddress: ["10.0.0.11"] } }, issues, undefined, {
      kubernetesVersion: "v1.31.4+k3s1",
    });
    expect(issues.issues).toEqual([]);
    expect(p!.spec.kubernetesVersion).toBe("v1.31.4+k3s1");
  });
});
