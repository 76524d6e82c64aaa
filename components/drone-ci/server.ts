import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { createHash } from "crypto";
import { droneLabels, droneSelector } from "./labels";
import { DRONE_SERVER_PORT, DRONE_SERVER_SERVICE, droneServerEnv } from "./server-env";
import { DroneCiProps } from "./spec";

const q = (v: string) => k8s.Quantity.fromString(v);
const CONFIG = "drone-server-env";
const SECRET = "drone-server-secrets";
const PVC = "drone-server-data";

/**
 * The Drone server: env split into a ConfigMap and a Secret, SQLite on a PVC (or an external database), a
 * non-root Deployment with /healthz probes, a Service on 80, an optional Ingress, and a NetworkPolicy that lets
 * only the runners, the git service (webhooks), the ingress controller and `allowFrom` networks reach it.
 */
export class DroneServer extends Construct {
  constructor(scope: Construct, id: string, props: DroneCiProps) {
    super(scope, id);
    const { spec } = props;
    const ns = spec.namespace;
    const labels = droneLabels("server");
    const env = droneServerEnv(props);
    const sqlite = spec.server.database.driver === "sqlite3";

    new k8s.KubeConfigMap(this, "env", { metadata: { name: CONFIG, namespace: ns, labels }, data: env.config });
    new k8s.KubeSecret(this, "secrets", {
      metadata: { name: SECRET, namespace: ns, labels },
      type: "Opaque",
      stringData: env.secret,
    });
    new k8s.KubeServiceAccount(this, "sa", {
      metadata: { name: DRONE_SERVER_SERVICE, namespace: ns, labels },
      automountServiceAccountToken: false,
    });
    if (sqlite) {
      new k8s.KubePersistentVolumeClaim(this, "data", {
        metadata: { name: PVC, namespace: ns, labels },
        spec: {
          accessModes: ["ReadWriteOnce"],
          ...(spec.server.storage.storageClassName ? { storageClassName: spec.server.storage.storageClassName } : {}),
          resources: { requests: { storage: q(spec.server.storage.size) } },
        },
      });
    }
    const checksum = createHash("sha256").update(JSON.stringify(env)).digest("hex");
    new k8s.KubeDeployment(this, "deployment", {
      metadata: { name: DRONE_SERVER_SERVICE, namespace: ns, labels },
      spec: {
        replicas: 1,
        strategy: { type: "Recreate" },
        selector: { matchLabels: droneSelector("server") },
        template: {
          metadata: { labels, annotations: { "edgecloud.io/env-checksum": checksum } },
          spec: {
            serviceAccountName: DRONE_SERVER_SERVICE,
            automountServiceAccountToken: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 1000,
              runAsGroup: 1000,
              fsGroup: 1000,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: "server",
                image: spec.server.image,
                imagePullPolicy: "IfNotPresent",
                ports: [{ name: "http", containerPort: DRONE_SERVER_PORT, protocol: "TCP" }],
                envFrom: [{ configMapRef: { name: CONFIG } }, { secretRef: { name: SECRET } }],
                readinessProbe: {
                  httpGet: { path: "/healthz", port: k8s.IntOrString.fromString("http") },
                  periodSeconds: 10,
                },
                livenessProbe: {
                  httpGet: { path: "/healthz", port: k8s.IntOrString.fromString("http") },
                  periodSeconds: 20,
                  failureThreshold: 6,
                },
                resources: { requests: { cpu: q("50m"), memory: q("64Mi") }, limits: { memory: q("512Mi") } },
                securityContext: {
                  readOnlyRootFilesystem: true,
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ["ALL"] },
                },
                volumeMounts: [
                  ...(sqlite ? [{ name: "data", mountPath: "/data" }] : []),
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              ...(sqlite ? [{ name: "data", persistentVolumeClaim: { claimName: PVC } }] : []),
              { name: "tmp", emptyDir: {} },
            ],
          },
        },
      },
    });
    new k8s.KubeService(this, "service", {
      metadata: { name: DRONE_SERVER_SERVICE, namespace: ns, labels },
      spec: {
        type: "ClusterIP",
        selector: droneSelector("server"),
        ports: [{ name: "http", port: 80, targetPort: k8s.IntOrString.fromString("http"), protocol: "TCP" }],
      },
    });
    const ingress = spec.server.ingress;
    const hostname = spec.server.host.replace(/:\d+$/, "");
    if (ingress) {
      new k8s.KubeIngress(this, "ingress", {
        metadata: { name: DRONE_SERVER_SERVICE, namespace: ns, labels },
        spec: {
          ...(ingress.className ? { ingressClassName: ingress.className } : {}),
          ...(ingress.tlsSecretName ? { tls: [{ hosts: [hostname], secretName: ingress.tlsSecretName }] } : {}),
          rules: [
            {
              host: hostname,
              http: {
                paths: [
                  {
                    path: "/",
                    pathType: "Prefix",
                    backend: { service: { name: DRONE_SERVER_SERVICE, port: { name: "http" } } },
                  },
                ],
              },
            },
          ],
        },
      });
    }
    const from: k8s.NetworkPolicyPeer[] = [
      // the RPC (/rpc/v2) shares the HTTP port: runners are let in by namespace
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": spec.runner.namespace } },
        podSelector: { matchLabels: droneSelector("runner") },
      },
      ...(spec.git
        ? [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": spec.git.namespace } },
              podSelector: { matchLabels: droneSelector(spec.git.kind) },
            },
          ]
        : []),
      ...(ingress
        ? [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ingress.controllerNamespace } } }]
        : []),
      ...spec.server.allowFrom.map((cidr) => ({ ipBlock: { cidr } })),
    ];
    new k8s.KubeNetworkPolicy(this, "network-policy", {
      metadata: { name: DRONE_SERVER_SERVICE, namespace: ns, labels },
      spec: {
        podSelector: { matchLabels: droneSelector("server") },
        policyTypes: ["Ingress"],
        ingress: [{ from, ports: [{ protocol: "TCP", port: k8s.IntOrString.fromNumber(DRONE_SERVER_PORT) }] }],
      },
    });
  }
}
