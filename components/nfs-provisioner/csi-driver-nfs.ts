import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { nfsLabels, nfsSelector } from "./labels";
import { NfsProvisionerProps } from "./spec";
import { CSI_NFS_DRIVER } from "./storage-class";
import { csiDriverNfsImages } from "./versions";
import { AVOID_EDGE_NODES } from "../../lib/k3s/node-roles";

const NAME = "csi-driver-nfs";
const CONTROLLER_SA = "csi-nfs-controller-sa";
const NODE_SA = "csi-nfs-node-sa";
const q = (v: string) => k8s.Quantity.fromString(v);

/**
 * kubernetes-csi/csi-driver-nfs: the CSIDriver, the controller (provisioner sidecar; resizer when the class allows
 * expansion) and the node plugin DaemonSet with a Bidirectional mount into kubelet's pods directory. RBAC is
 * narrower than upstream's: no snapshot rules (no snapshot CRDs are installed), no secret reads (the class uses
 * no secret parameters), leader-election leases in a namespaced Role.
 */
/** The resizer flag that keeps it from needing pods list/watch. */
export const RESIZER_INUSE_FLAG = "--handle-volume-inuse-error=false";

export class CsiDriverNfs extends Construct {
  constructor(scope: Construct, id: string, props: NfsProvisionerProps) {
    super(scope, id);
    const p = props.spec.provisioner;
    if (p.kind !== "csi-driver-nfs") throw new Error("CsiDriverNfs needs provisioner.kind csi-driver-nfs");
    const ns = props.spec.namespace;
    const images = { ...csiDriverNfsImages(p.version), ...p.images };
    const resizer = props.spec.storageClass.allowVolumeExpansion;
    const labels = (c: string) => ({ ...nfsLabels(NAME, c), "app.kubernetes.io/version": p.version });
    const kubelet = p.kubeletDir;

    new k8s.KubeCsiDriver(this, "driver", {
      metadata: { name: CSI_NFS_DRIVER, labels: labels("driver") },
      spec: { attachRequired: false, volumeLifecycleModes: ["Persistent"], fsGroupPolicy: "File" },
    });
    new k8s.KubeServiceAccount(this, "controller-sa", {
      metadata: { name: CONTROLLER_SA, namespace: ns, labels: labels("controller") },
      automountServiceAccountToken: true,
    });
    new k8s.KubeServiceAccount(this, "node-sa", {
      metadata: { name: NODE_SA, namespace: ns, labels: labels("node") },
      automountServiceAccountToken: false,
    });

    const rules: k8s.PolicyRule[] = [
      {
        apiGroups: [""],
        resources: ["persistentvolumes"],
        verbs: ["get", "list", "watch", "create", "delete", ...(resizer ? ["patch"] : [])],
      },
      { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list", "watch", "update"] },
      ...(resizer ? [{ apiGroups: [""], resources: ["persistentvolumeclaims/status"], verbs: ["patch"] }] : []),
      { apiGroups: ["storage.k8s.io"], resources: ["storageclasses", "csinodes"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch", "create", "update", "patch"] },
    ];
    new k8s.KubeClusterRole(this, "controller-role", {
      metadata: { name: "edgecloud-csi-nfs-controller", labels: labels("controller") },
      rules,
    });
    new k8s.KubeClusterRoleBinding(this, "controller-binding", {
      metadata: { name: "edgecloud-csi-nfs-controller", labels: labels("controller") },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edgecloud-csi-nfs-controller" },
      subjects: [{ kind: "ServiceAccount", name: CONTROLLER_SA, namespace: ns }],
    });
    new k8s.KubeRole(this, "leader-election-role", {
      metadata: { name: "csi-nfs-leader-election", namespace: ns, labels: labels("controller") },
      rules: [
        {
          apiGroups: ["coordination.k8s.io"],
          resources: ["leases"],
          verbs: ["get", "list", "watch", "create", "update", "patch"],
        },
      ],
    });
    new k8s.KubeRoleBinding(this, "leader-election-binding", {
      metadata: { name: "csi-nfs-leader-election", namespace: ns, labels: labels("controller") },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "csi-nfs-leader-election" },
      subjects: [{ kind: "ServiceAccount", name: CONTROLLER_SA, namespace: ns }],
    });

    const socket: k8s.VolumeMount = { name: "socket-dir", mountPath: "/csi" };
    const sidecarSecurity: k8s.SecurityContext = {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    };
    const pluginSecurity: k8s.SecurityContext = {
      privileged: true,
      allowPrivilegeEscalation: true,
      capabilities: { add: ["SYS_ADMIN"] },
    };
    const small = { requests: { cpu: q("10m"), memory: q("20Mi") }, limits: { memory: q("100Mi") } };
    const plugin = (healthPort: number): k8s.Container => ({
      name: "nfs",
      image: images.nfsplugin,
      imagePullPolicy: "IfNotPresent",
      args: ["--v=2", "--nodeid=$(NODE_ID)", "--endpoint=$(CSI_ENDPOINT)"],
      env: [
        { name: "NODE_ID", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
        { name: "CSI_ENDPOINT", value: "unix:///csi/csi.sock" },
      ],
      ports: [{ name: "healthz", containerPort: healthPort, protocol: "TCP" }],
      // the liveness-probe sidecar listens on localhost only; with hostNetwork kubelet reaches it there
      livenessProbe: {
        httpGet: { host: "localhost", path: "/healthz", port: k8s.IntOrString.fromString("healthz") },
        initialDelaySeconds: 30,
        timeoutSeconds: 10,
        periodSeconds: 30,
        failureThreshold: 5,
      },
      securityContext: pluginSecurity,
      resources: { requests: { cpu: q("10m"), memory: q("20Mi") }, limits: { memory: q("300Mi") } },
      volumeMounts: [
        socket,
        { name: "pods-mount-dir", mountPath: `${kubelet}/pods`, mountPropagation: "Bidirectional" },
      ],
    });
    const liveness = (healthPort: number): k8s.Container => ({
      name: "liveness-probe",
      image: images.livenessProbe,
      imagePullPolicy: "IfNotPresent",
      args: ["--csi-address=/csi/csi.sock", "--probe-timeout=3s", `--http-endpoint=localhost:${healthPort}`, "--v=2"],
      securityContext: sidecarSecurity,
      resources: small,
      volumeMounts: [socket],
    });
    const podBase = {
      hostNetwork: true,
      dnsPolicy: "ClusterFirstWithHostNet",
      nodeSelector: { "kubernetes.io/os": "linux" },
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
    };

    new k8s.KubeDeployment(this, "controller", {
      metadata: { name: "csi-nfs-controller", namespace: ns, labels: labels("controller") },
      spec: {
        replicas: 1,
        strategy: { type: "Recreate" },
        selector: { matchLabels: nfsSelector(NAME, "controller") },
        template: {
          metadata: { labels: labels("controller") },
          spec: {
            ...podBase,
            serviceAccountName: CONTROLLER_SA,
            priorityClassName: "system-cluster-critical",
            tolerations: [
              { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
              { key: "node-role.kubernetes.io/master", operator: "Exists", effect: "NoSchedule" },
            ],
            containers: [
              {
                name: "csi-provisioner",
                image: images.provisioner,
                imagePullPolicy: "IfNotPresent",
                args: [
                  "-v=2",
                  "--csi-address=/csi/csi.sock",
                  "--leader-election",
                  `--leader-election-namespace=${ns}`,
                  "--extra-create-metadata=true",
                  "--timeout=1200s",
                ],
                securityContext: sidecarSecurity,
                resources: { requests: { cpu: q("10m"), memory: q("20Mi") }, limits: { memory: q("400Mi") } },
                volumeMounts: [socket],
              },
              ...(resizer
                ? [
                    {
                      name: "csi-resizer",
                      image: images.resizer,
                      imagePullPolicy: "IfNotPresent",
                      args: [
                        "-v=2",
                        "--csi-address=/csi/csi.sock",
                        "--leader-election",
                        `--leader-election-namespace=${ns}`,
                        "--timeout=1200s",
                        // by default the resizer waits for a pods informer this ClusterRole does not grant, and its
                        // controller never starts; NFS volumes resize online anyway (kubernetes-csi/csi-driver-nfs
                        // v4.13.4 deploy/v4.13.4/csi-nfs-controller.yaml passes the same flag)
                        RESIZER_INUSE_FLAG,
                      ],
                      securityContext: sidecarSecurity,
                      resources: { requests: { cpu: q("10m"), memory: q("20Mi") }, limits: { memory: q("400Mi") } },
                      volumeMounts: [socket],
                    },
                  ]
                : []),
              liveness(29652),
              plugin(29652),
            ],
            volumes: [
              { name: "pods-mount-dir", hostPath: { path: `${kubelet}/pods`, type: "Directory" } },
              { name: "socket-dir", emptyDir: {} },
            ],
          },
        },
      },
    });

    new k8s.KubeDaemonSet(this, "node", {
      metadata: { name: "csi-nfs-node", namespace: ns, labels: labels("node") },
      spec: {
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(1) } },
        selector: { matchLabels: nfsSelector(NAME, "node") },
        template: {
          metadata: { labels: labels("node") },
          spec: {
            ...podBase,
            serviceAccountName: NODE_SA,
            automountServiceAccountToken: false,
            priorityClassName: "system-node-critical",
            tolerations: [{ operator: "Exists" }],
            // tolerates every taint, so keep it off KubeEdge edge nodes explicitly
            affinity: AVOID_EDGE_NODES,
            containers: [
              liveness(29653),
              {
                name: "node-driver-registrar",
                image: images.nodeDriverRegistrar,
                imagePullPolicy: "IfNotPresent",
                args: ["--v=2", "--csi-address=/csi/csi.sock", "--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)"],
                env: [{ name: "DRIVER_REG_SOCK_PATH", value: `${kubelet}/plugins/csi-nfsplugin/csi.sock` }],
                livenessProbe: {
                  exec: {
                    command: [
                      "/csi-node-driver-registrar",
                      "--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)",
                      "--mode=kubelet-registration-probe",
                    ],
                  },
                  initialDelaySeconds: 30,
                  timeoutSeconds: 15,
                },
                securityContext: sidecarSecurity,
                resources: small,
                volumeMounts: [socket, { name: "registration-dir", mountPath: "/registration" }],
              },
              plugin(29653),
            ],
            volumes: [
              { name: "socket-dir", hostPath: { path: `${kubelet}/plugins/csi-nfsplugin`, type: "DirectoryOrCreate" } },
              { name: "pods-mount-dir", hostPath: { path: `${kubelet}/pods`, type: "Directory" } },
              { name: "registration-dir", hostPath: { path: `${kubelet}/plugins_registry`, type: "Directory" } },
            ],
          },
        },
      },
    });
  }
}
