import { z } from "zod";
import { deferred } from "../../lib/hosts/host";
import { IssueCollector, parseInto } from "../../lib/validation/issues";
import { cidrv4, parseHostPort } from "../../lib/validation/net";

const dnsLabel = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
    "must be a lowercase DNS label (a-z, 0-9, '-', at most 63 characters)",
  );
const dnsName = z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "must be a lowercase DNS name");
const url = z
  .string()
  .regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[^\s]*)?$/, "must be an http(s) URL such as https://git.example.com");
const quantity = z.string().regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti)$/, "must be a binary quantity such as 8Gi");
const image = z.string().regex(/^[a-z0-9][a-z0-9./_:@-]*$/, "must be an image reference");
/** A secret: a plain string or a Pulumi Output resolved at deploy time. */
const secret = z.union([z.string().min(1), deferred]);
const storage = (size: string) =>
  z
    .strictObject({
      /** @default - the cluster's default StorageClass */
      storageClassName: dnsName.optional(),
      size: quantity.default(size),
    })
    .default({ size });

/** Exactly one git provider, each with the fields Drone requires for it. */
export const DroneProviderSchema = z.discriminatedUnion("kind", [
  /** Gogs: Drone logs users in with their Gogs password (no OAuth app). */
  z.strictObject({
    kind: z.literal("gogs"),
    /** @default - the in-cluster Gogs (`git`) */
    server: url.optional(),
    /** @default false */
    skipVerify: z.boolean().default(false),
  }),
  /** Gitea: an OAuth2 application (redirect URI `<proto>://<server.host>/login`). */
  z.strictObject({
    kind: z.literal("gitea"),
    /** @default - the in-cluster Gitea's rootUrl */
    server: url.optional(),
    clientId: z.string().min(1),
    clientSecret: secret,
    /** @default false */
    skipVerify: z.boolean().default(false),
  }),
  z.strictObject({
    kind: z.literal("gitlab"),
    /** @default "https://gitlab.com" */
    server: url.default("https://gitlab.com"),
    clientId: z.string().min(1),
    clientSecret: secret,
  }),
  z.strictObject({
    kind: z.literal("github"),
    /** @default "https://github.com" */
    server: url.default("https://github.com"),
    clientId: z.string().min(1),
    clientSecret: secret,
  }),
]);

export const DroneDatabaseSchema = z.discriminatedUnion("driver", [
  /** SQLite on the server's PVC. */
  z.strictObject({ driver: z.literal("sqlite3") }),
  /** An external database; the datasource (with its password) goes into a Secret. */
  z.strictObject({ driver: z.enum(["postgres", "mysql"]), datasource: secret }),
]);

export const DroneServerSchema = z.strictObject({
  /** `DRONE_SERVER_HOST`: host[:port] users and git webhooks reach Drone at, without scheme. */
  host: z.string().min(1),
  /** `DRONE_SERVER_PROTO`. @default "https" */
  proto: z.enum(["http", "https"]).default("https"),
  /** @default "drone/drone:2.20.0" */
  image: image.default("drone/drone:2.20.0"),
  /** Data PVC (SQLite). @default { size: "8Gi" } */
  storage: storage("8Gi"),
  /** @default { driver: "sqlite3" } */
  database: DroneDatabaseSchema.default({ driver: "sqlite3" }),
  /** `DRONE_USER_CREATE`: the first admin. @default - none (first login is a normal user) */
  adminUser: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, "must be a git user name")
    .optional(),
  ingress: z
    .strictObject({
      /** @default - the cluster's default IngressClass */
      className: dnsName.optional(),
      /** @default - no TLS on the Ingress */
      tlsSecretName: dnsName.optional(),
      /** Namespace of the ingress controller, let through the NetworkPolicy. @default "kube-system" (K3s Traefik) */
      controllerNamespace: dnsLabel.default("kube-system"),
    })
    .optional(),
  /** Extra networks allowed to reach the server (browsers, external git webhooks) through the NetworkPolicy. @default [] */
  allowFrom: z.array(cidrv4).default([]),
});

