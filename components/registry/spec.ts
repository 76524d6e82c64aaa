import { z } from "zod";
import { deferred, hasRole, Host, internalAddress } from "../../lib/hosts/host";
import { capabilityTaints } from "../../lib/hosts/capabilities";
import { osProfile } from "../../lib/platform/os";
import { IssueCollector, parseInto } from "../../lib/validation/issues";
import { cronToOnCalendar } from "./schedule";
import { dnsLabel, dnsSubdomain, imageRepository } from "../../lib/validation/kubernetes";
import { address, cidrv4, hostPort, joinHostPort } from "../../lib/validation/net";
import { ownedPath } from "../../lib/validation/paths";
import { httpsUrl } from "../../lib/validation/url";

const dnsName = dnsSubdomain;
const quantity = z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi)$/, "must be a binary quantity such as 20Gi");
/** A secret: a plain string or a Pulumi Output resolved at deploy time. */
const secret = z.union([z.string().min(1), deferred]);

/** The distribution registry inside the cluster: Deployment + PVC + Service (+ NodePort / Ingress) + GC CronJob. */
export const InClusterModeSchema = z.strictObject({
  kind: z.literal("in-cluster"),
  /** @default "registry" */
  namespace: dnsLabel.default("registry"),
  storage: z
    .strictObject({
      /** @default - the cluster's default StorageClass (the NFS class when NfsProvisioner made it the default) */
      storageClassName: dnsName.optional(),
      /** @default "20Gi" */
      size: quantity.default("20Gi"),
      /** ReadWriteOnce pins the GC CronJob next to the registry pod. @default "ReadWriteOnce" */
      accessMode: z.enum(["ReadWriteOnce", "ReadWriteMany"]).default("ReadWriteOnce"),
    })
    .default({ size: "20Gi", accessMode: "ReadWriteOnce" }),
  /** NodePort the registry is published on for the nodes' containerd (the seed uses 32500). @default - ClusterIP only */
  nodePort: z.number().int().min(30000).max(32767).optional(),
  ingress: z
    .strictObject({
      host: dnsName,
      /** @default - the cluster's default IngressClass */
      className: dnsName.optional(),
      /** nginx `proxy-body-size`; "0" is unlimited (image layers are large: the 413 complaint). @default "0" */
      maxBodySize: z
        .string()
        .regex(/^(0|\d+[kmgKMG]?)$/, "must be 0 (unlimited) or a size such as 512m")
        .default("0"),
      /** TLS Secret for the Ingress. @default - no TLS on the Ingress */
      tlsSecretName: dnsName.optional(),
      /** Namespace of the ingress controller, let through the NetworkPolicy. @default "kube-system" (K3s Traefik) */
      controllerNamespace: dnsLabel.default("kube-system"),
    })
    .optional(),
  /**
   * Networks allowed to reach the registry port besides the cluster's nodes (NetworkPolicy `ipBlock`). A NodePort
   * connection from another node arrives masqueraded to that node's pod-network address (kube-proxy marks NodePort
   * traffic for SNAT), so the cluster's pod CIDR belongs here: the environment wires `k3s.network.clusterCidr`.
   * @default []
   */
  allowFrom: z.array(cidrv4).default([]),
  /**
   * `host:port` the nodes' containerd pulls from (the K3s mirror name).
   * @default - `<first server's internal address>:<nodePort>`, else `<ingress.host>`
   */
  endpoint: hostPort.optional(),
  /** @default 1 */
  replicas: z.number().int().min(1).max(10).default(1),
});

/** The registry as a systemd service on one host (Debian's `docker-registry` package, distribution v2). */
export const HostModeSchema = z.strictObject({
  kind: z.literal("host"),
  /** Name of the host (from `hosts`) that runs the registry. */
  host: dnsLabel,
  /** @default 5000 */
  port: z.number().int().min(1).max(65535).default(5000),
  /** @default "/var/lib/docker-registry" */
  dataDir: ownedPath.default("/var/lib/docker-registry"),
});

export const RegistryUserSchema = z.strictObject({
  username: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 characters of A-Z a-z 0-9 . _ -"),
  /** Hashed with bcrypt into htpasswd. */
  password: secret,
});

