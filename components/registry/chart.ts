import { Chart } from "cdk8s";
import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { createHash } from "crypto";
import { REGISTRY_POD_PATHS, registryConfigDir, registrySecretEnv, renderRegistryConfig } from "./config";
import { renderHtpasswd } from "./htpasswd";
import { REGISTRY_SERVER_SELECTOR, registryLabels } from "./labels";
import { REGISTRY_CONTAINER_SECURITY, REGISTRY_POD_SECURITY } from "./pod-hardening";
import { DNS_PORTS, inNamespace, KUBE_DNS_PEER, tcpPort } from "../../lib/manifests/network-policy";
import { ipVersion } from "../../lib/validation/net";
import { InClusterMode, REGISTRY_NAME, RegistryProps } from "./spec";

/** The registry's container port: distribution listens on 5000 (the seed declared 80, which nothing served). */
export const REGISTRY_PORT = 5000;

const CONFIG_MAP = `${REGISTRY_NAME}-config`;
const AUTH_SECRET = `${REGISTRY_NAME}-auth`;
const ENV_SECRET = `${REGISTRY_NAME}-env`;
const TLS_SECRET = `${REGISTRY_NAME}-tls`;
const DATA_PVC = `${REGISTRY_NAME}-data`;

/**
 * The distribution registry in the cluster: a restricted namespace, config, htpasswd/TLS/env Secrets, a PVC,
 * a hardened Deployment on port 5000 that collects garbage before it serves, a Service (ClusterIP, or NodePort),
 * an optional Ingress with a body-size limit, and a NetworkPolicy.
 */
export class RegistryChart extends Chart {
  constructor(scope: Construct, id: string, props: RegistryProps) {
    super(scope, id);
    const mode = props.spec.mode;
    if (mode.kind !== "in-cluster")
      throw new Error(`RegistryChart renders in-cluster mode only; mode is "${mode.kind}"`);
    const ns = mode.namespace;
    const tls = props.tls.kind === "tls";
    const configDir = registryConfigDir(props.spec);
    const config = renderRegistryConfig(props, REGISTRY_POD_PATHS);
    const htpasswd = props.spec.auth ? renderHtpasswd(props.users, props.httpSecret) : undefined;

    new k8s.KubeNamespace(this, "namespace", {
      metadata: {
        name: ns,
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/warn": "restricted",
        },
      },
    });
    new k8s.KubeServiceAccount(this, "service-account", {
      metadata: { name: REGISTRY_NAME, namespace: ns, labels: registryLabels("server") },
      automountServiceAccountToken: false,
    });
    new k8s.KubeConfigMap(this, "config", {
      metadata: { name: CONFIG_MAP, namespace: ns, labels: registryLabels("config") },
      data: { "config.yml": config },
    });
    new k8s.KubeSecret(this, "env", {
      metadata: { name: ENV_SECRET, namespace: ns, labels: registryLabels("config") },
      type: "Opaque",
      stringData: registrySecretEnv(props),
    });
    if (htpasswd !== undefined) {
      new k8s.KubeSecret(this, "auth", {
        metadata: { name: AUTH_SECRET, namespace: ns, labels: registryLabels("config") },
        type: "Opaque",
        stringData: { htpasswd },
      });
    }
    if (props.tls.kind === "tls") {
      new k8s.KubeSecret(this, "tls", {
        metadata: { name: TLS_SECRET, namespace: ns, labels: registryLabels("config") },
        type: "kubernetes.io/tls",
        stringData: { "tls.crt": props.tls.certPem, "tls.key": props.tls.keyPem, "ca.crt": props.tls.caPem },
      });
    }
    new k8s.KubePersistentVolumeClaim(this, "data", {
      metadata: { name: DATA_PVC, namespace: ns, labels: registryLabels("storage") },
      spec: {
        accessModes: [mode.storage.accessMode],
        ...(mode.storage.storageClassName ? { storageClassName: mode.storage.storageClassName } : {}),
        resources: { requests: { storage: k8s.Quantity.fromString(mode.storage.size) } },
      },
    });