export const DroneRunnerSchema = z.discriminatedUnion("kind", [
  /** drone-runner-docker with a privileged Docker-in-Docker sidecar (only its namespace allows privileged pods). */
  z.strictObject({
    kind: z.literal("docker"),
    /** @default "drone-runner" */
    namespace: dnsLabel.default("drone-runner"),
    /** @default 1 */
    replicas: z.number().int().min(1).max(20).default(1),
    /** `DRONE_RUNNER_CAPACITY`. @default 2 */
    capacity: z.number().int().min(1).max(32).default(2),
    /** @default "drone/drone-runner-docker:1.8.4" */
    image: image.default("drone/drone-runner-docker:1.8.4"),
    /**
     * Pinned to a full version, not the floating `27-dind` (docker-library/docker fbb79dd versions.json: 27 is
     * 27.5.1, the last 27.x before the series was dropped as end-of-life).
     * @default "docker:27.5.1-dind"
     */
    dindImage: image.default("docker:27.5.1-dind"),
    /** Size limit of dockerd's /var/lib/docker (an emptyDir): builds' images and layers. @default "20Gi" */
    dindStorageLimit: z
      .string()
      .regex(/^\d+(Mi|Gi)$/, "must be a size such as 20Gi")
      .default("20Gi"),
    /** Image GC sidecar. @default true */
    gc: z.boolean().default(true),
    /** @default "drone/gc:1.0.0" */
    gcImage: image.default("drone/gc:1.0.0"),
    /** Static busybox used by the drain hook (the runner image has no shell). @default "busybox:1.36.1" */
    drainImage: image.default("busybox:1.36.1"),
    /** Seconds a terminating runner waits for running builds. @default 3600 */
    terminationGracePeriodSeconds: z.number().int().min(30).max(86400).default(3600),
    /**
     * MTU of dockerd's bridge and build networks inside the pod: at most the pod interface's MTU, or inner
     * containers stall on downloads (PMTUD black holes). An environment wires it from `k3s.network.flannelBackend`.
     * @default 1450 (flannel vxlan, K3s's default backend)
     */
    mtu: z.number().int().min(576).max(9000).default(1450),
  }),
  /**
   * drone-runner-kube: one pod per build in `buildNamespace`. Its last release is v1.0.0-rc.5 (drone-runners/
   * drone-runner-kube tag v1.0.0-rc.5, 63eeee6d, 2025-02-27; rc.4 fixed secret masking, CI-14780), published as
   * `drone/drone-runner-kube:1.0.0-rc.5` (docker/manifest.tmpl at that tag: the tag minus its `v`).
   */
  z.strictObject({
    kind: z.literal("kube"),
    /** @default "drone-runner" */
    namespace: dnsLabel.default("drone-runner"),
    /** @default "drone-builds" */
    buildNamespace: dnsLabel.default("drone-builds"),
    /** @default 2 */
    capacity: z.number().int().min(1).max(64).default(2),
    /** @default "drone/drone-runner-kube:1.0.0-rc.5" */
    image: image.default("drone/drone-runner-kube:1.0.0-rc.5"),
  }),
]);

/** An in-cluster git service wired to Drone's provider URL. */
export const GitServiceSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("gogs"),
    /** @default "git" */
    namespace: dnsLabel.default("git"),
    /**
     * 0.13.4 carries the fixes for the argument injections, path traversals, stored XSS and the RCE in the
     * repository contents API (GHSA-gg64-xxr9-qhjp) released after 0.13.0 (gogs/gogs CHANGELOG.md); the image tag
     * is the release tag without its `v` (gogs/gogs v0.13.4 .github/workflows/docker.yml `IMAGE_TAG`).
     * @default "gogs/gogs:0.13.4"
     */
    image: image.default("gogs/gogs:0.13.4"),
    storage: storage("10Gi"),
    /** URL users open (EXTERNAL_URL). @default - the in-cluster Service URL */
    rootUrl: url.optional(),
  }),
  z.strictObject({
    kind: z.literal("gitea"),
    /** @default "git" */
    namespace: dnsLabel.default("git"),
    /** @default "gitea/gitea:1.22.6-rootless" */
    image: image.default("gitea/gitea:1.22.6-rootless"),
    storage: storage("10Gi"),
    /** ROOT_URL: browsers follow Drone's OAuth redirect to it, so it must be reachable from outside. */
    rootUrl: url,
  }),
]);

