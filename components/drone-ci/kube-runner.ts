import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { droneLabels, droneSelector } from "./labels";
import { droneRpcHost } from "./server-env";
import { DroneCiProps } from "./spec";

const q = (v: string) => k8s.Quantity.fromString(v);
const NAME = "drone-runner-kube";

/**
 * drone-runner-kube: runs each pipeline as a pod in `buildNamespace`, with a Role/RoleBinding there only (no
 * cluster-wide rights). Its image declares no USER (drone-runners/drone-runner-kube v1.0.0-rc.5
 * docker/Dockerfile.linux.amd64: a static binary and the CA bundle on alpine), so it runs as nobody here, with a
 * read-only root filesystem: it only talks to the Drone server and the API server.
 */
export class KubeRunner extends Construct {
  constructor(scope: Construct, id: string, props: DroneCiProps) {
    super(scope, id);
    const r = props.spec.runner;
    if (r.kind !== "kube") throw new Error("KubeRunner needs runner.kind kube");
    const ns = r.namespace;
    const labels = droneLabels("runner");
    new k8s.KubeServiceAccount(this, "sa", {
      metadata: { name: NAME, namespace: ns, labels },
      automountServiceAccountToken: true,
    });
    new k8s.KubeRole(this, "builds-role", {
      metadata: { name: NAME, namespace: r.buildNamespace, labels },
      rules: [
        {
          apiGroups: [""],
          resources: ["pods"],
          verbs: ["create", "delete", "get", "list", "watch", "update", "patch"],
        },
        { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
        { apiGroups: [""], resources: ["secrets", "configmaps"], verbs: ["create", "delete", "get", "update"] },
      ],
    });
    new k8s.KubeRoleBinding(this, "builds-binding", {
      metadata: { name: NAME, namespace: r.buildNamespace, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: NAME },
      subjects: [{ kind: "ServiceAccount", name: NAME, namespace: ns }],
    });
    new k8s.KubeSecret(this, "secrets", {
      metadata: { name: `${NAME}-secrets`, namespace: ns, labels },
      type: "Opaque",
      stringData: { DRONE_RPC_SECRET: props.rpcSecret },
    });
    new k8s.KubeConfigMap(this, "env", {
      metadata: { name: `${NAME}-env`, namespace: ns, labels },
      data: {
        DRONE_RPC_HOST: droneRpcHost(props),
        DRONE_RPC_PROTO: "http",
        DRONE_RUNNER_CAPACITY: String(r.capacity),
        DRONE_NAMESPACE_DEFAULT: r.buildNamespace,
      },
    });
    // Nothing connects to a runner (it dials the Drone server's RPC; dockerd listens on the pod's loopback only):
    // every ingress is refused. Egress stays open: builds fetch from wherever their pipelines say.
    new k8s.KubeNetworkPolicy(this, "network-policy", {
      metadata: { name: NAME, namespace: ns, labels },
      spec: { podSelector: { matchLabels: droneSelector("runner") }, policyTypes: ["Ingress"], ingress: [] },
    });
    new k8s.KubeDeployment(this, "deployment", {
      metadata: { name: NAME, namespace: ns, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: droneSelector("runner") },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: NAME,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65534,
              runAsGroup: 65534,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: "runner",
                image: r.image,
                imagePullPolicy: "IfNotPresent",
                envFrom: [{ configMapRef: { name: `${NAME}-env` } }, { secretRef: { name: `${NAME}-secrets` } }],
                env: [{ name: "DRONE_RUNNER_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
                ports: [{ name: "http", containerPort: 3000, protocol: "TCP" }],
                resources: { requests: { cpu: q("50m"), memory: q("64Mi") }, limits: { memory: q("256Mi") } },
                securityContext: {
                  readOnlyRootFilesystem: true,
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ["ALL"] },
                },
              },
            ],
          },
        },
      },
    });
  }
}
