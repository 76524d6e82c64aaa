import { ApiObject, App, Chart } from "cdk8s";
import { newChart } from "../../lib/manifests/chart";
import { KubeObject } from "../../lib/manifests/kube-object";
import { EdgeXServiceData, imageFor, LOOPBACK_DIR, MOSQUITTO_CONF } from "./release-data";
import {
  dataVolumeName,
  dependenciesOf,
  entryServices,
  envContext,
  LOOPBACK_CONFIGMAP,
  mountsLoopback,
  gated,
  INIT_VOLUME,
  probeSpec,
  releaseOf,
  scratchVolumeName,
  SECRETS_VOLUME,
  selectedServices,
  serviceContainer,
  serviceName,
  sharedVolumeName,
  sharedVolumes,
} from "./services";
import { EdgeXStackProps } from "./spec";

const PART_OF = { "app.kubernetes.io/part-of": "edgex" } as const;
/** Label every EdgeX pod carries (edgex-helm's convention). */
export const SERVICE_LABEL = "org.edgexfoundry.service";
const STATEFUL_ROLES = new Set(["secretstore", "registry", "database", "broker", "gateway-db"]);

/** EdgeX Foundry as a cdk8s chart: single-pod DaemonSet(s) or per-service Deployments, plus NetworkPolicies. */
export function edgeXChart(props: EdgeXStackProps, app?: App): Chart {
  const chart = newChart(app, `edgex-${props.spec.namespace}`);
  for (const o of edgeXObjects(props)) new ApiObject(chart, `${o.kind}-${o.metadata.name}`, o);
  return chart;
}

/** The objects of {@link edgeXChart}, namespace first. */
export function edgeXObjects(props: EdgeXStackProps): KubeObject[] {
  const selected = selectedServices(props);
  const ns = props.spec.namespace;
  const hostPath = props.persistence.kind === "hostPath";
  const privileged = hostPath || (props.spec.placement === "single-pod" && props.spec.network === "host");
  const namespace: KubeObject = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: ns,
      labels: {
        ...PART_OF,
        "pod-security.kubernetes.io/enforce": privileged ? "privileged" : "baseline",
        "pod-security.kubernetes.io/warn": "restricted",
      },
    },
  };
  const workloads =
    props.spec.placement === "single-pod" ? singlePodObjects(props, selected) : perServiceObjects(props, selected);
  return [namespace, ...loopbackConfigMap(props, selected), ...workloads, ...networkPolicies(props, selected)];
}

/**
 * The broker's configuration (a listener on its bind address, anonymous: only the pod or the namespace reaches it)
 * and, on the host network, the shims that put upstream's hard-coded wildcard listeners on 127.0.0.1.
 */
function loopbackConfigMap(props: EdgeXStackProps, selected: readonly EdgeXServiceData[]): KubeObject[] {
  const entries = new Set(entryServices(props, selected).map((s) => s.key));
  const users = selected.filter((s) => mountsLoopback(props, s, entries.has(s.key)));
  if (users.length === 0) return [];
  const broker = selected.find((s) => s.role === "broker");
  const bind = broker ? envContext(props, broker, entries.has(broker.key)).bind : "127.0.0.1";
  return [
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: LOOPBACK_CONFIGMAP, namespace: props.spec.namespace, labels: PART_OF },
      data: {
        "mosquitto.conf": [
          `listener 1883 ${bind}`,
          "allow_anonymous true",
          "persistence true",
          "persistence_location /mosquitto/data/",
          "",
        ].join("\n"),
        // the redis image's docker-entrypoint.sh execs `redis-server` from PATH: this one adds the loopback bind
        "redis-server": '#!/bin/sh\nexec /usr/local/bin/redis-server "$@" --bind 127.0.0.1\n',
        // setupMessageBusCreds wrote `listener 1883` (edgex-go v4.0.1 internal/security/bootstrapper/mosquitto/handlers)
        "mosquitto-loopback.sh": [
          "#!/bin/sh",
          "set -e",
          "sed -i 's/^listener \\([0-9]*\\)[[:space:]]*$/listener \\1 127.0.0.1/' /mosquitto/config/mosquitto.conf",
          "exec /docker-entrypoint.sh /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf",
          "",
        ].join("\n"),
      },
    },
  ];
}