export const DroneCiSpecSchema = z.strictObject({
  /** @default "drone" */
  namespace: dnsLabel.default("drone"),
  server: DroneServerSchema,
  provider: DroneProviderSchema,
  /** @default { kind: "docker" } */
  runner: DroneRunnerSchema.default(DroneRunnerSchema.parse({ kind: "docker" })),
  /** `DRONE_RPC_SECRET` shared by server and runners. @default - generated once (RandomSecret) */
  rpcSecret: secret.optional(),
  /** `DRONE_DATABASE_SECRET` (encrypts repository secrets at rest). @default - generated once (RandomSecret) */
  databaseSecret: secret.optional(),
  /** @default - none */
  git: GitServiceSchema.optional(),
  /** What pipelines get from the library (see pipeline-access.ts and docs/ci-pipeline.md). @default { deployNamespaces: [] } */
  pipelines: z
    .strictObject({
      /**
       * Namespaces the library creates (Pod Security baseline) and lets pipelines roll out Deployments, DaemonSets
       * and Services in, as the `edgecloud-ci-deployer` ServiceAccount (its token is the `kube_token` secret).
       * @default [] (no deploy access)
       */
      deployNamespaces: z.array(dnsLabel).default([]),
    })
    .default({ deployNamespaces: [] }),
});

export type DroneCiSpecInput = z.input<typeof DroneCiSpecSchema>;
export type DroneCiSpec = z.output<typeof DroneCiSpecSchema>;
export type DroneProvider = z.output<typeof DroneProviderSchema>;
export type DroneRunner = z.output<typeof DroneRunnerSchema>;
export type GitService = z.output<typeof GitServiceSchema>;

/** Secrets of an in-cluster git service, generated once. */
export interface GitServiceSecrets {
  readonly secretKey: string;
  /** Gitea only. */
  readonly internalToken: string;
  /** Gitea only: 32 random bytes, hex. */
  readonly jwtSecret: string;
}

/** Everything the Drone renderers need: validated, secrets resolved, plain. */
export interface DroneCiProps {
  readonly spec: DroneCiSpec;
  /** The provider's server URL (the in-cluster git service's when it runs one). */
  readonly providerServer: string;
  readonly rpcSecret: string;
  readonly databaseSecret: string;
  /** @default - none (Gogs) */
  readonly clientSecret?: string;
  /** @default - none (SQLite) */
  readonly databaseDatasource?: string;
  /** @default - none without an in-cluster git service */
  readonly gitSecrets?: GitServiceSecrets;
  /** @default - none: pipelines get no registry credentials */
  readonly pipelineRegistry?: PipelineRegistry;
}

/** The registry pipelines push to, wired by the environment from the Registry's CI user (`auth.ciUser`). */
export interface PipelineRegistry {
  /** `host:port` every node pulls from: images are `<endpoint>/<repository>:<tag>`. */
  readonly endpoint: string;
  readonly username: string;
  readonly password: string;
  /** The CA pipelines and the runner's daemon trust. @default - none (a registry without TLS) */
  readonly caPem?: string;
}

/** Validated spec and what it resolves to (no secrets resolved yet). */
export interface DroneCiPlan {
  readonly spec: DroneCiSpec;
  readonly providerServer: string;
}

/** The in-cluster URL of the git service. */
export function gitServiceUrl(git: GitService): string {
  return `http://${git.kind}.${git.namespace}.svc.cluster.local:3000`;
}