export const RegistryTlsSchema = z.discriminatedUnion("kind", [
  /** A CA and a server certificate generated once and kept (secret) in state. */
  z.strictObject({
    kind: z.literal("generated"),
    /** @default 3650 */
    validityDays: z.number().int().min(1).max(36500).default(3650),
    /** Extra SANs beyond the endpoint, the Service names and the node addresses. @default [] */
    extraSans: z.array(address).default([]),
  }),
  /** A certificate you bring; `caPem` is what nodes trust. */
  z.strictObject({
    kind: z.literal("provided"),
    certPem: z.union([z.string().includes("BEGIN CERTIFICATE"), deferred]),
    keyPem: secret,
    caPem: z.union([z.string().includes("BEGIN CERTIFICATE"), deferred]),
  }),
  /** Plain HTTP; nodes get an explicit `http://` endpoint (K3s never falls back to HTTP on its own). */
  z.strictObject({ kind: z.literal("none") }),
]);

export const RegistrySpecSchema = z.strictObject({
  mode: z.discriminatedUnion("kind", [InClusterModeSchema, HostModeSchema]),
  /** distribution release (image tag) for in-cluster mode; the major picks the config path. @default "3.0.0" */
  version: z
    .string()
    .regex(/^[23]\.\d+\.\d+$/, "must be a distribution release such as 3.0.0 or 2.8.3")
    .default("3.0.0"),
  /** @default "docker.io/library/registry" */
  image: imageRepository.default("docker.io/library/registry"),
  /** htpasswd authentication; without it the registry is anonymous (push included). @default - anonymous */
  auth: z
    .strictObject({
      /** @default "edgecloud registry" */
      realm: z
        .string()
        .regex(/^[^"\n]+$/, "must not contain quotes or newlines")
        .default("edgecloud registry"),
      users: z.array(RegistryUserSchema).min(1),
      /** The user whose credentials go into every node's registries.yaml. @default - the first user */
      nodeUser: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 characters of A-Z a-z 0-9 . _ -")
        .optional(),
      /**
       * The user CI pipelines push as: with Drone in the environment, its credentials and the registry CA reach
       * every pipeline as secrets (docs/ci-pipeline.md).
       * @default - none (pipelines get no registry credentials)
       */
      ciUser: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 characters of A-Z a-z 0-9 . _ -")
        .optional(),
    })
    .optional(),
  /** @default { kind: "generated" } */
  tls: RegistryTlsSchema.default({ kind: "generated", validityDays: 3650, extraSans: [] }),
  /** `http.secret` shared by replicas. @default - generated once (RandomSecret), stable across runs */
  httpSecret: secret.optional(),
  /** Pull-through cache of a remote registry (the registry then refuses pushes). @default - none */
  proxy: z
    .strictObject({
      remoteUrl: httpsUrl,
      username: z
        .string()
        .regex(/^[A-Za-z0-9._@+-]{1,128}$/, "must be 1-128 characters of A-Z a-z 0-9 . _ @ + -")
        .optional(),
      password: secret.optional(),
      /** Registry name mirrored to this cache in the nodes' registries.yaml. @default - "docker.io" for Docker Hub, else the remote's host */
      mirrorOf: hostPort.optional(),
    })
    .optional(),
  gc: z
    .strictObject({
      /** @default true */
      enabled: z.boolean().default(true),
      /** Cron schedule of host mode's GC timer (in-cluster, GC runs at each registry start). @default "0 1 * * *" */
      schedule: z
        .string()
        .regex(/^[0-9*/,-]+( [0-9*/,-]+){4}$/, "must be a five-field cron schedule such as 0 1 * * *")
        .default("0 1 * * *"),
      /**
       * `garbage-collect --delete-untagged`. distribution 2.x (Debian's docker-registry, host mode) marks only
       * tagged manifests and deletes the per-platform children of a tagged manifest list; the fix
       * (distribution/distribution 601b37d, "Handle OCI image index and V2 manifest list during garbage
       * collection") is in v3.0.0 only, so host mode refuses it.
       * @default - true in-cluster (distribution v3), false in host mode
       */
      deleteUntagged: z.boolean().optional(),
    })
    .default({ enabled: true, schedule: "0 1 * * *" }),
});

export type RegistrySpecInput = z.input<typeof RegistrySpecSchema>;
export type RegistrySpec = z.output<typeof RegistrySpecSchema>;
export type InClusterMode = z.output<typeof InClusterModeSchema>;
export type HostMode = z.output<typeof HostModeSchema>;

/** A registry user with the password known (plain, for renderers). */
export interface RegistryUser {
  readonly username: string;
  readonly password: string;
}

/** TLS material, resolved. */
export type RegistryTlsMaterial =
  | { readonly kind: "none" }
  | { readonly kind: "tls"; readonly certPem: string; readonly keyPem: string; readonly caPem: string };

/** Everything the registry renderers need: validated, every secret resolved, plain values only. */
export interface RegistryProps {
  readonly spec: RegistrySpec;
  /** `host:port` nodes pull from: the K3s mirror name and the TLS SAN. */
  readonly endpoint: string;
  /**
   * Every `host:port` containerd may pull from, in order (a NodePort is served by every server: if the first is
   * down, the next one answers). @default - [endpoint]
   */
  readonly mirrorEndpoints?: readonly string[];
  /** Internal addresses of the K3s nodes (certificate SANs: any node can serve the NodePort). */
  readonly nodeAddresses: readonly string[];
  /** Host-mode target. @default - undefined in in-cluster mode */
  readonly host?: Host;
  readonly users: readonly RegistryUser[];
  /** The user written into every node's registries.yaml. @default - none (anonymous pulls) */
  readonly nodeUser?: string;
  readonly httpSecret: string;
  readonly tls: RegistryTlsMaterial;
  /** @default - no proxy password */
  readonly proxyPassword?: string;
}

/** Validated spec plus what it resolves against the hosts (no secrets resolved yet). */
export interface RegistryPlan {
  readonly spec: RegistrySpec;
  readonly endpoint: string;
  /** See {@link RegistryProps.mirrorEndpoints}. */
  readonly mirrorEndpoints: readonly string[];
  readonly nodeAddresses: readonly string[];
  readonly host?: Host;
  /** The user written into registries.yaml. @default - none (anonymous) */
  readonly nodeUser?: string;
  /** Every DNS name and IP the generated certificate covers. */
  readonly sans: { readonly dnsNames: readonly string[]; readonly ips: readonly string[] };
}

/** Name of the registry's objects, Service and systemd drop-in. */
export const REGISTRY_NAME = "registry";

/** Docker Hub's registry names as containerd and distribution know them. */
const DOCKER_HUB = new Set(["registry-1.docker.io", "index.docker.io", "docker.io"]);

/** systemd.exec(5): `LoadCredential=` was added in systemd 247. */
const LOAD_CREDENTIAL_SYSTEMD = 247;

/**
 * Validates a registry spec against the hosts: every problem is recorded under `base` and nothing is returned when
 * there is any.
 */
export function validateRegistry(
  input: unknown,
  hosts: readonly Host[],
  issues: IssueCollector,
  base = "registry",
): RegistryPlan | undefined {
  const spec = parseInto(RegistrySpecSchema, input, issues, base);
  if (!spec) return undefined;
  const before = issues.issues.length;
  const nodes = hosts.filter((h) => hasRole(h, "server") || hasRole(h, "agent"));
  const nodeAddresses = nodes.map(internalAddress);
  let endpoint = "";
  let mirrorEndpoints: string[] | undefined;
  let host: Host | undefined;
  const mode = spec.mode;
  if (mode.kind === "host") {
    host = hosts.find((h) => h.name === mode.host);
    if (!host) {
      issues.add(
        `${base}.mode.host`,
        mode.host,
        `is not among the hosts (${hosts.map((h) => h.name).join(", ") || "none"})`,
      );
    } else {
      const os = osProfile(host.os);
      if (os.registryPackage === undefined) {
        issues.add(
          `${base}.mode.host`,
          mode.host,
          `runs ${host.os}; host mode needs a Debian or Ubuntu host (the docker-registry package)`,
        );
      } else if (os.systemd < LOAD_CREDENTIAL_SYSTEMD) {
        issues.add(
          `${base}.mode.host`,
          mode.host,
          `runs ${host.os}, whose systemd ${os.systemd} lacks LoadCredential= (systemd ${LOAD_CREDENTIAL_SYSTEMD}), which the registry's unit uses for its key and htpasswd; use Ubuntu 22.04 or later, Debian 11 or later, or in-cluster mode`,
        );
      }
      endpoint = joinHostPort(internalAddress(host), mode.port);
    }
    if (spec.gc.deleteUntagged === true) {
      issues.add(
        `${base}.gc.deleteUntagged`,
        true,
        "is refused in host mode: Debian's docker-registry is distribution 2.x, whose garbage-collect --delete-untagged deletes the platform images of multi-arch tags (fixed in v3.0.0 only)",
      );
    }
    if (spec.gc.enabled && cronToOnCalendar(spec.gc.schedule) === undefined) {
      issues.add(
        `${base}.gc.schedule`,
        spec.gc.schedule,
        'is not a daily schedule "M H * * *"; host mode runs garbage collection from a daily systemd timer',
      );
    }
    // The version only picks the image in-cluster; on a host Debian's package decides. Say so instead of ignoring it.
    if ((input as { version?: unknown }).version !== undefined) {
      issues.add(
        `${base}.version`,
        spec.version,
        "applies to in-cluster mode only; host mode runs Debian's docker-registry (distribution 2.x)",
      );
    }
  } else {
    const firstServer = hosts.find((h) => hasRole(h, "server"));
    if (mode.endpoint) endpoint = mode.endpoint;
    else if (mode.nodePort !== undefined && firstServer) {
      endpoint = joinHostPort(internalAddress(firstServer), mode.nodePort);
      mirrorEndpoints = hosts
        .filter((h) => hasRole(h, "server"))
        .map((h) => joinHostPort(internalAddress(h), mode.nodePort!));
    } else if (mode.ingress) endpoint = mode.ingress.host;
    else {
      issues.add(
        `${base}.mode`,
        undefined,
        "gives the nodes no way to reach the registry; set nodePort (e.g. 32500), ingress or endpoint (containerd on the nodes cannot resolve cluster DNS)",
      );
    }
    if (
      mode.ingress &&
      spec.tls.kind !== "none" &&
      mode.ingress.tlsSecretName === undefined &&
      !mode.endpoint &&
      mode.nodePort === undefined
    ) {
      issues.add(
        `${base}.mode.ingress.tlsSecretName`,
        undefined,
        'is required when nodes pull through the Ingress with TLS on; set it, or set tls.kind "none" to terminate TLS elsewhere',
      );
    }
    // distribution: "ensure that the registry is in read-only mode or not running at all" while garbage collection
    // runs (distribution/distribution v3.0.0 docs/content/about/garbage-collection.md:83-85). One replica collects in
    // its init container, before it serves; several replicas (HA) collect from a CronJob that turns every replica
    // read-only first (chart.ts haGc), on gc.schedule.
    if (
      spec.gc.enabled &&
      mode.replicas === 1 &&
      (input as { gc?: { schedule?: unknown } } | undefined)?.gc?.schedule !== undefined
    ) {
      issues.add(
        `${base}.gc.schedule`,
        spec.gc.schedule,
        "applies to host mode and to in-cluster mode with replicas >= 2; one in-cluster replica collects each time its pod starts, before it serves (restart the Deployment to collect)",
      );
    }
    // the registry's pods tolerate no taint: a node tainted NoSchedule/NoExecute (a GPU or real-time node, a
    // host's own taint) runs none of its replicas
    const tainted = nodes.filter((h) =>
      [...h.taints, ...capabilityTaints(h.capabilities)].some((t) => /:(NoSchedule|NoExecute)$/.test(t)),
    );
    const room = nodes.length - tainted.length;
    if (mode.replicas > room && nodes.length > 0) {
      issues.add(
        `${base}.mode.replicas`,
        mode.replicas,
        `exceeds the ${room} K3s node(s) the registry's pods can run on${tainted.length ? ` (${tainted.map((h) => h.name).join(", ")} ${tainted.length === 1 ? "is" : "are"} tainted, which the registry does not tolerate)` : ""}: replicas are spread one per node (required pod anti-affinity), so a lost node loses one replica; use at most ${room}`,
      );
    }
    if (mode.replicas > 1 && mode.storage.accessMode === "ReadWriteOnce") {
      issues.add(
        `${base}.mode.replicas`,
        mode.replicas,
        'needs storage.accessMode "ReadWriteMany"; replicas cannot share a ReadWriteOnce volume',
      );
    }
  }
  let nodeUser: string | undefined;
  if (spec.auth) {
    const seen = new Map<string, number>();
    spec.auth.users.forEach((u, i) => {
      const prev = seen.get(u.username);
      if (prev !== undefined)
        issues.add(
          `${base}.auth.users[${i}].username`,
          u.username,
          `is used twice (${base}.auth.users[${prev}]); user names must be unique`,
        );
      else seen.set(u.username, i);
      if (typeof u.password === "string" && Buffer.byteLength(u.password, "utf8") > 72) {
        issues.add(
          `${base}.auth.users[${i}].password`,
          undefined,
          "is longer than 72 bytes; bcrypt ignores everything after byte 72",
        );
      }
    });
    nodeUser = spec.auth.nodeUser ?? spec.auth.users[0].username;
    if (!seen.has(nodeUser)) {
      issues.add(`${base}.auth.nodeUser`, nodeUser, `is not among auth.users (${[...seen.keys()].join(", ")})`);
    }
    const ci = spec.auth.ciUser;
    if (ci !== undefined) {
      const at = seen.get(ci);
      if (at === undefined)
        issues.add(`${base}.auth.ciUser`, ci, `is not among auth.users (${[...seen.keys()].join(", ")})`);
      if (spec.proxy) issues.add(`${base}.auth.ciUser`, ci, "cannot be set on a pull-through cache: it refuses pushes");
    }
  }
  if (spec.proxy && spec.proxy.password !== undefined && spec.proxy.username === undefined) {
    issues.add(`${base}.proxy.username`, undefined, "is required when proxy.password is set");
  }
  if (issues.issues.length > before) return undefined;
  const sans = certificateSans(spec, endpoint, nodeAddresses);
  return { spec, endpoint, mirrorEndpoints: mirrorEndpoints ?? [endpoint], nodeAddresses, host, nodeUser, sans };
}

/** The Service's in-cluster DNS names. */
export function serviceDnsNames(name: string, namespace: string): string[] {
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}

function certificateSans(spec: RegistrySpec, endpoint: string, nodeAddresses: readonly string[]) {
  const isIp = (v: string) => /^[\d.]+$/.test(v) || v.includes(":");
  const all = new Set<string>([endpointHost(endpoint), ...nodeAddresses, "127.0.0.1", "localhost"]);
  if (spec.mode.kind === "in-cluster") {
    for (const n of serviceDnsNames(REGISTRY_NAME, spec.mode.namespace)) all.add(n);
    if (spec.mode.ingress) all.add(spec.mode.ingress.host);
  }
  if (spec.tls.kind === "generated") for (const s of spec.tls.extraSans) all.add(s);
  const list = [...all].filter((v) => v !== "");
  return { dnsNames: list.filter((v) => !isIp(v)), ips: list.filter(isIp) };
}

/** `10.0.0.1:32500` → `10.0.0.1`; `[fd00::1]:5000` → `fd00::1`. */
export function endpointHost(endpoint: string): string {
  const m = /^\[([^\]]+)\](:\d+)?$/.exec(endpoint);
  if (m) return m[1];
  const i = endpoint.lastIndexOf(":");
  return i > 0 && endpoint.indexOf(":") === i ? endpoint.slice(0, i) : endpoint;
}

/** The distribution major version of the spec (host mode is always Debian's 2.x). */
export function registryMajor(spec: RegistrySpec): 2 | 3 {
  return spec.mode.kind === "host" || spec.version.startsWith("2.") ? 2 : 3;
}

/** The registry name the pull-through cache stands in for. */
export function proxyMirrorOf(proxy: NonNullable<RegistrySpec["proxy"]>): string {
  if (proxy.mirrorOf) return proxy.mirrorOf;
  const host = new URL(proxy.remoteUrl).host;
  return DOCKER_HUB.has(host) ? "docker.io" : host;
}
