import { parse } from "yaml";
import { assertValidObjects } from "../../../lib/manifests/validate";
import { chartObjects, objectsToYaml } from "../../../lib/manifests/chart";
import { IssueCollector } from "../../../lib/validation/issues";
import { cloudCoreChart, edgeAvoidancePatches } from "../../../components/kubeedge-cloud/cloudcore-chart";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { KubeEdgeCloudProps } from "../../../components/kubeedge-cloud/spec";
import { KUBEEDGE_VERSIONS } from "../../../components/kubeedge-cloud/release";
import { baseSpec, clusterHosts } from "./fixtures";

function props(spec: object = {}): KubeEdgeCloudProps {
  const issues = new IssueCollector();
  const p = checkKubeEdgeCloud({ hosts: clusterHosts(), spec: { ...baseSpec, ...spec } }, issues);
  issues.throwIfAny();
  return p!;
}

const k8sFor: Record<string, string> = {
  "v1.13.4": "v1.23.17+k3s1",
  "v1.20.0": "v1.30.8+k3s1",
  "v1.23.1": "v1.31.4+k3s1",
};

describe("cloudCoreChart", () => {
  const render = (version: string, kind: "hostNetwork" | "NodePort" | "LoadBalancer") =>
    chartObjects(
      cloudCoreChart(props({ version, kubernetesVersion: k8sFor[version], exposure: { kind }, mosquitto: true })),
    );
  const crd = (o: { kind: string }) => o.kind === "CustomResourceDefinition";

  // One whole-output snapshot per version, exposed on the host network; the other exposures are asserted below as
  // exact changes of it.
  test.each(KUBEEDGE_VERSIONS)(
    "GIVEN KubeEdge %s exposed as hostNetwork WHEN rendered THEN every object (CRDs included) is valid and matches the snapshot",
    (version) => {
      const objects = render(version, "hostNetwork");
      expect(() => assertValidObjects(objects)).not.toThrow();
      // the CRDs are upstream's files byte for byte (crds.test.ts): the snapshot names them only
      expect(objects.filter(crd).map((o) => o.metadata.name)).toMatchSnapshot();
      expect(objectsToYaml(objects.filter((o) => !crd(o)))).toMatchSnapshot();
    },
  );

  test.each(KUBEEDGE_VERSIONS.flatMap((v) => (["NodePort", "LoadBalancer"] as const).map((e) => [v, e] as const)))(
    "GIVEN KubeEdge %s exposed as %s WHEN rendered THEN every object is valid and equals the hostNetwork rendering except cloudcore's pod network (pod network, ClusterFirst DNS, not pinned to the advertised server) and its Service type",
    (version, kind) => {
      const objects = render(version, kind);
      expect(() => assertValidObjects(objects)).not.toThrow();
      const expected = structuredClone(render(version, "hostNetwork")) as any[];
      const dep = expected.find((o) => o.kind === "Deployment" && o.metadata.name === "cloudcore");
      const pod = dep.spec.template.spec;
      pod.hostNetwork = false;
      pod.dnsPolicy = "ClusterFirst";
      const term = pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0];
      term.matchExpressions = term.matchExpressions.filter((m: any) => m.key !== "kubernetes.io/hostname");
      const svc = expected.find((o) => o.kind === "Service" && o.metadata.name === "cloudcore");
      svc.spec.type = kind;
      if (kind === "NodePort") {
        // the default node port of each cloudcore port by its Service port name (spec.ts exposure.nodePorts' default)
        const nodePorts: Record<string, number> = {
          cloudhub: 30000,
          "cloudhub-quic": 30001,
          "cloudhub-https": 30002,
          cloudstream: 30003,
          tunnelport: 30004,
        };
        svc.spec.ports = svc.spec.ports.map((p: any) => ({ ...p, nodePort: nodePorts[p.name] }));
      }
      expect(objects).toEqual(expected);
    },
  );

  test("GIVEN hostNetwork and an advertised server address WHEN rendered THEN cloudcore is pinned to that server and kept off edge nodes", () => {
    const objects = chartObjects(cloudCoreChart(props()));
    const dep = objects.find((o) => o.kind === "Deployment") as any;
    const pod = dep.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe("ClusterFirstWithHostNet");
    expect(
      pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions,
    ).toEqual([
      { key: "node-role.kubernetes.io/edge", operator: "DoesNotExist" },
      { key: "kubernetes.io/hostname", operator: "In", values: ["cp-1"] },
    ]);
    expect(pod.containers[0].image).toBe("kubeedge/cloudcore:v1.23.1");
    expect(pod.containers[0].readinessProbe.httpGet).toEqual({ scheme: "HTTPS", path: "/ca.crt", port: 10002 });
  });

  test("GIVEN NodePort exposure WHEN rendered THEN the Service is a NodePort with the chosen ports (no silent ClusterIP fallback)", () => {
    const objects = chartObjects(
      cloudCoreChart(props({ exposure: { kind: "NodePort", nodePorts: { cloudhub: 31000 } } })),
    );
    const svc = objects.find((o) => o.kind === "Service") as any;
    expect(svc.spec.type).toBe("NodePort");
    expect(svc.spec.ports.find((p: any) => p.name === "cloudhub").nodePort).toBe(31000);
    const dep = objects.find((o) => o.kind === "Deployment") as any;
    expect(dep.spec.template.spec.hostNetwork).toBe(false);
  });

  test("GIVEN the cloudcore config WHEN rendered THEN cloudHub carries the advertised addresses and the chosen iptables framework image is used", () => {
    const objects = chartObjects(
      cloudCoreChart(
        props({
          cloudHub: { advertiseAddress: ["10.0.0.11", "edge.example.com"], dnsNames: ["cloudcore.example.com"] },
          iptablesManager: { framework: "nft" },
        }),
      ),
    );
    const cm = objects.find((o) => o.kind === "ConfigMap") as any;
    expect(cm.data["cloudcore.yaml"]).toContain("advertiseAddress:\n      - 10.0.0.11\n      - edge.example.com");
    expect(cm.data["cloudcore.yaml"]).toContain("dnsNames:\n      - cloudcore.example.com");
    const ds = objects.find((o) => o.kind === "DaemonSet" && o.metadata.name === "cloud-iptables-manager") as any;
    expect(ds.spec.template.spec.containers[0].image).toBe("kubeedge/iptables-manager-nft:v1.23.1");
  });

  test.each([
    ["v1.13.4", "devices.kubeedge.io", ["v1alpha2"]],
    ["v1.23.1", "devices.kubeedge.io", ["v1alpha2", "v1beta1"]],
    ["v1.13.4", "operations.kubeedge.io", ["v1alpha1"]],
    ["v1.23.1", "operations.kubeedge.io", ["v1alpha1", "v1alpha2"]],
  ] as const)(
    "GIVEN KubeEdge %s WHEN rendered THEN the %s CRDs serve what upstream serves (%j)",
    (version, group, versions) => {
      const objects = chartObjects(cloudCoreChart(props({ version, kubernetesVersion: k8sFor[version] })));
      const crds = objects.filter((o) => o.kind === "CustomResourceDefinition" && (o as any).spec.group === group);
      expect(crds.length).toBeGreaterThan(0);
      const served = new Set(crds.flatMap((c) => (c as any).spec.versions.map((v: any) => v.name as string)));
      expect([...served].sort()).toEqual([...versions]);
    },
  );

  test("GIVEN nodeLimit 1000 WHEN cloudcore.yaml is rendered THEN kubeAPIConfig and edgeController carry the values cloudcore's AdjustCloudCoreConfig would set (so it does not rewrite the ConfigMap at start)", () => {
    const objects = chartObjects(cloudCoreChart(props()));
    const cm = parse((objects.find((o) => o.kind === "ConfigMap") as any).data["cloudcore.yaml"]);
    expect(cm.kubeAPIConfig).toMatchObject({ qps: 5000, burst: 10000 });
    expect(cm.modules.edgeController).toEqual({
      load: { queryNodeWorkers: 1000, patchNodeWorkers: 120, createLeaseWorkers: 1000 },
      buffer: { patchNode: 1524, queryNode: 2024, createLease: 2024 },
    });
  });

  test("GIVEN the external iptables-manager WHEN rendered THEN it gets upstream's ClusterRole (ConfigMaps get/list/watch/update and Pods get/list/watch cluster-wide, its informer is not namespaced), bound cluster-wide, and a hardened container", () => {
    const objects = chartObjects(cloudCoreChart(props()));
    expect(objects.some((o) => o.kind === "Role" || o.kind === "RoleBinding")).toBe(false);
    const role = objects.find((o) => o.kind === "ClusterRole" && o.metadata.name === "iptables-manager") as any;
    expect(role.rules).toEqual([
      { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "update"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
    ]);
    const binding = objects.find(
      (o) => o.kind === "ClusterRoleBinding" && o.metadata.name === "iptables-manager",
    ) as any;
    expect(binding.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: "iptables-manager",
    });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "iptables-manager-sa", namespace: "kubeedge" }]);
    const ds = objects.find((o) => o.metadata.name === "cloud-iptables-manager") as any;
    expect(ds.spec.template.spec.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      seccompProfile: { type: "RuntimeDefault" },
      capabilities: { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW"] },
    });
  });

  test("GIVEN KubeEdge v1.23.1 WHEN rendered THEN cloudcore's ClusterRoles are upstream's: cloudcore aggregates cloudcore-common by rbac/aggregate-to-cloudcore, which deletes only pods and configmaps and has no CSR, token review or namespace-delete rights", () => {
    const objects = chartObjects(cloudCoreChart(props()));
    const cloudcore = objects.find((o) => o.kind === "ClusterRole" && o.metadata.name === "cloudcore") as any;
    expect(cloudcore.aggregationRule).toEqual({
      clusterRoleSelectors: [{ matchLabels: { "rbac/aggregate-to-cloudcore": "true" } }],
    });
    const common = objects.find((o) => o.kind === "ClusterRole" && o.metadata.name === "cloudcore-common") as any;
    expect(common.metadata.labels["rbac/aggregate-to-cloudcore"]).toBe("true");
    const core = common.rules.filter((r: any) => r.apiGroups.includes(""));
    const deletable = core.filter((r: any) => r.verbs.includes("delete")).flatMap((r: any) => r.resources);
    expect(deletable.sort()).toEqual(["configmaps", "pods"]);
    const groups = common.rules.flatMap((r: any) => r.apiGroups);
    for (const g of [
      "certificates.k8s.io",
      "authentication.k8s.io",
      "authorization.k8s.io",
      "rbac.authorization.k8s.io",
    ])
      expect(groups).not.toContain(g);
    expect(core.find((r: any) => r.resources.includes("namespaces")).verbs).toEqual(["get", "create", "list", "watch"]);
    expect(common.rules.find((r: any) => r.apiGroups[0] === "operations.kubeedge.io").resources).toEqual([
      "nodeupgradejobs",
      "nodeupgradejobs/status",
      "imageprepulljobs",
      "imageprepulljobs/status",
      "configupdatejobs",
      "configupdatejobs/status",
    ]);
  });

  test("GIVEN a custom object of a KubeEdge kind WHEN validated against the emitted CRDs THEN it is accepted, and an unserved version is rejected", () => {
    const objects = chartObjects(cloudCoreChart(props()));
    const ng = {
      apiVersion: "apps.kubeedge.io/v1alpha1",
      kind: "NodeGroup",
      metadata: { name: "plant-a" },
      spec: { matchLabels: { site: "plant-a" } },
    };
    expect(() => assertValidObjects([...objects, ng])).not.toThrow();
    expect(() => assertValidObjects([...objects, { ...ng, apiVersion: "apps.kubeedge.io/v9" }])).toThrow();
  });

  test("GIVEN DaemonSets to keep off edge nodes WHEN patches are rendered THEN each carries the edge DoesNotExist affinity", () => {
    const [p] = edgeAvoidancePatches([{ namespace: "kube-system", name: "csi-nfs-node" }]);
    expect(p.metadata).toMatchObject({ name: "csi-nfs-node", namespace: "kube-system" });
    expect(
      (p as any).spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
        .nodeSelectorTerms[0].matchExpressions[0],
    ).toEqual({
      key: "node-role.kubernetes.io/edge",
      operator: "DoesNotExist",
    });
  });
});