/** Validates a Drone spec; records every problem under `base`. */
export function validateDroneCi(input: unknown, issues: IssueCollector, base = "drone"): DroneCiPlan | undefined {
  const spec = parseInto(DroneCiSpecSchema, input, issues, base);
  if (!spec) return undefined;
  const before = issues.issues.length;
  const host = spec.server.host;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(host)) {
    issues.add(
      `${base}.server.host`,
      host,
      "must not include a scheme; DRONE_SERVER_HOST is host[:port] (the scheme goes in server.proto)",
    );
  } else if (host.includes("/")) {
    issues.add(`${base}.server.host`, host, "must not include a path; DRONE_SERVER_HOST is host[:port]");
  } else if (!parseHostPort(host)) {
    issues.add(
      `${base}.server.host`,
      host,
      "must be a DNS name or IP address with an optional :port (IPv6 in brackets: [fd00::1]:8080)",
    );
  }
  const p = spec.provider;
  const git = spec.git;
  let providerServer = "";
  if (git && git.kind !== p.kind) {
    issues.add(
      `${base}.git.kind`,
      git.kind,
      `does not match provider.kind "${p.kind}"; Drone talks to exactly one git provider`,
    );
  }
  if (p.kind === "gogs" || p.kind === "gitea") {
    const fromGit = git && git.kind === p.kind ? (git.rootUrl ?? gitServiceUrl(git)) : undefined;
    if (p.server === undefined && fromGit === undefined) {
      issues.add(
        `${base}.provider.server`,
        undefined,
        `is required unless git runs an in-cluster ${p.kind === "gogs" ? "Gogs" : "Gitea"}`,
      );
    }
    if (p.kind === "gitea" && git?.kind === "gitea" && p.server !== undefined && p.server !== git.rootUrl) {
      issues.add(
        `${base}.provider.server`,
        p.server,
        `differs from git.rootUrl "${git.rootUrl}"; Drone must send users to the Gitea that issues its OAuth tokens`,
      );
    }
    providerServer = p.server ?? fromGit ?? "";
  } else {
    providerServer = p.server;
  }
  const runner = spec.runner;
  if (runner.namespace === spec.namespace) {
    issues.add(
      `${base}.runner.namespace`,
      runner.namespace,
      `is the server's namespace; runners need their own (Pod Security: only the runner namespace may run ${runner.kind === "docker" ? "privileged" : "build"} pods)`,
    );
  }
  if (
    runner.kind === "kube" &&
    (runner.buildNamespace === spec.namespace || runner.buildNamespace === runner.namespace)
  ) {
    issues.add(
      `${base}.runner.buildNamespace`,
      runner.buildNamespace,
      "must differ from the server's and the runner's namespaces (build pods must not see their Secrets)",
    );
  }
  if (git && git.namespace === spec.namespace) {
    issues.add(
      `${base}.git.namespace`,
      git.namespace,
      "is the server's namespace; the git service runs in its own (its Pod Security level is baseline, the server's restricted)",
    );
  }
  if (runner.kind === "kube" && spec.pipelines.deployNamespaces.length > 0)
    issues.add(
      `${base}.pipelines.deployNamespaces`,
      spec.pipelines.deployNamespaces,
      'needs runner.kind "docker": pipeline credentials reach builds through drone-runner-docker\'s static secrets',
    );
  const own = new Set([spec.namespace, runner.namespace, ...(runner.kind === "kube" ? [runner.buildNamespace] : [])]);
  if (git) own.add(git.namespace);
  spec.pipelines.deployNamespaces.forEach((ns, i) => {
    if (own.has(ns))
      issues.add(
        `${base}.pipelines.deployNamespaces[${i}]`,
        ns,
        "is one of Drone's own namespaces; pipelines deploy into namespaces of their own (never next to Drone's Secrets)",
      );
    if (ns === "kube-system" || ns === "default" || ns.startsWith("kube-"))
      issues.add(
        `${base}.pipelines.deployNamespaces[${i}]`,
        ns,
        "is a Kubernetes system namespace; name an application namespace the library creates",
      );
    const first = spec.pipelines.deployNamespaces.indexOf(ns);
    if (first < i)
      issues.add(`${base}.pipelines.deployNamespaces[${i}]`, ns, `is listed twice (deployNamespaces[${first}])`);
  });
  if (spec.server.ingress?.tlsSecretName !== undefined && spec.server.proto === "http") {
    issues.add(
      `${base}.server.proto`,
      "http",
      'contradicts server.ingress.tlsSecretName; set proto "https" so Drone\'s links and OAuth redirects use TLS',
    );
  }
  if (issues.issues.length > before) return undefined;
  return { spec, providerServer };
}