function loopbackVolume(): Record<string, unknown> {
  return {
    name: LOOPBACK_CONFIGMAP,
    configMap: {
      name: LOOPBACK_CONFIGMAP,
      items: [
        { key: "mosquitto.conf", path: MOSQUITTO_CONF.slice(LOOPBACK_DIR.length + 1), mode: 0o444 },
        { key: "redis-server", path: "bin/redis-server", mode: 0o555 },
        { key: "mosquitto-loopback.sh", path: "mosquitto-loopback.sh", mode: 0o555 },
      ],
    },
  };
}

/** Init containers that copy an image's directory into a shared volume (`prefill`) when it is still empty of it. */
function prefillContainers(
  props: EdgeXStackProps,
  selected: readonly EdgeXServiceData[],
  arch: "amd64" | "arm64",
  volumes: readonly string[],
  mountOf: (name: string, path: string) => Record<string, unknown>,
): Record<string, unknown>[] {
  if (!props.spec.security) return [];
  return selected.flatMap((s) =>
    (s.prefill ?? [])
      .filter((p) => volumes.includes(p.name))
      .map((p) => ({
        name: `prefill-${p.name}`.slice(0, 63),
        image: imageFor(s.image, arch),
        imagePullPolicy: "IfNotPresent",
        command: ["sh", "-c", `cp -Rn ${p.from}/. /prefill/`],
        resources: { requests: { cpu: "10m", memory: "8Mi" }, limits: { memory: "32Mi" } },
        securityContext: {
          ...(s.user ? { runAsNonRoot: true, runAsUser: s.user.uid, runAsGroup: s.user.gid } : {}),
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        },
        volumeMounts: [mountOf(p.name, "/prefill")],
      })),
  );
}

/** Per-arch groups: releases with `-arm64` image names need one workload per arch, multi-arch releases one. */
function archGroups(
  props: EdgeXStackProps,
  selected: readonly EdgeXServiceData[],
): { arch: "amd64" | "arm64"; selector: boolean }[] {
  const suffix = selected.some((s) => s.image.arch === "suffix");
  return suffix ? props.arches.map((arch) => ({ arch, selector: true })) : [{ arch: props.arches[0], selector: false }];
}

function podSecurity(): Record<string, unknown> {
  return { fsGroup: 2001, seccompProfile: { type: "RuntimeDefault" } };
}

function dataVolume(props: EdgeXStackProps, s: EdgeXServiceData): Record<string, unknown> {
  const p = props.persistence;
  if (p.kind === "hostPath")
    return {
      name: dataVolumeName(s),
      hostPath: { path: `${p.path}/${props.spec.namespace}/${s.key}`, type: "DirectoryOrCreate" },
    };
  if (p.kind === "pvc") return { name: dataVolumeName(s), persistentVolumeClaim: { claimName: dataVolumeName(s) } };
  return { name: dataVolumeName(s), emptyDir: {} };
}

function scratchVolumes(s: EdgeXServiceData): Record<string, unknown>[] {
  return (s.writable ?? []).map((_, i) => ({ name: scratchVolumeName(s, i), emptyDir: {} }));
}

/** hostPath directories are created root-owned: hand them to the service's user first. */
function volumePermissions(
  props: EdgeXStackProps,
  services: readonly EdgeXServiceData[],
): Record<string, unknown> | undefined {
  if (props.persistence.kind !== "hostPath") return undefined;
  const owned = services.filter((s) => s.dataDir && s.user);
  if (owned.length === 0) return undefined;
  return {
    name: "volume-permissions",
    image: props.spec.helperImage,
    command: ["sh", "-c", owned.map((s) => `chown -R ${s.user!.uid}:${s.user!.gid} /data/${s.key}`).join(" && ")],
    resources: { requests: { cpu: "10m", memory: "8Mi" }, limits: { memory: "32Mi" } },
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"], add: ["CHOWN", "DAC_OVERRIDE", "FOWNER"] },
    },
    volumeMounts: owned.map((s) => ({ name: dataVolumeName(s), mountPath: `/data/${s.key}` })),
  };
}