    const volumes: k8s.Volume[] = [
      { name: "config", configMap: { name: CONFIG_MAP } },
      { name: "data", persistentVolumeClaim: { claimName: DATA_PVC } },
      { name: "tmp", emptyDir: { sizeLimit: k8s.Quantity.fromString("256Mi") } },
      ...(htpasswd !== undefined ? [{ name: "auth", secret: { secretName: AUTH_SECRET, defaultMode: 0o440 } }] : []),
      ...(tls
        ? [
            {
              name: "tls",
              secret: {
                secretName: TLS_SECRET,
                defaultMode: 0o440,
                items: [
                  { key: "tls.crt", path: "tls.crt" },
                  { key: "tls.key", path: "tls.key" },
                ],
              },
            },
          ]
        : []),
    ];
    const mounts: k8s.VolumeMount[] = [
      { name: "config", mountPath: configDir, readOnly: true },
      { name: "data", mountPath: REGISTRY_POD_PATHS.rootDirectory },
      { name: "tmp", mountPath: "/tmp" },
      ...(htpasswd !== undefined ? [{ name: "auth", mountPath: "/auth", readOnly: true }] : []),
      ...(tls ? [{ name: "tls", mountPath: "/etc/ssl/docker", readOnly: true }] : []),
    ];
    const configPath = `${configDir}/config.yml`;
    const image = `${props.spec.image}:${props.spec.version}`;
    const scheme = tls ? "HTTPS" : "HTTP";
    const ha = mode.replicas > 1;
    const checksum = createHash("sha256")
      .update(JSON.stringify([config, htpasswd ?? "", props.tls, registrySecretEnv(props)]))
      .digest("hex");

    new k8s.KubeDeployment(this, "deployment", {
      metadata: { name: REGISTRY_NAME, namespace: ns, labels: registryLabels("server") },
      spec: {
        replicas: mode.replicas,
        // A ReadWriteOnce volume cannot be attached twice: the old pod goes before the new one starts.
        // With GC at start (below), the old pod must be gone too: it would serve while the new one collects.
        // HA (replicas >= 2 on a ReadWriteMany volume): rolling, one replica at a time, GC by the CronJob below
        strategy: ha
          ? { type: "RollingUpdate", rollingUpdate: { maxUnavailable: k8s.IntOrString.fromNumber(1) } }
          : mode.storage.accessMode === "ReadWriteOnce" || props.spec.gc.enabled
            ? { type: "Recreate" }
            : { type: "RollingUpdate" },
        selector: { matchLabels: { ...REGISTRY_SERVER_SELECTOR } },
        template: {
          metadata: { labels: registryLabels("server"), annotations: { "edgecloud.io/config-checksum": checksum } },
          spec: {
            serviceAccountName: REGISTRY_NAME,
            automountServiceAccountToken: false,
            securityContext: REGISTRY_POD_SECURITY,
            ...(props.spec.gc.enabled && !ha
              ? { initContainers: [gcContainer(props, image, configPath, mounts)] }
              : {}),
            // one replica per node: losing a node loses one replica (validation keeps replicas <= K3s nodes)
            ...(ha
              ? {
                  affinity: {
                    podAntiAffinity: {
                      requiredDuringSchedulingIgnoredDuringExecution: [
                        {
                          labelSelector: { matchLabels: { ...REGISTRY_SERVER_SELECTOR } },
                          topologyKey: "kubernetes.io/hostname",
                        },
                      ],
                    },
                  },
                }
              : {}),
            containers: [
              {
                name: "registry",
                image,
                imagePullPolicy: "IfNotPresent",
                command: ["registry"],
                args: ["serve", configPath],
                ports: [{ name: "registry", containerPort: REGISTRY_PORT, protocol: "TCP" }],
                envFrom: [{ secretRef: { name: ENV_SECRET } }],
                readinessProbe: {
                  httpGet: { path: "/", port: k8s.IntOrString.fromString("registry"), scheme },
                  periodSeconds: 10,
                },
                livenessProbe: {
                  httpGet: { path: "/", port: k8s.IntOrString.fromString("registry"), scheme },
                  periodSeconds: 20,
                  failureThreshold: 6,
                },
                resources: {
                  requests: { cpu: k8s.Quantity.fromString("50m"), memory: k8s.Quantity.fromString("64Mi") },
                  limits: { memory: k8s.Quantity.fromString("512Mi") },
                },
                securityContext: REGISTRY_CONTAINER_SECURITY,
                volumeMounts: mounts,
              },
            ],
            volumes,
          },
        },
      },
    });

    new k8s.KubeService(this, "service", {
      metadata: { name: REGISTRY_NAME, namespace: ns, labels: registryLabels("server") },
      spec: {
        type: mode.nodePort !== undefined ? "NodePort" : "ClusterIP",
        selector: { ...REGISTRY_SERVER_SELECTOR },
        ports: [
          {
            name: "registry",
            port: REGISTRY_PORT,
            targetPort: k8s.IntOrString.fromString("registry"),
            protocol: "TCP",
            ...(mode.nodePort !== undefined ? { nodePort: mode.nodePort } : {}),
          },
        ],
      },
    });

