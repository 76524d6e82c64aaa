import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { nfsLabels, nfsSelector } from "./labels";
import { NfsProvisionerProps } from "./spec";
import { NFS_SUBDIR_IMAGE } from "./versions";

const NAME = "nfs-subdir-external-provisioner";
const q = (v: string) => k8s.Quantity.fromString(v);

/**
 * kubernetes-sigs/nfs-subdir-external-provisioner (v4.0.2+, no selfLink): a single-replica Deployment (Recreate)
 * with leader election, the export mounted at /persistentvolumes, and the chart's RBAC (runner ClusterRole,
 * endpoints lock Role) — nothing more.
 */
export class NfsSubdirProvisioner extends Construct {
  constructor(scope: Construct, id: string, props: NfsProvisionerProps) {
    super(scope, id);
    const p = props.spec.provisioner;
    if (p.kind !== "nfs-subdir-external-provisioner")
      throw new Error("NfsSubdirProvisioner needs provisioner.kind nfs-subdir-external-provisioner");
    const ns = props.spec.namespace;
    const labels = { ...nfsLabels(NAME, "provisioner"), "app.kubernetes.io/version": p.version };
    const role = `edgecloud-${NAME}-runner`;

    new k8s.KubeServiceAccount(this, "sa", {
      metadata: { name: NAME, namespace: ns, labels },
      automountServiceAccountToken: true,
    });
    new k8s.KubeClusterRole(this, "runner", {
      metadata: { name: role, labels },
      rules: [
        { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get", "list", "watch", "create", "delete"] },
        { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list", "watch", "update"] },
        { apiGroups: ["storage.k8s.io"], resources: ["storageclasses"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["events"], verbs: ["create", "update", "patch"] },
      ],
    });
    new k8s.KubeClusterRoleBinding(this, "runner-binding", {
      metadata: { name: role, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [{ kind: "ServiceAccount", name: NAME, namespace: ns }],
    });
    new k8s.KubeRole(this, "leader-locking", {
      metadata: { name: `leader-locking-${NAME}`, namespace: ns, labels },
      rules: [
        { apiGroups: [""], resources: ["endpoints"], verbs: ["get", "list", "watch", "create", "update", "patch"] },
      ],
    });
    new k8s.KubeRoleBinding(this, "leader-locking-binding", {
      metadata: { name: `leader-locking-${NAME}`, namespace: ns, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `leader-locking-${NAME}` },
      subjects: [{ kind: "ServiceAccount", name: NAME, namespace: ns }],
    });
    new k8s.KubeDeployment(this, "deployment", {
      metadata: { name: NAME, namespace: ns, labels },
      spec: {
        replicas: 1,
        strategy: { type: "Recreate" },
        selector: { matchLabels: nfsSelector(NAME, "provisioner") },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: NAME,
            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "nfs-subdir-external-provisioner",
                image: p.image ?? `${NFS_SUBDIR_IMAGE}:${p.version}`,
                imagePullPolicy: "IfNotPresent",
                env: [
                  { name: "PROVISIONER_NAME", value: p.provisionerName },
                  { name: "NFS_SERVER", value: props.serverAddress },
                  { name: "NFS_PATH", value: props.exportPath },
                  { name: "ENABLE_LEADER_ELECTION", value: "true" },
                ],
                // root on a no_root_squash export: it creates, chmods and removes the volume directories
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ["ALL"], add: ["CHOWN", "DAC_OVERRIDE", "FOWNER"] },
                },
                resources: { requests: { cpu: q("10m"), memory: q("32Mi") }, limits: { memory: q("128Mi") } },
                volumeMounts: [{ name: "nfs-client-root", mountPath: "/persistentvolumes" }],
              },
            ],
            volumes: [{ name: "nfs-client-root", nfs: { server: props.serverAddress, path: props.exportPath } }],
          },
        },
      },
    });
  }
}