/**
 * Single-pod: native sidecars (init containers with restartPolicy Always, gated by startup probes) start the secret
 * store, registry, database and broker in order, run-once setup steps run between them, then the core, support,
 * rules and device services start — all on localhost. One DaemonSet over the node group: one instance per node.
 */
function singlePodObjects(props: EdgeXStackProps, selected: readonly EdgeXServiceData[]): KubeObject[] {
  const entries = new Set(entryServices(props, selected).map((s) => s.key));
  const gates = gated(props);
  // Gated (v3/v4 with security): the bootstrapper starts first (its scripts fill /edgex-init), then everything at
  // once — the stage gates order the rest, as in compose. Otherwise: the stateful services start first as sidecars,
  // and a sidecar must not wait for a main container, so every dependency of a sidecar or job becomes one too.
  const sidecars = new Set(
    gates
      ? [releaseOf(props).stageGate!.bootstrapper]
      : selected.filter((s) => !s.job && STATEFUL_ROLES.has(s.role)).map((s) => s.key),
  );
  for (let changed = !gates; changed;) {
    changed = false;
    for (const s of selected) {
      if (!(s.job || sidecars.has(s.key))) continue;
      for (const d of dependenciesOf(s, selected)) {
        if (!d.job && !sidecars.has(d.key)) {
          sidecars.add(d.key);
          changed = true;
        }
      }
    }
  }
  const hostNetwork = props.spec.network === "host";
  const labels = {
    ...PART_OF,
    "app.kubernetes.io/name": "edgex",
    "app.kubernetes.io/instance": props.spec.namespace,
    "org.edgexfoundry.release": props.spec.release,
  };
  const perms = volumePermissions(props, selected);
  return archGroups(props, selected).map(({ arch, selector }) => {
    const container = (s: EdgeXServiceData) => {
      const c = serviceContainer(props, s, arch, entries.has(s.key)) as Record<string, unknown> & {
        ports?: Record<string, unknown>[];
      };
      // one pod holds every service: port names must be unique across its containers (`http` is everyone's name)
      if (c.ports)
        c.ports = c.ports.map((p) => ({
          ...p,
          name: `${String(p.name).slice(0, 9)}-${String(p.containerPort)}`.slice(0, 15),
        }));
      if (entries.has(s.key) && !hostNetwork && c.ports)
        c.ports = c.ports.map((p) => ({ ...p, hostPort: p.containerPort }));
      return c;
    };
    const init = selected
      .filter((s) => (s.job && !gates) || sidecars.has(s.key))
      .map((s) => {
        const c = container(s);
        if (s.job) return c;
        return {
          ...c,
          restartPolicy: "Always",
          ...(s.probe ? { startupProbe: { ...probeSpec(s.probe), periodSeconds: 2, failureThreshold: 150 } } : {}),
        };
      });
    const main = selected.filter((s) => !(s.job && !gates) && !sidecars.has(s.key)).map(container);
    const name = selector ? `edgex-${arch}` : "edgex";
    return {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name, namespace: props.spec.namespace, labels },
      spec: {
        selector: {
          matchLabels: {
            "app.kubernetes.io/name": "edgex",
            "app.kubernetes.io/instance": props.spec.namespace,
            ...(selector ? { "kubernetes.io/arch": arch } : {}),
          },
        },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: { ...labels, ...(selector ? { "kubernetes.io/arch": arch } : {}) } },
          spec: {
            nodeSelector: { ...props.spec.nodeSelector, ...(selector ? { "kubernetes.io/arch": arch } : {}) },
            ...(props.spec.tolerations.length > 0 ? { tolerations: props.spec.tolerations } : {}),
            hostNetwork,
            dnsPolicy: hostNetwork ? "ClusterFirstWithHostNet" : "ClusterFirst",
            automountServiceAccountToken: false,
            // Kubernetes' service-link variables (EDGEX_CORE_DATA_PORT=tcp://…) would collide with EdgeX's env overrides
            enableServiceLinks: false,
            securityContext: podSecurity(),
            terminationGracePeriodSeconds: 30,
            initContainers: [
              ...(perms ? [perms] : []),
              ...prefillContainers(props, selected, arch, sharedVolumes(props, selected), (n, path) => ({
                name: sharedVolumeName(n),
                mountPath: path,
              })),
              ...init,
            ],
            containers: main,
            volumes: [
              ...selected.flatMap(scratchVolumes),
              ...selected.filter((s) => s.dataDir).map((s) => dataVolume(props, s)),
              ...(props.spec.security
                ? [{ name: SECRETS_VOLUME, emptyDir: { medium: "Memory", sizeLimit: "16Mi" } }]
                : []),
              ...(gates ? [{ name: INIT_VOLUME, emptyDir: {} }] : []),
              ...sharedVolumes(props, selected).map((n) => sharedVolume(props, n)),
              ...(selected.some((s) => mountsLoopback(props, s, entries.has(s.key))) ? [loopbackVolume()] : []),
            ],
          },
        },
      },
    };
  });
}