    if (ha) {
      // a drain or a node upgrade takes one replica at a time
      new k8s.KubePodDisruptionBudget(this, "pdb", {
        metadata: { name: REGISTRY_NAME, namespace: ns, labels: registryLabels("server") },
        spec: {
          maxUnavailable: k8s.IntOrString.fromNumber(1),
          selector: { matchLabels: { ...REGISTRY_SERVER_SELECTOR } },
        },
      });
      if (props.spec.gc.enabled) haGc(this, props, mode, image, configPath, mounts, volumes);
    }
    if (mode.ingress) this.ingress(mode, mode.ingress, tls);
    new k8s.KubeNetworkPolicy(this, "network-policy", {
      metadata: { name: REGISTRY_NAME, namespace: ns, labels: registryLabels("server") },
      spec: registryNetworkPolicy(props, mode),
    });
  }

  private ingress(mode: InClusterMode, ingress: NonNullable<InClusterMode["ingress"]>, backendTls: boolean): void {
    new k8s.KubeIngress(this, "ingress", {
      metadata: {
        name: REGISTRY_NAME,
        namespace: mode.namespace,
        labels: registryLabels("server"),
        annotations: {
          // Image layers are large: ingress-nginx's 1m default answers 413 on push.
          "nginx.ingress.kubernetes.io/proxy-body-size": ingress.maxBodySize,
          "nginx.ingress.kubernetes.io/proxy-request-buffering": "off",
          ...(backendTls ? { "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS" } : {}),
        },
      },
      spec: {
        ...(ingress.className ? { ingressClassName: ingress.className } : {}),
        ...(ingress.tlsSecretName ? { tls: [{ hosts: [ingress.host], secretName: ingress.tlsSecretName }] } : {}),
        rules: [
          {
            host: ingress.host,
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: REGISTRY_NAME, port: { name: "registry" } } },
                },
              ],
            },
          },
        ],
      },
    });
  }
}

/**
 * Garbage collection in the registry pod's init container: it runs before the registry serves, so nothing can push
 * meanwhile — distribution requires "the registry is in read-only mode or not running at all" during GC
 * (distribution/distribution v3.0.0 docs/content/about/garbage-collection.md:83-85), and the Deployment recreates
 * (never two pods at once); validation refuses more than one replica with GC. A fresh registry process also starts
 * with an empty `inmemory` blob descriptor cache, so no deleted blob is reported as present (distribution#1803).
 * GC therefore runs at each start of the registry (a config change, a node drain, `kubectl rollout restart`).
 */
function gcContainer(
  props: RegistryProps,
  image: string,
  configPath: string,
  mounts: k8s.VolumeMount[],
): k8s.Container {
  return {
    name: "garbage-collect",
    image,
    imagePullPolicy: "IfNotPresent",
    // A fresh volume has no repositories yet, and distribution v3.0.0's garbage-collect then fails ("failed to mark:
    // filesystem: Path not found: /docker/registry/v2/repositories": registry/storage/garbagecollect.go MarkAndSweep
    // → catalog.go Enumerate walks <root>/docker/registry/v2/repositories), which would keep the registry from ever
    // starting: collect only once that directory exists. The image's /bin/sh is alpine's (distribution v3.0.0
    // Dockerfile: FROM alpine). Found by running distribution v3.0.0 in the lab (test/lab/nodes.lab.test.ts).
    command: ["/bin/sh", "-c"],
    args: [
      `if [ -d ${REGISTRY_POD_PATHS.rootDirectory}/docker/registry/v2/repositories ]; then exec registry garbage-collect${(props.spec.gc.deleteUntagged ?? true) ? " --delete-untagged" : ""} ${configPath}; fi; echo "registry: no repositories yet, nothing to collect"`,
    ],
    envFrom: [{ secretRef: { name: ENV_SECRET } }],
    resources: {
      requests: { cpu: k8s.Quantity.fromString("50m"), memory: k8s.Quantity.fromString("64Mi") },
      limits: { memory: k8s.Quantity.fromString("512Mi") },
    },
    securityContext: REGISTRY_CONTAINER_SECURITY,
    volumeMounts: mounts,
  };
}

/** The env variable that puts distribution in read-only mode: pulls are served, pushes and deletes refused. */
export const REGISTRY_READONLY_ENV = "REGISTRY_STORAGE_MAINTENANCE_READONLY";
// rancher/kubectl is kubectl alone (a static binary, no shell): every step is one kubectl command
export const KUBECTL_IMAGE = "docker.io/rancher/kubectl:v1.31.4";
const GC_NAME = `${REGISTRY_NAME}-gc`;

/**
 * GC for an HA registry, where no replica may collect at start (the others serve meanwhile): a CronJob whose pod
 * runs, in order, (1) `kubectl set env` of {@link REGISTRY_READONLY_ENV}=`{"enabled":true}` on the Deployment — every
 * replica is replaced by a read-only one, pulls keep being served ("readonly config key must contain additional
 * keys" for `_READONLY_ENABLED`: distribution/distribution#1736; the JSON map form is what openshift/origin's registry
 * tests set), (2) `kubectl rollout status` until no writable replica is left, (3) `registry garbage-collect` on
 * the shared volume — distribution's requirement that "the registry is in read-only mode or not running at all"
 * (docs/content/about/garbage-collection.md:83-85 @v3.0.0) holds — and (4) the variable removed: a rolling restart
 * whose fresh processes start with empty `inmemory` descriptor caches, so no deleted blob is reported present
 * (distribution#1803). A failed GC leaves the registry read-only (serving pulls) and the Job failed, never writable
 * during a collection.
 */
