import { createHash } from "crypto";
import { hardwareObjects, sriovConfig } from "../../../components/hardware/objects";
import { KUBEVIRT_V1_5_2 } from "../../../components/hardware/upstream/kubevirt-v1-5-2";
import { HostInput } from "../../../lib/hosts/host";
import { validateHosts } from "../../../lib/hosts/validate-hosts";
import { validateObjects } from "../../../lib/manifests/validate";
import { IssueCollector } from "../../../lib/validation/issues";

const ssh = { privateKeyPath: "/k" };
const base = { ssh, os: "ubuntu-22.04" as const, arch: "amd64" as const, roles: ["agent" as const] };
function hosts(...list: Partial<HostInput>[]) {
  const issues = new IssueCollector();
  const out = validateHosts(
    list.map((h, i) => ({ ...base, name: `node-${i}`, address: `10.0.0.${i + 1}`, ...h })),
    issues,
  );
  expect(issues.issues).toEqual([]);
  return out;
}
const find = (objs: ReturnType<typeof hardwareObjects>, kind: string, name: string) =>
  objs.find((o) => o.kind === kind && o.metadata.name === name) as Record<string, any>;

describe("hardware objects", () => {
  test("GIVEN no host with a capability WHEN rendered THEN nothing", () => {
    expect(hardwareObjects(hosts({}, { capabilities: { hugepages: { size: "2Mi", count: 64 } } }))).toEqual([]);
  });

  test("GIVEN a kvm host WHEN rendered THEN KubeVirt v1.5.2 as its release ships it, the KubeVirt CR valid against the vendored CRD, VM workloads on kvm nodes", () => {
    const kv = hardwareObjects(hosts({ capabilities: { kvm: {} } }));
    expect(kv.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Namespace/kubevirt",
      "CustomResourceDefinition/kubevirts.kubevirt.io",
      "PriorityClass/kubevirt-cluster-critical",
      "ClusterRole/kubevirt.io:operator",
      "ServiceAccount/kubevirt-operator",
      "Role/kubevirt-operator",
      "RoleBinding/kubevirt-operator-rolebinding",
      "ClusterRole/kubevirt-operator",
      "ClusterRoleBinding/kubevirt-operator",
      "Deployment/virt-operator",
      "KubeVirt/kubevirt",
    ]);
    expect(validateObjects(kv)).toEqual([]);
    expect(find(kv, "KubeVirt", "kubevirt").spec.workloads).toEqual({
      nodePlacement: { nodeSelector: { "edgecloud.io/kvm": "true" } },
    });
    expect(find(kv, "Deployment", "virt-operator").spec.template.spec.containers[0].image).toBe(
      "quay.io/kubevirt/virt-operator:v1.5.2",
    );
    expect(JSON.stringify(kv)).not.toContain("{{");
    // a field the CRD does not have is refused (the CR is checked against upstream's schema, strictly)
    const bad = kv.map((o) =>
      o.kind === "KubeVirt" ? { ...o, spec: { ...(o.spec as object), nodePlacement: {} } } : o,
    );
    expect(validateObjects(bad).map((i) => i.path)).toEqual([expect.stringContaining("KubeVirt/kubevirt/kubevirt")]);
  });

  test("GIVEN the vendored KubeVirt files WHEN hashed THEN each is byte for byte upstream's blob at v1.5.2", () => {
    for (const f of KUBEVIRT_V1_5_2)
      expect(
        createHash("sha1")
          .update(`blob ${Buffer.byteLength(f.yaml)}\0`)
          .update(f.yaml)
          .digest("hex"),
      ).toBe(f.blob);
  });

  const objs = hardwareObjects(
    hosts(
      { capabilities: { gpu: { vendor: "nvidia" }, kata: { version: "3.11.0", sha256: "d".repeat(64) } } },
      { capabilities: { sriov: { nics: [{ pf: "ens1f0", numVfs: 4, resourceName: "sriov_net" }] } } },
      {
        capabilities: {
          hugepages: { size: "2Mi", count: 512 },
          sriov: {
            nics: [
              { pf: "ens2f0", numVfs: 4, resourceName: "sriov_net" },
              { pf: "ens2f1", numVfs: 2, resourceName: "sriov_dpdk", driver: "vfio-pci" },
            ],
          },
        },
      },
    ),
  );

  test("GIVEN GPU, Kata and SR-IOV hosts WHEN rendered THEN every object passes strict Kubernetes v1.32 validation", () => {
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "RuntimeClass/nvidia",
      "RuntimeClass/kata",
      "DaemonSet/nvidia-device-plugin-daemonset",
      "ServiceAccount/sriov-device-plugin",
      "ConfigMap/sriovdp-config",
      "DaemonSet/kube-sriov-device-plugin",
    ]);
    expect(validateObjects(objs)).toEqual([]);
  });

  test("GIVEN a GPU host WHEN rendered THEN the RuntimeClass and the device plugin land only on GPU nodes, tolerating their taint", () => {
    expect(find(objs, "RuntimeClass", "nvidia").scheduling).toEqual({
      nodeSelector: { "nvidia.com/gpu.present": "true" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    });
    const pod = find(objs, "DaemonSet", "nvidia-device-plugin-daemonset").spec.template.spec;
    expect(pod.nodeSelector).toEqual({ "nvidia.com/gpu.present": "true" });
    expect(pod.runtimeClassName).toBe("nvidia");
    expect(pod.containers[0].image).toBe("nvcr.io/nvidia/k8s-device-plugin:v0.17.1");
    expect(find(objs, "RuntimeClass", "kata")).toMatchObject({
      handler: "kata",
      scheduling: { nodeSelector: { "edgecloud.io/kata": "true" } },
    });
  });

  test("GIVEN SR-IOV declarations on two hosts WHEN the device plugin config is generated THEN one pool per resource name with every PF", () => {
    const h = hosts(
      { capabilities: { sriov: { nics: [{ pf: "ens1f0", numVfs: 4, resourceName: "sriov_net" }] } } },
      {
        capabilities: {
          hugepages: { size: "2Mi", count: 512 },
          sriov: {
            nics: [
              { pf: "ens2f0", numVfs: 4, resourceName: "sriov_net" },
              { pf: "ens2f1", numVfs: 2, resourceName: "sriov_dpdk", driver: "vfio-pci" },
            ],
          },
        },
      },
    );
    expect(sriovConfig(h)).toEqual({
      resourceList: [
        { resourceName: "sriov_net", resourcePrefix: "intel.com", selectors: { pfNames: ["ens1f0", "ens2f0"] } },
        {
          resourceName: "sriov_dpdk",
          resourcePrefix: "intel.com",
          selectors: { pfNames: ["ens2f1"], drivers: ["vfio-pci"] },
        },
      ],
    });
    expect(JSON.parse(find(objs, "ConfigMap", "sriovdp-config").data["config.json"])).toEqual(sriovConfig(h));
    expect(find(objs, "DaemonSet", "kube-sriov-device-plugin").spec.template.spec.nodeSelector).toEqual({
      "edgecloud.io/sriov": "true",
    });
  });
});
