import { IssueCollector, ValidationError } from "../../../lib/validation/issues";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { kubernetesCompatible, KUBEEDGE_RELEASES } from "../../../components/kubeedge-cloud/release";
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

  test("GIVEN keadm mode with a custom port or a LoadBalancer IP WHEN checked THEN both are refused (the chart fixes them)", () => {
    expect(
      messages({
        mode: "keadm",
        cloudHub: { advertiseAddress: ["10.0.0.11"], websocketPort: 11000 },
        exposure: { kind: "LoadBalancer", loadBalancerIP: "10.0.0.11" },
      }),
    ).toEqual([
      'kubeedge.cloudHub.websocketPort 11000 must be 10000 with mode "keadm" (keadm\'s cloudcore chart fixes the port); use mode "manifests" for other ports',
      'kubeedge.exposure.loadBalancerIP "10.0.0.11" cannot be set through keadm\'s cloudcore chart; use mode "manifests", or leave it to the load balancer',
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