function haGc(
  scope: Construct,
  props: RegistryProps,
  mode: InClusterMode,
  image: string,
  configPath: string,
  mounts: k8s.VolumeMount[],
  volumes: k8s.Volume[],
): void {
  const ns = mode.namespace;
  const labels = registryLabels("gc");
  new k8s.KubeServiceAccount(scope, "gc-service-account", {
    metadata: { name: GC_NAME, namespace: ns, labels },
    automountServiceAccountToken: false,
  });
  new k8s.KubeRole(scope, "gc-role", {
    metadata: { name: GC_NAME, namespace: ns, labels },
    rules: [
      {
        apiGroups: ["apps"],
        resources: ["deployments"],
        resourceNames: [REGISTRY_NAME],
        verbs: ["get", "patch", "watch", "list"],
      },
      { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
    ],
  });
  new k8s.KubeRoleBinding(scope, "gc-role-binding", {
    metadata: { name: GC_NAME, namespace: ns, labels },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: GC_NAME },
    subjects: [{ kind: "ServiceAccount", name: GC_NAME, namespace: ns }],
  });
  const kubectl = (name: string, args: string[]): k8s.Container => ({
    name,
    image: KUBECTL_IMAGE,
    imagePullPolicy: "IfNotPresent",
    args: ["--namespace", ns, ...args],
    resources: {
      requests: { cpu: k8s.Quantity.fromString("10m"), memory: k8s.Quantity.fromString("32Mi") },
      limits: { memory: k8s.Quantity.fromString("128Mi") },
    },
    securityContext: REGISTRY_CONTAINER_SECURITY,
    volumeMounts: [{ name: "token", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true }],
  });
  const deployment = `deployment/${REGISTRY_NAME}`;
  new k8s.KubeCronJob(scope, "gc", {
    metadata: { name: GC_NAME, namespace: ns, labels },
    spec: {
      schedule: props.spec.gc.schedule,
      concurrencyPolicy: "Forbid",
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: 3600,
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: "Never",
              serviceAccountName: GC_NAME,
              automountServiceAccountToken: false,
              securityContext: REGISTRY_POD_SECURITY,
              initContainers: [
                kubectl("read-only", ["set", "env", deployment, `${REGISTRY_READONLY_ENV}={"enabled":true}`]),
                kubectl("wait-read-only", ["rollout", "status", deployment, "--timeout=15m"]),
                gcContainer(props, image, configPath, mounts),
              ],
              containers: [kubectl("writable", ["set", "env", deployment, `${REGISTRY_READONLY_ENV}-`])],
              volumes: [
                ...volumes,
                {
                  name: "token",
                  projected: {
                    defaultMode: 0o444,
                    sources: [
                      { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
                      { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
                      {
                        downwardApi: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] },
                      },
                    ],
                  },
                },
              ],
            },
          },
        },
      },
    },
  });
}

/**
 * Who may reach the registry, and what it may reach. In: its port only, from the nodes' addresses (containerd pulls
 * through the NodePort or a node address), from `allowFrom` (the pod CIDR: NodePort traffic from another node is
 * masqueraded to that node's pod-network address; CI pods push) and from the ingress controller's namespace when
 * there is an Ingress. Out: DNS only, plus the upstream registry's port for a pull-through cache.
 */
export function registryNetworkPolicy(props: RegistryProps, mode: InClusterMode): k8s.NetworkPolicySpec {
  const nodes = props.nodeAddresses.filter((a) => ipVersion(a) === 4).map((a) => ({ ipBlock: { cidr: `${a}/32` } }));
  const from: k8s.NetworkPolicyPeer[] = [
    ...nodes,
    ...mode.allowFrom.map((cidr) => ({ ipBlock: { cidr } })),
    ...(mode.ingress ? [inNamespace(mode.ingress.controllerNamespace)] : []),
  ];
  const proxy = props.spec.proxy;
  const upstreamPort = proxy ? Number(new URL(proxy.remoteUrl).port || 443) : undefined;
  return {
    podSelector: { matchLabels: { ...REGISTRY_SERVER_SELECTOR } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [{ from, ports: [tcpPort(REGISTRY_PORT)] }],
    egress: [
      { to: [KUBE_DNS_PEER], ports: DNS_PORTS },
      ...(upstreamPort !== undefined ? [{ ports: [tcpPort(upstreamPort)] }] : []),
    ],
  };
}