/**
 * A compose named volume in single-pod mode: an emptyDir, except the secret store's config folder, which holds the
 * root token and unseal keys next to the data they open — persisted with it (hostPath) so that a recreated pod does
 * not find a sealed store without keys.
 */
function sharedVolume(props: EdgeXStackProps, name: string): Record<string, unknown> {
  const p = props.persistence;
  if (name === "secret-store-config" && p.kind === "hostPath")
    return {
      name: sharedVolumeName(name),
      hostPath: { path: `${p.path}/${props.spec.namespace}/${name}`, type: "DirectoryOrCreate" },
    };
  return { name: sharedVolumeName(name), emptyDir: {} };
}

/** Per-service: one Deployment (+ Service when it listens) per service, run-once steps as Jobs, waits as init containers. */
function perServiceObjects(props: EdgeXStackProps, selected: readonly EdgeXServiceData[]): KubeObject[] {
  const ns = props.spec.namespace;
  const entries = new Set(entryServices(props, selected).map((s) => s.key));
  const [{ arch, selector }] = archGroups(props, selected);
  const objects: KubeObject[] = [];
  if (props.spec.security && props.spec.secretsVolume) {
    objects.push({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: SECRETS_VOLUME, namespace: ns, labels: PART_OF },
      // explicit: the StorageClass named in secretsVolume must offer ReadWriteMany; it holds the tokens, and with
      // stage gates the bootstrapper's scripts (edgex-init) and the volumes compose shares between services
      spec: {
        accessModes: ["ReadWriteMany"],
        storageClassName: props.spec.secretsVolume.storageClassName,
        resources: { requests: { storage: props.spec.secretsVolume.size } },
      },
    });
  }
  for (const s of selected) {
    const name = serviceName(s.key);
    const labels = {
      ...PART_OF,
      [SERVICE_LABEL]: name,
      "app.kubernetes.io/name": name,
      "app.kubernetes.io/instance": ns,
    };
    // gated: the wrappers wait on the bootstrapper's stage gates instead
    const waits = (gated(props) ? [] : dependenciesOf(s, selected))
      .filter((d) => d.ports.length > 0)
      .map((d) => ({
        name: `wait-${d.key}`.slice(0, 63),
        image: props.spec.helperImage,
        command: [
          "sh",
          "-c",
          `until nc -z ${serviceName(d.key)} ${d.ports[0].port}; do echo waiting for ${serviceName(d.key)}; sleep 2; done`,
        ],
        resources: { requests: { cpu: "5m", memory: "8Mi" }, limits: { memory: "16Mi" } },
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 65534,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        },
      }));
    const volumes = [
      ...scratchVolumes(s),
      ...(s.dataDir ? [dataVolume(props, s)] : []),
      ...(props.spec.security ? [{ name: SECRETS_VOLUME, persistentVolumeClaim: { claimName: SECRETS_VOLUME } }] : []),
      ...(mountsLoopback(props, s, entries.has(s.key)) ? [loopbackVolume()] : []),
    ];
    // the shared volumes are subdirectories of the one ReadWriteMany claim
    const prefill = prefillContainers(
      props,
      selected,
      arch,
      (s.shared ?? []).map((v) => v.name),
      (n, path) => ({ name: SECRETS_VOLUME, mountPath: path, subPath: `shared/${n}` }),
    );
    if (s.dataDir && props.persistence.kind === "pvc") {
      objects.push({
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: dataVolumeName(s), namespace: ns, labels },
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName: props.persistence.storageClassName,
          resources: { requests: { storage: props.persistence.size } },
        },
      });
    }
    const podSpec = {
      nodeSelector: { ...props.spec.nodeSelector, ...(selector ? { "kubernetes.io/arch": arch } : {}) },
      ...(props.spec.tolerations.length > 0 ? { tolerations: props.spec.tolerations } : {}),
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: podSecurity(),
      ...(waits.length + prefill.length > 0 ? { initContainers: [...prefill, ...waits] } : {}),
      containers: [serviceContainer(props, s, arch, entries.has(s.key))],
      ...(volumes.length > 0 ? { volumes } : {}),
    };
    if (s.job) {
      objects.push({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name, namespace: ns, labels },
        spec: {
          backoffLimit: 20,
          template: { metadata: { labels }, spec: { ...podSpec, restartPolicy: "OnFailure" } },
        },
      });
      continue;
    }
    objects.push({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: ns, labels },
      spec: {
        replicas: 1,
        // RWO volumes and singleton services: never two at once
        strategy: { type: "Recreate" },
        selector: { matchLabels: { [SERVICE_LABEL]: name } },
        template: { metadata: { labels }, spec: podSpec },
      },
    });
    if (s.ports.length > 0) {
      const entry = entries.has(s.key);
      objects.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, namespace: ns, labels },
        spec: {
          type: entry ? (props.spec.security ? props.spec.gateway.serviceType : "NodePort") : "ClusterIP",
          selector: { [SERVICE_LABEL]: name },
          ports: s.ports.map((p) => ({
            name: p.name.slice(0, 15),
            port: p.port,
            targetPort: p.port,
            protocol: p.protocol ?? "TCP",
          })),
        },
      });
    }
  }
  return objects;
}

