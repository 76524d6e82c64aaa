import { parse } from "yaml";
import { renderK3sHaClusterSteps } from "../../../components/k3s-ha-cluster/plan";
import { placeholderMaterial } from "../../../components/k3s-ha-cluster/material";
import { checkK3sHaCluster, validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { IssueCollector, formatIssue } from "../../../lib/validation/issues";
import { haHosts, haSpec } from "../../fixtures/cluster";

// the seed guide's Calico recipe: flannel off, Calico, cluster CIDR 10.96.0.0/16
const network = { flannelBackend: "none", cni: "calico", clusterCidr: "10.96.0.0/16" };
const props = validateK3sHaCluster({ name: "demo", hosts: haHosts, spec: { ...haSpec, network } });
const steps = renderK3sHaClusterSteps(props, placeholderMaterial(props));
const step = (id: string) => steps.find((s) => s.id === id)!;
const MANIFEST = "/var/lib/rancher/k3s/server/manifests/edgecloud-calico.yaml";

describe("Calico (flannelBackend none + cni calico)", () => {
  test("GIVEN the guide's recipe THEN every server deploys the tigera-operator HelmChart whose Installation has one pool on exactly the cluster CIDR", () => {
    for (const s of ["server-1", "server-2", "server-3"]) {
      const files = step(`${s}/k3s-config`).files;
      const cfg = parse(files.find((f) => f.path === "/etc/rancher/k3s/config.yaml")!.content);
      expect(cfg["flannel-backend"]).toBe("none");
      expect(cfg["cluster-cidr"]).toBe("10.96.0.0/16");
      const chart = parse(files.find((f) => f.path === MANIFEST)!.content);
      expect(chart).toMatchObject({
        apiVersion: "helm.cattle.io/v1",
        kind: "HelmChart",
        spec: {
          chart: "tigera-operator",
          repo: "https://docs.tigera.io/calico/charts",
          version: "v3.29.7",
          bootstrap: true,
        },
      });
      const values = parse(chart.spec.valuesContent);
      expect(values.installation.enabled).toBe(true);
      expect(values.installation.calicoNetwork.ipPools).toEqual([
        expect.objectContaining({ cidr: cfg["cluster-cidr"], encapsulation: "VXLAN", natOutgoing: "Enabled" }),
      ]);
    }
    // agents deploy no manifests
    expect(step("agent-1/k3s-config").files.some((f) => f.path === MANIFEST)).toBe(false);
  });

  test("GIVEN Calico THEN every node opens VXLAN 4789/udp, BGP 179/tcp and Typha 5473/tcp", () => {
    for (const s of ["server-2/k3s-prereqs", "agent-1/k3s-prereqs"]) {
      for (const p of ["4789/udp", "179/tcp", "5473/tcp"]) expect(step(s).script).toContain(p);
    }
  });

  test("GIVEN flannel none without a CNI, or Calico air-gapped THEN validation says why the nodes would never be Ready", () => {
    const problems = (net: object, extra: object = {}) => {
      const issues = new IssueCollector();
      checkK3sHaCluster({ name: "demo", hosts: haHosts, spec: { ...haSpec, network: net, ...extra } }, issues);
      return issues.issues.map(formatIssue);
    };
    expect(problems({ flannelBackend: "none" })).toEqual([
      'k3s.network.flannelBackend "none" leaves the cluster without a pod network (every node stays NotReady); set network.cni "calico", or keep a flannel backend',
    ]);
    const reg = { ...haSpec.registrationAddress!, image: "registry.example.lan/kube-vip/kube-vip:v0.8.9" };
    expect(problems(network, { install: { kind: "airgap", dir: "/opt/k3s" }, registrationAddress: reg })).toEqual([
      'k3s.network.cni "calico" cannot be installed air-gapped: K3s fetches the tigera-operator chart and Calico\'s images at install time; use a flannel backend with install.kind "airgap"',
    ]);
  });

  test("GIVEN agents THEN the first server waits for every agent's node Ready after their starts", () => {
    expect(step("server-1/k3s-nodes-ready").dependsOn).toEqual(["agent-1/k3s-start", "agent-2/k3s-start"]);
    expect(step("server-1/k3s-nodes-ready").script).toContain("for n in agent-1 agent-2; do");
  });
});
