import { NfsProvisionerChart, NfsProvisionerProps } from "../../../components/nfs-provisioner";
import { assertValidObjects, chartObjects, KubeObject, newApp, objectsToYaml } from "../../../lib/manifests";
import { nfsProps } from "./props";

function render(props: NfsProvisionerProps): KubeObject[] {
  const objects = chartObjects(new NfsProvisionerChart(newApp(), "nfs", props));
  assertValidObjects(objects);
  return objects;
}
const find = (objects: KubeObject[], kind: string, name?: string): any =>
  objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const all = (objects: KubeObject[], kind: string): any[] => objects.filter((o) => o.kind === kind);

describe("NfsProvisionerChart", () => {
  describe("GIVEN csi-driver-nfs (the default) with a subDir pattern", () => {
    const objects = render(
      nfsProps({
        server: { kind: "host", host: "store-1" },
        storageClass: {
          subDir: "${pvc.metadata.namespace}/${pvc.metadata.name}",
          mountPermissions: "0777",
          mountOptions: ["hard"],
        },
      }),
    );

    test("THEN the StorageClass carries typed csi parameters and nfsvers", () => {
      const sc = find(objects, "StorageClass");
      expect(sc).toMatchObject({
        metadata: { name: "nfs", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
        provisioner: "nfs.csi.k8s.io",
        parameters: {
          server: "10.0.0.31",
          share: "/srv/nfs/k8s",
          subDir: "${pvc.metadata.namespace}/${pvc.metadata.name}",
          mountPermissions: "0777",
          onDelete: "delete",
        },
        reclaimPolicy: "Delete",
        volumeBindingMode: "Immediate",
        allowVolumeExpansion: true,
        mountOptions: ["nfsvers=4.1", "hard"],
      });
    });

    test("THEN the CSIDriver, the controller and the node plugin are there, the plugin mounting Bidirectionally into kubelet", () => {
      expect(find(objects, "CSIDriver").spec).toEqual({
        attachRequired: false,
        volumeLifecycleModes: ["Persistent"],
        fsGroupPolicy: "File",
      });
      const node = find(objects, "DaemonSet", "csi-nfs-node").spec.template.spec;
      const nfs = node.containers.find((c: any) => c.name === "nfs");
      expect(nfs.volumeMounts).toContainEqual({
        name: "pods-mount-dir",
        mountPath: "/var/lib/kubelet/pods",
        mountPropagation: "Bidirectional",
      });
      expect(node.hostNetwork).toBe(true);
      // hostNetwork + a sidecar listening on localhost: kubelet must probe localhost
      expect(nfs.livenessProbe.httpGet).toEqual({ host: "localhost", path: "/healthz", port: "healthz" });
      const controller = find(objects, "Deployment", "csi-nfs-controller").spec.template.spec;
      expect(controller.containers.map((c: any) => c.name)).toEqual([
        "csi-provisioner",
        "csi-resizer",
        "liveness-probe",
        "nfs",
      ]);
    });

    test("THEN the resizer can start: it runs with --handle-volume-inuse-error=false (else it waits for a pods informer) and every resource it watches is granted list/watch", () => {
      const controller = find(objects, "Deployment", "csi-nfs-controller").spec.template.spec;
      const resizer = controller.containers.find((c: any) => c.name === "csi-resizer");
      expect(resizer.image).toBe("registry.k8s.io/sig-storage/csi-resizer:v2.2.0");
      const inUse = !resizer.args.includes("--handle-volume-inuse-error=false");
      // kubernetes-csi/external-resizer v2.x: PVs and PVCs always; pods only when handle-volume-inuse-error is on
      const watched = ["persistentvolumes", "persistentvolumeclaims", ...(inUse ? ["pods"] : [])];
      const rules = find(objects, "ClusterRole").rules;
      for (const r of watched)
        expect({
          r,
          ok: rules.some((x: any) => x.resources.includes(r) && x.verbs.includes("list") && x.verbs.includes("watch")),
        }).toEqual({ r, ok: true });
    });

    test("THEN RBAC is least privilege: no secrets, no snapshots, leases only in its namespace", () => {
      const rules = find(objects, "ClusterRole").rules;
      const resources = rules.flatMap((r: any) => r.resources);
      expect(resources).not.toContain("secrets");
      expect(resources.some((r: string) => r.includes("snapshot"))).toBe(false);
      expect(resources).not.toContain("leases");
      expect(find(objects, "Role").metadata.namespace).toBe("nfs-provisioner");
      expect(find(objects, "Role").rules).toEqual([
        {
          apiGroups: ["coordination.k8s.io"],
          resources: ["leases"],
          verbs: ["get", "list", "watch", "create", "update", "patch"],
        },
      ]);
    });

    test("THEN only the provisioner's own namespace allows privileged pods", () => {
      expect(find(objects, "Namespace").metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    });

    test("THEN the manifest matches the snapshot", () => {
      expect(objectsToYaml(objects)).toMatchSnapshot();
    });
  });

  describe("GIVEN csi-driver-nfs without expansion, Retain and WaitForFirstConsumer", () => {
    const objects = render(
      nfsProps({
        server: { kind: "external", address: "nas.lan", exportPath: "/volume1/k8s" },
        storageClass: {
          allowVolumeExpansion: false,
          reclaimPolicy: "Retain",
          volumeBindingMode: "WaitForFirstConsumer",
          isDefaultClass: false,
          onDelete: "archive",
          nfsVersion: "4.2",
        },
      }),
    );
    test("THEN no resizer, no patch on PVs and no default-class annotation", () => {
      const controller = find(objects, "Deployment", "csi-nfs-controller").spec.template.spec;
      expect(controller.containers.map((c: any) => c.name)).toEqual(["csi-provisioner", "liveness-probe", "nfs"]);
      expect(find(objects, "ClusterRole").rules[0].verbs).not.toContain("patch");
      const sc = find(objects, "StorageClass");
      expect(sc.metadata.annotations).toBeUndefined();
      expect(sc).toMatchObject({
        reclaimPolicy: "Retain",
        volumeBindingMode: "WaitForFirstConsumer",
        parameters: { server: "nas.lan", share: "/volume1/k8s", onDelete: "archive" },
        mountOptions: ["nfsvers=4.2"],
      });
      expect(objectsToYaml(objects)).toMatchSnapshot();
    });
  });

  describe("GIVEN nfs-subdir-external-provisioner with a path pattern and archive on delete", () => {
    const objects = render(
      nfsProps({
        server: { kind: "host", host: "store-1" },
        provisioner: { kind: "nfs-subdir-external-provisioner" },
        storageClass: { subDir: "${pvc.metadata.namespace}-${pvc.metadata.name}", onDelete: "archive" },
      }),
    );

    test("THEN the v4.0.2 image from registry.k8s.io runs with the export and leader election", () => {
      const c = find(objects, "Deployment").spec.template.spec.containers[0];
      expect(c.image).toBe("registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2");
      expect(c.env).toEqual([
        { name: "PROVISIONER_NAME", value: "cluster.local/nfs-subdir-external-provisioner" },
        { name: "NFS_SERVER", value: "10.0.0.31" },
        { name: "NFS_PATH", value: "/srv/nfs/k8s" },
        { name: "ENABLE_LEADER_ELECTION", value: "true" },
      ]);
      expect(find(objects, "Deployment").spec.strategy).toEqual({ type: "Recreate" });
      expect(JSON.stringify(objects)).not.toContain("external_storage");
      expect(JSON.stringify(objects)).not.toContain("RemoveSelfLink");
    });

    test("THEN the pattern is translated and archiveOnDelete is set", () => {
      expect(find(objects, "StorageClass")).toMatchObject({
        provisioner: "cluster.local/nfs-subdir-external-provisioner",
        parameters: { archiveOnDelete: "true", pathPattern: "${.PVC.namespace}-${.PVC.name}" },
      });
    });

    test("THEN the namespace is baseline and RBAC has exactly the chart's rules", () => {
      expect(find(objects, "Namespace").metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("baseline");
      expect(all(objects, "ClusterRole")).toHaveLength(1);
      expect(find(objects, "Role").rules).toEqual([
        { apiGroups: [""], resources: ["endpoints"], verbs: ["get", "list", "watch", "create", "update", "patch"] },
      ]);
      expect(objectsToYaml(objects)).toMatchSnapshot();
    });
  });
});