/**
 * Ingress is denied by default; pods of the namespace reach each other; only the entry services (the gateway with
 * security on) accept traffic from outside, on their ports, from `gateway.allowedCidrs`. The database, registry,
 * secret store and broker are thereby unreachable from outside the namespace, whatever their Service type.
 */
export function networkPolicies(props: EdgeXStackProps, selected: readonly EdgeXServiceData[]): KubeObject[] {
  const ns = props.spec.namespace;
  const entries = entryServices(props, selected);
  const policies: KubeObject[] = [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "edgex-default-deny-ingress", namespace: ns, labels: PART_OF },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "edgex-allow-same-namespace", namespace: ns, labels: PART_OF },
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }] }] },
    },
  ];
  const from = props.spec.gateway.allowedCidrs.map((cidr) => ({ ipBlock: { cidr } }));
  if (props.spec.placement === "single-pod" && entries.length > 0) {
    policies.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "edgex-allow-entry", namespace: ns, labels: PART_OF },
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "edgex" } },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from,
            ports: entries.flatMap((s) => s.ports.map((p) => ({ port: p.port, protocol: p.protocol ?? "TCP" }))),
          },
        ],
      },
    });
  }
  if (props.spec.placement === "per-service") {
    for (const s of entries) {
      policies.push({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: `allow-entry-${serviceName(s.key)}`.slice(0, 63), namespace: ns, labels: PART_OF },
        spec: {
          podSelector: { matchLabels: { [SERVICE_LABEL]: serviceName(s.key) } },
          policyTypes: ["Ingress"],
          ingress: [{ from, ports: s.ports.map((p) => ({ port: p.port, protocol: p.protocol ?? "TCP" })) }],
        },
      });
    }
  }
  return policies;
}

/** Where the stack is reached from outside: `<node>:<port>` per entry service. */
export function entryPoints(props: EdgeXStackProps): { service: string; ports: number[] }[] {
  const selected = selectedServices(props);
  return entryServices(props, selected).map((s) => ({
    service: serviceName(s.key),
    ports: s.ports.map((p) => p.port),
  }));
}

export { releaseOf };
