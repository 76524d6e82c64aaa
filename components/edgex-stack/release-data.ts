/**
 * EdgeX Foundry releases as data: every image, port, dependency and environment variable a release needs. Adding
 * a release is adding an entry to `EDGEX_RELEASES`; renderers never branch on a release name.
 *
 * Sources (read 2026-11): edgex-compose (hanoi, napa, odessa branches), edgex-examples deployment/kubernetes
 * (Hanoi), edgexfoundry/edgex-helm (Napa 3.1).
 */

/** What a service does; renderers place and order services by role. */
export type EdgeXRole =
  | "bootstrapper"
  | "secretstore"
  | "secretstore-setup"
  | "registry"
  | "config-bootstrap"
  | "database"
  | "database-setup"
  | "broker"
  | "core"
  | "support"
  | "rules-engine"
  | "rules-app"
  | "device"
  | "gateway-db"
  | "gateway-setup"
  | "gateway"
  | "ui";

/** Services a user can switch on or off. Core services, registry, database and (with security) the secret store and gateway are always on. */
export const OPTIONAL_SERVICES = [
  "support-notifications",
  "support-scheduler",
  "rules-engine",
  "device-virtual",
  "device-rest",
  "device-mqtt",
  "ui",
] as const;
export type OptionalService = (typeof OPTIONAL_SERVICES)[number];

/** How an image is named per arch: `suffix` appends `-arm64` to the repository on arm64 (Hanoi, Napa); `multi` is one multi-arch tag. */
export interface EdgeXImage {
  readonly repository: string;
  readonly tag: string;
  readonly arch: "suffix" | "multi";
}

/** What a renderer knows when it asks a service for its environment. */
export interface EnvContext {
  /** How one service reaches another: `localhost` in single-pod mode, the Service name per service. */
  host(key: string): string;
  /** `127.0.0.1` when the pod shares the node's network (single-pod, host network), else `0.0.0.0`. */
  readonly bind: string;
  readonly secure: boolean;
  /** Whether an optional service runs (the secret-store setup issues tokens only for those). */
  enabled(service: OptionalService): boolean;
}

export type Probe =
  | { readonly kind: "http"; readonly path: string; readonly port: number }
  | { readonly kind: "tcp"; readonly port: number }
  | { readonly kind: "exec"; readonly command: readonly string[] };

export interface EdgeXServiceData {
  /** `core-data`; the Service and container name is `edgex-<key>`. */
  readonly key: string;
  readonly role: EdgeXRole;
  readonly image: EdgeXImage;
  readonly ports: readonly { readonly name: string; readonly port: number; readonly protocol?: "TCP" | "UDP" }[];
  /** In which security modes the service runs. */
  readonly security: "always" | "secure" | "insecure";
  /** The switch that turns it off. @default - always on */
  readonly optional?: OptionalService;
  readonly env: (ctx: EnvContext) => Readonly<Record<string, string>>;
  /** @default - the image's entrypoint and command */
  readonly command?: readonly string[];
  readonly args?: (ctx: EnvContext) => readonly string[];
  /** Readiness (and, in single-pod mode, the startup gate of services after it). */
  readonly probe?: Probe;
  /** Keys of services that must be ready first. */
  readonly after: readonly string[];
  /** uid:gid to run as; absent when the image must start as root (it drops privileges itself). */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** The image works with a read-only root filesystem (given `writable` as emptyDirs). */
  readonly readOnlyRootFilesystem: boolean;
  /** Paths the service writes scratch data to (emptyDir). @default [] */
  readonly writable?: readonly string[];
  /** Where it keeps state worth keeping (the persistence volume). @default - stateless */
  readonly dataDir?: string;
  /** Linux capabilities it needs. @default [] */
  readonly capabilities?: readonly string[];
  /** Runs to completion (an init step), rather than serving. @default false */
  readonly job?: boolean;
  /**
   * With security on, in releases gated by the security-bootstrapper: the wrapper script from `/edgex-init` the
   * container starts with (it waits for the bootstrapper's stage gates), and the command it then runs.
   * @default - the image's entrypoint
   */
  readonly gate?: { readonly entrypoint: readonly string[]; readonly command?: readonly string[] };
  /** With security on: runs as root (compose `user: root:root`; it sets up files for others). @default false */
  readonly secureRoot?: boolean;
  /**
   * With security on: which part of the token volume it mounts — `all` (read-write, the secret-store setup) or its
   * own directory `/tmp/edgex/secrets/<dir>` read-only. @default - its own directory, named by its key
   */
  readonly secrets?: "all" | { readonly dir: string } | "none";
  /** Volumes it shares with other services of the release (compose named volumes), by name. @default [] */
  readonly shared?: readonly { readonly name: string; readonly path: string; readonly readOnly?: boolean }[];
  /**
   * Shared volumes an init container fills from this service's image before anything starts (compose named volumes
   * are prefilled from the image that mounts them; Kubernetes volumes start empty). @default []
   */
  readonly prefill?: readonly { readonly name: string; readonly from: string }[];
  /**
   * Bound to 127.0.0.1 (single pod on the host network) where the upstream wrapper hard-codes a wildcard listener:
   * the wrapper is kept and reaches the binary through a shim from the `edgex-loopback` ConfigMap (mounted at
   * /edgecloud) that adds the loopback binding. @default - none
   */
  readonly loopbackShim?: (ctx: EnvContext) => Readonly<Record<string, string>>;
}

/** The security-bootstrapper's stage gates (v3/v4): every secured service finds them through these variables. */
export interface StageGate {
  /** The bootstrapper's service key. */
  readonly bootstrapper: string;
  /** The gate ports the bootstrapper listens on. */
  readonly ports: readonly number[];
  readonly env: (ctx: EnvContext) => Readonly<Record<string, string>>;
}

export interface EdgeXReleaseData {
  /** `hanoi` */
  readonly name: string;
  /** `1.3` */
  readonly version: string;
  readonly registry: "consul" | "core-keeper";
  readonly database: "redis" | "postgres";
  readonly messageBus: "redis" | "mqtt" | "zeromq";
  readonly secretStore: "vault" | "openbao";
  /** The API gateway rendered with security on (`none`: upstream's Kubernetes chart ships none, see v3Services). */
  readonly gateway: "kong" | "none";
  /** Where services read their secret-store tokens (a shared emptyDir). */
  readonly secretsPath: string;
  /** A service's own token directory is `<secretsPath>/<prefix><key>` unless its data names one. */
  readonly secretsDirPrefix: "edgex-" | "";
  /** The services' health path. */
  readonly pingPath: string;
  /** Architectures the release publishes images for. */
  readonly arches: readonly ("amd64" | "arm64")[];
  readonly services: readonly EdgeXServiceData[];
  /** Security through the security-bootstrapper's stage gates (Ireland and later). @default - ordered start only */
  readonly stageGate?: StageGate;
}

const EDGEX_USER = { uid: 2002, gid: 2001 } as const;
const go = (
  key: string,
  role: EdgeXRole,
  image: EdgeXImage,
  port: number,
  after: readonly string[],
  env: (ctx: EnvContext) => Record<string, string>,
  rest: Partial<EdgeXServiceData> = {},
): EdgeXServiceData => ({
  key,
  role,
  image,
  ports: [{ name: "http", port }],
  security: "always",
  env,
  after,
  user: EDGEX_USER,
  readOnlyRootFilesystem: true,
  ...rest,
});

// ---------------------------------------------------------------------------------------------- Hanoi 1.3
const hanoiImage = (svc: string, tag = "1.3.1"): EdgeXImage => ({
  repository: `edgexfoundry/docker-${svc}`,
  tag,
  arch: "suffix",
});
const hanoiCommon = (ctx: EnvContext, self: string, secure: boolean): Record<string, string> => ({
  EDGEX_SECURITY_SECRET_STORE: String(secure),
  REGISTRY_HOST: ctx.host("consul"),
  CLIENTS_COREDATA_HOST: ctx.host("core-data"),
  CLIENTS_DATA_HOST: ctx.host("core-data"),
  CLIENTS_METADATA_HOST: ctx.host("core-metadata"),
  CLIENTS_COMMAND_HOST: ctx.host("core-command"),
  CLIENTS_NOTIFICATIONS_HOST: ctx.host("support-notifications"),
  CLIENTS_SCHEDULER_HOST: ctx.host("support-scheduler"),
  CLIENTS_RULESENGINE_HOST: ctx.host("kuiper"),
  DATABASES_PRIMARY_HOST: ctx.host("redis"),
  SERVICE_HOST: ctx.host(self),
  SERVICE_SERVERBINDADDR: ctx.bind,
  ...(secure
    ? {
        SECRETSTORE_HOST: ctx.host("vault"),
        SECRETSTORE_ROOTCACERTPATH: "",
        SECRETSTORE_TOKENFILE: `/tmp/edgex/secrets/edgex-${self}/secrets-token.json`,
      }
    : {}),
});
const hanoiGo = (
  key: string,
  role: EdgeXRole,
  svc: string,
  port: number,
  after: readonly string[],
  extra: (ctx: EnvContext) => Record<string, string> = () => ({}),
  rest: Partial<EdgeXServiceData> = {},
) =>
  go(key, role, hanoiImage(svc), port, after, (ctx) => ({ ...hanoiCommon(ctx, key, ctx.secure), ...extra(ctx) }), {
    probe: { kind: "http", path: "/api/v1/ping", port },
    ...rest,
  });

/** Where the `edgex-loopback` ConfigMap is mounted, and the mosquitto config it holds (listener on ctx.bind). */
export const LOOPBACK_DIR = "/edgecloud";
export const MOSQUITTO_CONF = `${LOOPBACK_DIR}/mosquitto.conf`;

/**
 * Consul's agent flags without security: a single-node server; bound to ctx.bind (`-bind` too: with several private
 * IPv4 addresses on a host-network node Consul exits at start, developer.hashicorp.com/consul/docs/agent/config/cli-flags#_bind).
 */
const consulArgs = (ctx: EnvContext): string[] => [
  "agent",
  "-ui",
  "-bootstrap",
  "-server",
  `-client=${ctx.bind}`,
  ...(ctx.bind === "127.0.0.1" ? ["-bind=127.0.0.1"] : []),
  "-data-dir=/consul/data",
];

/** eKuiper's REST and CLI listeners default to 0.0.0.0 with authentication off (basic.restIp / basic.ip). */
const kuiperBind = (ctx: EnvContext): Record<string, string> =>
  ctx.bind === "127.0.0.1" ? { KUIPER__BASIC__RESTIP: "127.0.0.1", KUIPER__BASIC__IP: "127.0.0.1" } : {};

const HANOI: EdgeXReleaseData = {
  name: "hanoi",
  version: "1.3",
  registry: "consul",
  database: "redis",
  messageBus: "zeromq",
  secretStore: "vault",
  gateway: "kong",
  secretsPath: "/tmp/edgex/secrets",
  secretsDirPrefix: "edgex-",
  pingPath: "/api/v1/ping",
  arches: ["amd64", "arm64"],
  services: [
    {
      key: "vault",
      role: "secretstore",
      image: { repository: "vault", tag: "1.5.3", arch: "multi" },
      ports: [{ name: "http", port: 8200 }],
      security: "secure",
      env: (ctx) => ({
        VAULT_ADDR: `http://${ctx.host("vault")}:8200`,
        VAULT_CONFIG_DIR: "/vault/config",
        VAULT_UI: "true",
        SKIP_SETCAP: "true",
        VAULT_LOCAL_CONFIG: JSON.stringify({
          listener: { tcp: { address: `${ctx.bind}:8200`, tls_disable: "1" } },
          storage: { file: { path: "/vault/file" } },
          disable_mlock: true,
        }),
      }),
      args: () => ["server"],
      probe: { kind: "tcp", port: 8200 },
      after: [],
      user: { uid: 100, gid: 1000 },
      readOnlyRootFilesystem: true,
      writable: ["/vault/config", "/vault/logs"],
      dataDir: "/vault/file",
      secrets: "none",
    },
    hanoiGo(
      "secretstore-setup",
      "secretstore-setup",
      "security-secretstore-setup-go",
      0,
      ["vault"],
      (ctx) => ({
        SECRETSTORE_SETUP_DONE_FLAG: "/tmp/edgex/secrets/edgex-consul/.secretstore-setup-done",
        SECRETSTORE_HOST: ctx.host("vault"),
        ADD_SECRETSTORE_TOKENS:
          "edgex-core-data,edgex-core-metadata,edgex-core-command,edgex-support-notifications,edgex-support-scheduler,app-service-rules,edgex-device-virtual,edgex-device-rest,edgex-device-mqtt,edgex-security-bootstrap-redis,edgex-security-proxy-setup",
      }),
      { security: "secure", ports: [], probe: undefined, job: true, writable: ["/vault/config"], secrets: "all" },
    ),
    {
      key: "consul",
      role: "registry",
      image: hanoiImage("edgex-consul", "1.3.0"),
      ports: [{ name: "http", port: 8500 }],
      security: "always",
      env: (ctx) => ({
        EDGEX_DB: "redis",
        EDGEX_SECURE: String(ctx.secure),
        SECRETSTORE_SETUP_DONE_FLAG: "/tmp/edgex/secrets/edgex-consul/.secretstore-setup-done",
      }),
      args: (ctx) => consulArgs(ctx),
      probe: { kind: "http", path: "/v1/status/leader", port: 8500 },
      after: ["secretstore-setup"],
      readOnlyRootFilesystem: false,
      dataDir: "/consul/data",
    },
    {
      key: "redis",
      role: "database",
      image: { repository: "redis", tag: "6.0.9-alpine", arch: "multi" },
      ports: [{ name: "redis", port: 6379 }],
      security: "always",
      env: () => ({}),
      args: (ctx) => ["redis-server", "--bind", ctx.bind, "--dir", "/data"],
      probe: { kind: "tcp", port: 6379 },
      after: ["secretstore-setup"],
      user: { uid: 999, gid: 1000 },
      readOnlyRootFilesystem: true,
      dataDir: "/data",
      secrets: "none",
    },
    hanoiGo(
      "bootstrap-redis",
      "database-setup",
      "security-bootstrap-redis-go",
      0,
      ["redis", "vault"],
      (ctx) => ({
        SECRETSTORE_TOKENFILE: "/tmp/edgex/secrets/edgex-security-bootstrap-redis/secrets-token.json",
        DATABASES_PRIMARY_HOST: ctx.host("redis"),
      }),
      {
        security: "secure",
        ports: [],
        probe: undefined,
        job: true,
        secrets: { dir: "edgex-security-bootstrap-redis" },
      },
    ),
    hanoiGo("core-metadata", "core", "core-metadata-go", 48081, ["consul", "redis"], () => ({
      NOTIFICATIONS_SENDER: "edgex-core-metadata",
    })),
    {
      // the ZeroMQ publisher binds MessageQueue.Host ('*' in edgex-go v1.3.1 cmd/core-data/res/configuration.toml)
      ...hanoiGo(
        "core-data",
        "core",
        "core-data-go",
        48080,
        ["consul", "redis", "core-metadata"],
        (ctx): Record<string, string> => (ctx.bind === "127.0.0.1" ? { MESSAGEQUEUE_HOST: "127.0.0.1" } : {}),
      ),
      ports: [
        { name: "http", port: 48080 },
        { name: "zmq", port: 5563 },
      ],
    },
    hanoiGo("core-command", "core", "core-command-go", 48082, ["consul", "redis", "core-metadata"]),
    hanoiGo("support-notifications", "support", "support-notifications-go", 48060, ["consul", "redis"], undefined, {
      optional: "support-notifications",
    }),
    hanoiGo(
      "support-scheduler",
      "support",
      "support-scheduler-go",
      48085,
      ["consul", "redis"],
      () => ({ INTERVALACTIONS_SCRUBPUSHED_HOST: "localhost", INTERVALACTIONS_SCRUBAGED_HOST: "localhost" }),
      {
        optional: "support-scheduler",
      },
    ),
    {
      key: "kuiper",
      role: "rules-engine",
      image: { repository: "emqx/kuiper", tag: "1.1.1-alpine", arch: "multi" },
      ports: [
        { name: "http", port: 48075 },
        { name: "rest", port: 20498 },
      ],
      security: "always",
      optional: "rules-engine",
      env: (ctx) => ({
        EDGEX__DEFAULT__SERVER: ctx.host("app-service-rules"),
        EDGEX__DEFAULT__SERVICESERVER: `http://${ctx.host("core-data")}:48080`,
        EDGEX__DEFAULT__TOPIC: "events",
        EDGEX__DEFAULT__PROTOCOL: "tcp",
        EDGEX__DEFAULT__PORT: "5566",
        KUIPER__BASIC__CONSOLELOG: "true",
        KUIPER__BASIC__RESTPORT: "48075",
        ...kuiperBind(ctx),
      }),
      probe: { kind: "tcp", port: 48075 },
      after: ["core-data"],
      user: { uid: 1001, gid: 1001 },
      readOnlyRootFilesystem: false,
      secrets: "none",
    },
    hanoiGo(
      "app-service-rules",
      "rules-app",
      "app-service-configurable",
      48100,
      ["consul", "core-data"],
      (ctx) => ({
        EDGEX_PROFILE: "rules-engine",
        BINDING_PUBLISHTOPIC: "events",
        MESSAGEBUS_PUBLISHHOST_HOST: ctx.bind === "127.0.0.1" ? "127.0.0.1" : "*",
        MESSAGEBUS_SUBSCRIBEHOST_HOST: ctx.host("core-data"),
        SERVICE_PORT: "48100",
      }),
      { optional: "rules-engine" },
    ),
    hanoiGo("device-virtual", "device", "device-virtual-go", 49990, ["core-data", "core-metadata"], undefined, {
      optional: "device-virtual",
    }),
    hanoiGo("device-rest", "device", "device-rest-go", 49986, ["core-data", "core-metadata"], undefined, {
      optional: "device-rest",
      // device-rest-go has no 1.3.x: edgex-compose hanoi compose-builder/.env DEVICE_REST_VERSION=1.2.1
      image: hanoiImage("device-rest-go", "1.2.1"),
    }),
    hanoiGo(
      "device-mqtt",
      "device",
      "device-mqtt-go",
      49982,
      ["core-data", "core-metadata", "mqtt-broker"],
      (ctx) => ({
        DRIVER_INCOMINGHOST: ctx.host("mqtt-broker"),
        DRIVER_RESPONSEHOST: ctx.host("mqtt-broker"),
      }),
      { optional: "device-mqtt" },
    ),
    {
      key: "mqtt-broker",
      role: "broker",
      image: { repository: "eclipse-mosquitto", tag: "1.6.3", arch: "multi" },
      ports: [{ name: "mqtt", port: 1883 }],
      security: "always",
      optional: "device-mqtt",
      env: () => ({}),
      // the image's default config listens anonymously on every interface: ours binds ctx.bind
      command: ["/usr/sbin/mosquitto", "-c", MOSQUITTO_CONF],
      probe: { kind: "tcp", port: 1883 },
      after: [],
      user: { uid: 1883, gid: 1883 },
      readOnlyRootFilesystem: true,
      dataDir: "/mosquitto/data",
      secrets: "none",
    },
    {
      key: "kong-db",
      role: "gateway-db",
      image: { repository: "postgres", tag: "12.3-alpine", arch: "multi" },
      ports: [{ name: "postgres", port: 5432 }],
      security: "secure",
      env: () => ({
        POSTGRES_DB: "kong",
        POSTGRES_USER: "kong",
        POSTGRES_PASSWORD_FILE: "/tmp/edgex/secrets/edgex-kong/postgres-password",
        PGDATA: "/var/lib/postgresql/data/pgdata",
      }),
      args: (ctx) => ["-c", `listen_addresses=${ctx.bind === "127.0.0.1" ? "localhost" : "*"}`],
      probe: { kind: "tcp", port: 5432 },
      after: ["secretstore-setup"],
      user: { uid: 70, gid: 70 },
      readOnlyRootFilesystem: true,
      writable: ["/var/run/postgresql", "/tmp"],
      dataDir: "/var/lib/postgresql/data",
      secrets: { dir: "edgex-kong" },
    },
    {
      key: "kong",
      role: "gateway",
      image: { repository: "kong", tag: "2.0.5", arch: "multi" },
      ports: [
        { name: "proxy", port: 8000 },
        { name: "proxy-tls", port: 8443 },
      ],
      security: "secure",
      env: (ctx) => ({
        KONG_DATABASE: "postgres",
        KONG_PG_HOST: ctx.host("kong-db"),
        KONG_PG_PASSWORD_FILE: "/tmp/edgex/secrets/edgex-kong/postgres-password",
        KONG_PROXY_ACCESS_LOG: "/dev/stdout",
        KONG_ADMIN_ACCESS_LOG: "/dev/stdout",
        KONG_PROXY_ERROR_LOG: "/dev/stderr",
        KONG_ADMIN_ERROR_LOG: "/dev/stderr",
        KONG_ADMIN_LISTEN: "127.0.0.1:8001, 127.0.0.1:8444 ssl",
      }),
      command: [
        "/bin/sh",
        "-c",
        "kong migrations bootstrap --vv || kong migrations up --vv; exec /docker-entrypoint.sh kong docker-start",
      ],
      probe: { kind: "tcp", port: 8000 },
      after: ["kong-db"],
      user: { uid: 1000, gid: 1000 },
      readOnlyRootFilesystem: false,
      writable: ["/tmp"],
      secrets: { dir: "edgex-kong" },
    },
    hanoiGo(
      "proxy-setup",
      "gateway-setup",
      "security-proxy-setup-go",
      0,
      ["kong", "vault"],
      (ctx) => ({
        KONGURL_SERVER: ctx.host("kong"),
        SECRETSERVICE_SERVER: ctx.host("vault"),
        SECRETSERVICE_TOKENPATH: "/tmp/edgex/secrets/edgex-security-proxy-setup/secrets-token.json",
      }),
      { security: "secure", ports: [], probe: undefined, job: true, secrets: { dir: "edgex-security-proxy-setup" } },
    ),
    {
      key: "ui",
      role: "ui",
      image: hanoiImage("edgex-ui-go", "1.3.0"),
      ports: [{ name: "http", port: 4000 }],
      security: "always",
      optional: "ui",
      env: (ctx) => ({ EDGEX_SECURITY_SECRET_STORE: String(ctx.secure) }),
      probe: { kind: "tcp", port: 4000 },
      after: ["core-command"],
      user: EDGEX_USER,
      readOnlyRootFilesystem: true,
      secrets: "none",
    },
  ],
};

// ---------------------------------------------------------------------------------------------- v3 / v4 shared
// From edgex-compose (napa branch; main for Odessa): with security on, every service starts through a wrapper in the
// `edgex-init` volume the security-bootstrapper fills, which waits on the bootstrapper's stage gates; tokens are in
// /tmp/edgex/secrets/<service>.

interface V3Options {
  readonly tag: string;
  readonly arch: "suffix" | "multi";
  readonly registry: "consul" | "core-keeper";
  readonly database: "redis" | "postgres";
  /** The message bus host key: `redis` (Napa) or `mqtt-broker` (Odessa). */
  readonly busHost: string;
  readonly busType: "redis" | "mqtt";
  /** `vault` (Napa, host edgex-vault) or `secret-store` (Odessa, OpenBao, host edgex-secret-store). */
  readonly secretStoreKey: "vault" | "secret-store";
  /** Environment prefix of the secret store: VAULT or BAO. */
  readonly secretStoreEnv: "VAULT" | "BAO";
  /** Its wrapper in /edgex-init. */
  readonly secretStoreWrapper: string;
  /** Known secrets device-mqtt gets (compose-builder Makefile, ds-mqtt). */
  readonly deviceMqttKnownSecrets: string;
  readonly ports: Readonly<
    Record<
      | "coreData"
      | "metadata"
      | "command"
      | "notifications"
      | "scheduler"
      | "ekuiper"
      | "rules"
      | "virtual"
      | "rest"
      | "mqtt"
      | "proxyAuth",
      number
    >
  >;
}

const v3Image = (o: V3Options, svc: string): EdgeXImage => ({
  repository: `edgexfoundry/${svc}`,
  tag: o.tag,
  arch: o.arch,
});
const READY_TO_RUN = ["/edgex-init/ready_to_run_wait_install.sh"];
const BOOTSTRAPPER_PORTS = {
  start: 54321,
  tokens: 54322,
  registry: 54324,
  proxySetup: 54325,
  readyToRun: 54329,
} as const;

function v3StageGate(o: V3Options): StageGate {
  const registryKey = o.registry === "consul" ? "consul" : "core-keeper";
  const dbKey = o.database === "redis" ? "redis" : "postgres";
  const dbPort = o.database === "redis" ? 6379 : 5432;
  return {
    bootstrapper: "security-bootstrapper",
    ports: Object.values(BOOTSTRAPPER_PORTS),
    env: (ctx) => ({
      PROXY_SETUP_HOST: ctx.host("security-proxy-setup"),
      STAGEGATE_BOOTSTRAPPER_HOST: ctx.host("security-bootstrapper"),
      STAGEGATE_BOOTSTRAPPER_STARTPORT: String(BOOTSTRAPPER_PORTS.start),
      STAGEGATE_DATABASE_HOST: ctx.host(dbKey),
      STAGEGATE_DATABASE_PORT: String(dbPort),
      STAGEGATE_DATABASE_READYPORT: String(dbPort),
      STAGEGATE_PROXYSETUP_READYPORT: String(BOOTSTRAPPER_PORTS.proxySetup),
      STAGEGATE_READY_TORUNPORT: String(BOOTSTRAPPER_PORTS.readyToRun),
      STAGEGATE_REGISTRY_HOST: ctx.host(registryKey),
      STAGEGATE_REGISTRY_PORT: o.registry === "consul" ? "8500" : "59890",
      STAGEGATE_REGISTRY_READYPORT: String(BOOTSTRAPPER_PORTS.registry),
      ...(o.registry === "consul"
        ? {
            STAGEGATE_REGISTRY_ACL_BOOTSTRAPTOKENPATH: "/tmp/edgex/secrets/consul-acl-token/bootstrap_token.json",
            STAGEGATE_REGISTRY_ACL_SENTINELFILEPATH: "/consul/config/consul_acl_done",
            STAGEGATE_REGISTRY_ACL_MANAGEMENTTOKENPATH: "/tmp/edgex/secrets/consul-acl-token/mgmt_token.json",
          }
        : {}),
      STAGEGATE_SECRETSTORESETUP_HOST: ctx.host("security-secretstore-setup"),
      STAGEGATE_SECRETSTORESETUP_TOKENS_READYPORT: String(BOOTSTRAPPER_PORTS.tokens),
      STAGEGATE_WAITFOR_TIMEOUT: "60s",
    }),
  };
}

function v3Services(
  o: V3Options,
  thirdParty: {
    readonly secretStore: EdgeXImage;
    readonly registry: EdgeXImage;
    readonly database: EdgeXImage;
    readonly broker: EdgeXImage;
    readonly ekuiper: EdgeXImage;
    readonly nginx: EdgeXImage;
    readonly ui: EdgeXImage;
  },
): EdgeXServiceData[] {
  const registryKey = o.registry === "consul" ? "consul" : "core-keeper";
  const dbKey = o.database === "redis" ? "redis" : "postgres";
  const provider = (ctx: EnvContext) =>
    o.registry === "consul"
      ? `consul.http://${ctx.host("consul")}:8500`
      : `keeper.http://${ctx.host("core-keeper")}:59890`;
  const common = (ctx: EnvContext, self: string): Record<string, string> => ({
    EDGEX_SECURITY_SECRET_STORE: String(ctx.secure),
    EDGEX_CONFIG_PROVIDER: provider(ctx),
    EDGEX_USE_REGISTRY: "true",
    REGISTRY_HOST: ctx.host(registryKey),
    SERVICE_HOST: ctx.host(self),
    SERVICE_SERVERBINDADDR: ctx.bind,
    ...(ctx.secure
      ? {
          SECRETSTORE_HOST: ctx.host(o.secretStoreKey),
          CLIENTS_SECURITY_SECRETSTORE_SETUP_HOST: ctx.host("security-secretstore-setup"),
        }
      : {}),
  });
  // EdgeX Go services: the binary is /<name>; secured, it starts through ready_to_run_wait_install.sh
  const svc = (
    key: string,
    role: EdgeXRole,
    image: string,
    port: number,
    after: readonly string[],
    extra: (ctx: EnvContext) => Record<string, string> = () => ({}),
    rest: Partial<EdgeXServiceData> = {},
  ) =>
    go(key, role, v3Image(o, image), port, after, (ctx) => ({ ...common(ctx, key), ...extra(ctx) }), {
      probe: { kind: "http", path: "/api/v3/ping", port },
      gate: { entrypoint: READY_TO_RUN, command: [`/${image}`, "--registry"] },
      ...rest,
    });
  const ready = [registryKey, dbKey];
  const busEnv = (ctx: EnvContext): Record<string, string> =>
    o.busType === "mqtt"
      ? {
          CONNECTION__EDGEX__MQTTMSGBUS__SERVER: ctx.host(o.busHost),
          CONNECTION__EDGEX__MQTTMSGBUS__PORT: "1883",
          CONNECTION__EDGEX__MQTTMSGBUS__PROTOCOL: "tcp",
          CONNECTION__EDGEX__MQTTMSGBUS__TYPE: "mqtt",
          EDGEX__DEFAULT__CONNECTIONSELECTOR: "mqttmsgbus",
          EDGEX__DEFAULT__SERVER: ctx.host(o.busHost),
          EDGEX__DEFAULT__PORT: "1883",
          EDGEX__DEFAULT__PROTOCOL: "tcp",
          EDGEX__DEFAULT__TYPE: "mqtt",
        }
      : {
          CONNECTION__EDGEX__REDISMSGBUS__SERVER: ctx.host(o.busHost),
          CONNECTION__EDGEX__REDISMSGBUS__PORT: "6379",
          CONNECTION__EDGEX__REDISMSGBUS__PROTOCOL: "redis",
          CONNECTION__EDGEX__REDISMSGBUS__TYPE: "redis",
          EDGEX__DEFAULT__CONNECTIONSELECTOR: "edgex.redisMsgBus",
          EDGEX__DEFAULT__SERVER: ctx.host(o.busHost),
          EDGEX__DEFAULT__PORT: "6379",
          EDGEX__DEFAULT__PROTOCOL: "redis",
          EDGEX__DEFAULT__TYPE: "redis",
        };
  const ssDir = `/${o.secretStoreKey === "vault" ? "vault" : "openbao"}`;
  // Services that need a secret-store token and registry ACL role beyond the defaults (token-config.json in edgex-go
  // v3.1.1/v4.0.1 cmd/security-file-token-provider/res has no device-mqtt): compose-builder's TOKEN_LIST
  const extraTokens = (ctx: EnvContext): string[] => (ctx.enabled("device-mqtt") ? ["device-mqtt"] : []);
  return [
    {
      key: "security-bootstrapper",
      role: "bootstrapper",
      image: v3Image(o, "security-bootstrapper"),
      ports: Object.values(BOOTSTRAPPER_PORTS).map((port) => ({ name: `gate-${port}`, port })),
      security: "secure",
      env: () => ({ EDGEX_USER: "2002", EDGEX_GROUP: "2001" }),
      probe: { kind: "tcp", port: BOOTSTRAPPER_PORTS.start },
      after: [],
      readOnlyRootFilesystem: true,
      secureRoot: true,
      secrets: "none",
    },
    {
      key: o.secretStoreKey,
      role: "secretstore",
      image: thirdParty.secretStore,
      ports: [{ name: "http", port: 8200 }],
      security: "secure",
      env: (ctx) => ({
        [`${o.secretStoreEnv}_ADDR`]: `http://${ctx.host(o.secretStoreKey)}:8200`,
        [`${o.secretStoreEnv}_CONFIG_DIR`]: `${ssDir}/config`,
        SKIP_SETCAP: "true",
        [`${o.secretStoreEnv}_LOCAL_CONFIG`]: [
          `listener "tcp" {`,
          `  address = "${ctx.bind === "127.0.0.1" ? "127.0.0.1" : "0.0.0.0"}:8200"`,
          `  tls_disable = "1"`,
          `}`,
          `backend "file" {`,
          `  path = "${ssDir}/file"`,
          `}`,
          `default_lease_ttl = "168h"`,
          `max_lease_ttl = "720h"`,
          `disable_mlock = true`,
          ``,
        ].join("\n"),
      }),
      gate: { entrypoint: [o.secretStoreWrapper], command: ["server"] },
      probe: { kind: "tcp", port: 8200 },
      after: ["security-bootstrapper"],
      readOnlyRootFilesystem: true,
      secureRoot: true,
      secrets: "none",
      writable: [`${ssDir}/config`, `${ssDir}/logs`],
      dataDir: `${ssDir}/file`,
    },
    svc(
      "security-secretstore-setup",
      "secretstore-setup",
      "security-secretstore-setup",
      0,
      [o.secretStoreKey],
      (ctx) => ({
        SECUREMESSAGEBUS_TYPE: o.busType === "mqtt" ? "mqtt" : "redis",
        EDGEX_USER: "2002",
        EDGEX_GROUP: "2001",
        // device-rest and device-virtual get tokens by default; device-mqtt only when compose-builder adds it (ds-mqtt)
        EDGEX_ADD_SECRETSTORE_TOKENS: extraTokens(ctx).join(","),
        EDGEX_ADD_KNOWN_SECRETS: [
          o.database === "postgres"
            ? "postgres[app-rules-engine],message-bus[app-rules-engine],message-bus[device-rest],message-bus[device-virtual]"
            : "redisdb[app-rules-engine],redisdb[device-rest],message-bus[device-rest],redisdb[device-virtual],message-bus[device-virtual]",
          ...(ctx.enabled("device-mqtt") ? [o.deviceMqttKnownSecrets] : []),
        ].join(","),
        SECRETSTORE_HOST: ctx.host(o.secretStoreKey),
      }),
      {
        ports: [],
        probe: undefined,
        // long-running in compose (restart: always): a container, not a run-once step
        gate: undefined,
        secureRoot: true,
        secrets: "all",
        security: "secure",
        writable: ["/run", ssDir],
        shared: [
          // TokenFolderPath <ssDir>/config/assets holds the root token and unseal keys (edgex-go v3.1.1/v4.0.1
          // cmd/security-secretstore-setup/res/configuration.yaml): persisted with the secret store's data
          { name: "secret-store-config", path: `${ssDir}/config` },
          // it writes the bus credentials into eKuiper's source and connection files (KuiperConfigPath,
          // KuiperConnectionsPath, same file), which compose shares with the rules engine
          { name: "kuiper-sources", path: "/tmp/kuiper" },
          { name: "kuiper-connections", path: "/tmp/kuiper-connections" },
        ],
      },
    ),
    o.registry === "consul"
      ? {
          key: "consul",
          role: "registry",
          image: thirdParty.registry,
          ports: [{ name: "http", port: 8500 }],
          security: "always",
          env: (ctx): Record<string, string> =>
            ctx.secure
              ? {
                  // compose-builder add-service-secure-template.yml: consul EDGEX_ADD_REGISTRY_ACL_ROLES = TOKEN_LIST
                  EDGEX_ADD_REGISTRY_ACL_ROLES: extraTokens(ctx).join(","),
                  EDGEX_USER: "2002",
                  EDGEX_GROUP: "2001",
                  // setupRegistryACL reads the bootstrap token through the secret store (compose: SECRETSTORE_HOST)
                  EDGEX_SECURITY_SECRET_STORE: "true",
                  SECRETSTORE_HOST: ctx.host(o.secretStoreKey),
                  // consul_wait_install.sh starts the agent with `-client 0.0.0.0` but honours CONSUL_LOCAL_CONFIG:
                  // its default (edgex-go v3.1.1 cmd/security-bootstrapper/entrypoint-scripts/consul_wait_install.sh),
                  // plus the HTTP/gRPC listeners and the cluster bind on loopback on the host network
                  CONSUL_LOCAL_CONFIG: JSON.stringify({
                    enable_local_script_checks: true,
                    disable_update_check: true,
                    ports: { dns: -1 },
                    ...(ctx.bind === "127.0.0.1"
                      ? { bind_addr: "127.0.0.1", addresses: { http: "127.0.0.1", grpc: "127.0.0.1" } }
                      : {}),
                  }),
                }
              : {},
          args: (ctx) => consulArgs(ctx),
          gate: {
            entrypoint: ["/edgex-init/consul_wait_install.sh"],
            command: ["agent", "-ui", "-bootstrap", "-server", "-client", "0.0.0.0"],
          },
          probe: { kind: "http", path: "/v1/status/leader", port: 8500 },
          after: [],
          readOnlyRootFilesystem: false,
          secureRoot: true,
          secrets: { dir: "edgex-consul" },
          writable: ["/consul/config"],
          dataDir: "/consul/data",
        }
      : svc(
          "core-keeper",
          "registry",
          "core-keeper",
          59890,
          [dbKey],
          (ctx) => ({
            EDGEX_USE_REGISTRY: "false",
            EDGEX_CONFIG_PROVIDER: "none",
            DATABASE_HOST: ctx.host(dbKey),
            MESSAGEBUS_HOST: ctx.host(o.busHost),
            MESSAGEBUS_PORT: "1883",
            MESSAGEBUS_PROTOCOL: "tcp",
            MESSAGEBUS_TYPE: o.busType,
            ...(ctx.secure ? { MESSAGEBUS_AUTHMODE: "usernamepassword", MESSAGEBUS_SECRETNAME: "message-bus" } : {}),
          }),
          { gate: undefined },
        ),
    o.database === "redis"
      ? {
          key: "redis",
          role: "database",
          image: thirdParty.database,
          ports: [{ name: "redis", port: 6379 }],
          security: "always",
          env: (ctx): Record<string, string> =>
            ctx.secure
              ? {
                  DATABASECONFIG_NAME: "redis.conf",
                  DATABASECONFIG_PATH: "/run/redis/conf",
                  // configureRedis reads the credentials from the secret store (compose: SECRETSTORE_HOST edgex-vault)
                  EDGEX_SECURITY_SECRET_STORE: "true",
                  SECRETSTORE_HOST: ctx.host(o.secretStoreKey),
                }
              : {},
          // redis_wait_install.sh runs `redis-server <generated conf>` (no bind in it): the shim adds --bind
          loopbackShim: (ctx): Record<string, string> =>
            ctx.secure
              ? { PATH: `${LOOPBACK_DIR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` }
              : {},
          args: (ctx) => ["redis-server", "--bind", ctx.bind, "--dir", "/data", "--protected-mode", "no"],
          gate: {
            entrypoint: ["/edgex-init/redis_wait_install.sh"],
            command: ["/usr/local/bin/docker-entrypoint.sh", "/run/redis/conf/redis.conf"],
          },
          probe: { kind: "tcp", port: 6379 },
          after: [],
          user: { uid: 999, gid: 1000 },
          readOnlyRootFilesystem: true,
          secureRoot: true,
          secrets: { dir: "security-bootstrapper-redis" },
          writable: ["/run"],
          dataDir: "/data",
        }
      : {
          key: "postgres",
          role: "database",
          image: thirdParty.database,
          ports: [{ name: "postgres", port: 5432 }],
          security: "always",
          // without security nothing writes a password: trust, reachable only on localhost or inside the namespace
          env: (ctx): Record<string, string> => ({
            POSTGRES_DB: "edgex_db",
            PGDATA: "/var/lib/postgresql/data/pgdata",
            ...(ctx.secure
              ? {
                  DATABASECONFIG_NAME: "create-users.sh",
                  DATABASECONFIG_PATH: "/tmp/postgres-init-scripts",
                  // configurePostgres reads the credentials from the secret store (compose: SECRETSTORE_HOST)
                  EDGEX_SECURITY_SECRET_STORE: "true",
                  SECRETSTORE_HOST: ctx.host(o.secretStoreKey),
                }
              : { POSTGRES_USER: "postgres", POSTGRES_HOST_AUTH_METHOD: "trust" }),
          }),
          args: (ctx) => ["-c", `listen_addresses=${ctx.bind === "127.0.0.1" ? "localhost" : "*"}`],
          // postgres_wait_install.sh ends in `exec postgres "$@"` (edgex-go v4.0.1): `args` pass through it
          gate: { entrypoint: ["/edgex-init/postgres_wait_install.sh"] },
          probe: { kind: "exec", command: ["pg_isready", "-h", "127.0.0.1"] },
          after: [],
          user: { uid: 70, gid: 70 },
          readOnlyRootFilesystem: true,
          secureRoot: true,
          secrets: { dir: "security-bootstrapper-postgres" },
          writable: ["/var/run/postgresql", "/run", "/tmp"],
          dataDir: "/var/lib/postgresql/data",
        },
    {
      key: "mqtt-broker",
      role: "broker",
      image: thirdParty.broker,
      ports: [{ name: "mqtt", port: 1883 }],
      security: "always",
      // Odessa's message bus is MQTT: the broker is always on there; in Napa only for device-mqtt
      ...(o.busType === "mqtt" ? {} : { optional: "device-mqtt" as const }),
      env: (ctx): Record<string, string> =>
        ctx.secure && o.busType === "mqtt"
          ? {
              BROKER_TYPE: "mosquitto",
              CONF_DIR: "/edgex-init/bootstrap-mosquitto/res",
              // setupMessageBusCreds writes `listener 1883` (every interface) into mosquitto.conf: on the host
              // network the shim rewrites it to 127.0.0.1 before starting the broker the same way
              ENTRYPOINT:
                ctx.bind === "127.0.0.1"
                  ? `${LOOPBACK_DIR}/mosquitto-loopback.sh`
                  : "/docker-entrypoint.sh /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf",
              // messagebus_wait_install.sh reads the broker credentials from the secret store (compose: SECRETSTORE_HOST)
              EDGEX_SECURITY_SECRET_STORE: "true",
              SECRETSTORE_HOST: ctx.host(o.secretStoreKey),
            }
          : {},
      // not /mosquitto-no-auth.conf (anonymous on every interface): the edgex-loopback config listens on ctx.bind
      command: ["/usr/sbin/mosquitto", "-c", MOSQUITTO_CONF],
      // only the MQTT message bus is secured (credentials from the secret store)
      ...(o.busType === "mqtt"
        ? {
            gate: {
              entrypoint: ["/edgex-init/messagebus_wait_install.sh"],
              command: ["/usr/sbin/mosquitto", "-c", "/mosquitto/config/mosquitto.conf"],
            },
            secureRoot: true,
            secrets: { dir: "security-bootstrapper-messagebus" },
          }
        : { secrets: "none" as const }),
      probe: { kind: "tcp", port: 1883 },
      after: [],
      user: { uid: 1883, gid: 1883 },
      readOnlyRootFilesystem: true,
      writable: o.busType === "mqtt" ? ["/mosquitto/config"] : [],
      dataDir: "/mosquitto/data",
      ...(o.busType === "mqtt" ? { loopbackShim: () => ({}) } : {}),
    },
    {
      ...svc(
        "core-common-config-bootstrapper",
        "config-bootstrap",
        "core-common-config-bootstrapper",
        0,
        [registryKey],
        (ctx) => ({
          ALL_SERVICES_REGISTRY_HOST: ctx.host(registryKey),
          ALL_SERVICES_DATABASE_HOST: ctx.host(dbKey),
          ALL_SERVICES_MESSAGEBUS_HOST: ctx.host(o.busHost),
          ALL_SERVICES_MESSAGEBUS_TYPE: o.busType,
          APP_SERVICES_CLIENTS_CORE_METADATA_HOST: ctx.host("core-metadata"),
          DEVICE_SERVICES_CLIENTS_CORE_METADATA_HOST: ctx.host("core-metadata"),
          ...(ctx.secure && o.busType === "mqtt"
            ? {
                ALL_SERVICES_MESSAGEBUS_AUTHMODE: "usernamepassword",
                ALL_SERVICES_MESSAGEBUS_SECRETNAME: "message-bus",
              }
            : {}),
        }),
        { ports: [], probe: undefined, job: true },
      ),
      gate: { entrypoint: READY_TO_RUN, command: ["/entrypoint.sh", "/core-common-config-bootstrapper", "--registry"] },
    },
    svc("core-metadata", "core", "core-metadata", o.ports.metadata, ready),
    svc("core-data", "core", "core-data", o.ports.coreData, [...ready, "core-metadata"]),
    svc("core-command", "core", "core-command", o.ports.command, [...ready, "core-metadata"]),
    svc("support-notifications", "support", "support-notifications", o.ports.notifications, ready, undefined, {
      optional: "support-notifications",
    }),
    svc("support-scheduler", "support", "support-scheduler", o.ports.scheduler, ready, undefined, {
      optional: "support-scheduler",
    }),
    {
      key: "kuiper",
      role: "rules-engine",
      image: thirdParty.ekuiper,
      ports: [{ name: "http", port: o.ports.ekuiper }],
      security: "always",
      optional: "rules-engine",
      env: (ctx) => ({
        ...busEnv(ctx),
        EDGEX__DEFAULT__TOPIC: "edgex/rules-events",
        KUIPER__BASIC__CONSOLELOG: "true",
        KUIPER__BASIC__RESTPORT: String(o.ports.ekuiper),
        ...kuiperBind(ctx),
      }),
      gate: { entrypoint: ["/edgex-init/kuiper_wait_install.sh"] },
      probe: { kind: "tcp", port: o.ports.ekuiper },
      after: [o.busHost],
      user: { uid: 1001, gid: 1001 },
      readOnlyRootFilesystem: false,
      secrets: "none",
      // compose (napa docker-compose.yml rules-engine): kuiper-sources and kuiper-connections, where the secret-store
      // setup puts the bus credentials; prefilled from the image, as Docker does for a named volume
      shared: [
        { name: "kuiper-sources", path: "/kuiper/etc/sources" },
        { name: "kuiper-connections", path: "/kuiper/etc/connections" },
      ],
      prefill: [
        { name: "kuiper-sources", from: "/kuiper/etc/sources" },
        { name: "kuiper-connections", from: "/kuiper/etc/connections" },
      ],
    },
    svc(
      "app-rules-engine",
      "rules-app",
      "app-service-configurable",
      o.ports.rules,
      [...ready, "core-data"],
      () => ({ EDGEX_PROFILE: "rules-engine", SERVICE_PORT: String(o.ports.rules) }),
      {
        optional: "rules-engine",
        gate: { entrypoint: READY_TO_RUN, command: ["/app-service-configurable", "--registry"] },
      },
    ),
    svc("device-virtual", "device", "device-virtual", o.ports.virtual, [...ready, "core-metadata"], undefined, {
      optional: "device-virtual",
    }),
    svc("device-rest", "device", "device-rest", o.ports.rest, [...ready, "core-metadata"], undefined, {
      optional: "device-rest",
    }),
    svc(
      "device-mqtt",
      "device",
      "device-mqtt",
      o.ports.mqtt,
      [...ready, "core-metadata", "mqtt-broker"],
      (ctx) => ({
        MQTTBROKERINFO_HOST: ctx.host("mqtt-broker"),
        MQTTBROKERINFO_PORT: "1883",
        // edgex-compose napa/odessa compose-builder/add-secure-device-mqtt.yml
        ...(ctx.secure ? { MQTTBROKERINFO_AUTHMODE: "none", MQTTBROKERINFO_CREDENTIALSNAME: "message-bus" } : {}),
      }),
      { optional: "device-mqtt" },
    ),
    // No security-proxy-setup, nginx or proxy-auth: upstream's nginx configuration is generated for Docker (resolver
    // 127.0.0.11, compose host names; edgex-go v3.1.1/v4.0.1 cmd/security-proxy-setup/entrypoint.sh), and upstream's
    // own Kubernetes chart (edgexfoundry/edgex-helm v3.1.0) ships none of the three, using an ingress instead.
    {
      key: "ui",
      role: "ui",
      image: thirdParty.ui,
      ports: [{ name: "http", port: 4000 }],
      security: "always",
      optional: "ui",
      env: (ctx) => ({ EDGEX_SECURITY_SECRET_STORE: String(ctx.secure), SERVICE_HOST: ctx.host("ui") }),
      probe: { kind: "http", path: "/api/v3/ping", port: 4000 },
      after: ["core-command"],
      user: EDGEX_USER,
      readOnlyRootFilesystem: true,
      secrets: { dir: "ui" },
    },
  ];
}

// ---------------------------------------------------------------------------------------------- Napa 3.1
const NAPA_OPTS: V3Options = {
  tag: "3.1.1",
  arch: "suffix",
  registry: "consul",
  database: "redis",
  busHost: "redis",
  busType: "redis",
  secretStoreKey: "vault",
  secretStoreEnv: "VAULT",
  secretStoreWrapper: "/edgex-init/vault_wait_install.sh",
  // edgex-compose napa compose-builder/Makefile (ds-mqtt): KNOWN_SECRETS_LIST += redisdb[device-mqtt],message-bus[device-mqtt]
  deviceMqttKnownSecrets: "redisdb[device-mqtt],message-bus[device-mqtt]",
  ports: {
    coreData: 59880,
    metadata: 59881,
    command: 59882,
    notifications: 59860,
    scheduler: 59861,
    ekuiper: 59720,
    rules: 59701,
    virtual: 59900,
    rest: 59986,
    mqtt: 59982,
    proxyAuth: 59842,
  },
};
const NAPA: EdgeXReleaseData = {
  name: "napa",
  version: "3.1",
  registry: "consul",
  database: "redis",
  messageBus: "redis",
  secretStore: "vault",
  gateway: "none",
  secretsPath: "/tmp/edgex/secrets",
  secretsDirPrefix: "",
  pingPath: "/api/v3/ping",
  arches: ["amd64", "arm64"],
  services: v3Services(NAPA_OPTS, {
    secretStore: { repository: "hashicorp/vault", tag: "1.14", arch: "multi" },
    registry: { repository: "hashicorp/consul", tag: "1.16.6", arch: "multi" },
    database: { repository: "redis", tag: "7.0.15-alpine", arch: "multi" },
    broker: { repository: "eclipse-mosquitto", tag: "2.0.18", arch: "multi" },
    ekuiper: { repository: "lfedge/ekuiper", tag: "1.11.4-alpine", arch: "multi" },
    nginx: { repository: "nginx", tag: "1.25.5-alpine-slim", arch: "multi" },
    ui: { repository: "edgexfoundry/edgex-ui", tag: "3.1.0", arch: "suffix" },
  }),
  stageGate: v3StageGate(NAPA_OPTS),
};

// ---------------------------------------------------------------------------------------------- Odessa 4.0
const ODESSA_OPTS: V3Options = {
  tag: "4.0.1",
  arch: "multi",
  registry: "core-keeper",
  database: "postgres",
  busHost: "mqtt-broker",
  busType: "mqtt",
  secretStoreKey: "secret-store",
  secretStoreEnv: "BAO",
  secretStoreWrapper: "/edgex-init/secretstore_wait_install.sh",
  // edgex-compose odessa compose-builder/Makefile (ds-mqtt): KNOWN_SECRETS_LIST += message-bus[device-mqtt]
  deviceMqttKnownSecrets: "message-bus[device-mqtt]",
  ports: {
    coreData: 59880,
    metadata: 59881,
    command: 59882,
    notifications: 59860,
    scheduler: 59863,
    ekuiper: 59720,
    rules: 59701,
    virtual: 59900,
    rest: 59986,
    mqtt: 59982,
    proxyAuth: 59842,
  },
};
const ODESSA: EdgeXReleaseData = {
  name: "odessa",
  version: "4.0",
  registry: "core-keeper",
  database: "postgres",
  messageBus: "mqtt",
  secretStore: "openbao",
  gateway: "none",
  secretsPath: "/tmp/edgex/secrets",
  secretsDirPrefix: "",
  pingPath: "/api/v3/ping",
  arches: ["amd64", "arm64"],
  services: v3Services(ODESSA_OPTS, {
    secretStore: { repository: "openbao/openbao", tag: "2.4.4", arch: "multi" },
    registry: { repository: "edgexfoundry/core-keeper", tag: "4.0.1", arch: "multi" },
    database: { repository: "postgres", tag: "18.1-alpine", arch: "multi" },
    broker: { repository: "eclipse-mosquitto", tag: "2.0.22", arch: "multi" },
    ekuiper: { repository: "lfedge/ekuiper", tag: "2.3.1-alpine", arch: "multi" },
    nginx: { repository: "nginx", tag: "1.29-alpine-slim", arch: "multi" },
    ui: { repository: "edgexfoundry/edgex-ui", tag: "4.0.1", arch: "multi" },
  }),
  stageGate: v3StageGate(ODESSA_OPTS),
};

export const EDGEX_RELEASES = { "hanoi-1.3": HANOI, "napa-3.1": NAPA, "odessa-4.0": ODESSA } as const satisfies Record<
  string,
  EdgeXReleaseData
>;
export type EdgeXReleaseName = keyof typeof EDGEX_RELEASES;
export const EDGEX_RELEASE_NAMES = Object.keys(EDGEX_RELEASES) as EdgeXReleaseName[];
export const DEFAULT_EDGEX_RELEASE: EdgeXReleaseName = "napa-3.1";

/** `edgexfoundry/core-data-arm64:3.1.1` on arm64 for suffix-named images; the multi-arch tag otherwise. */
export function imageFor(image: EdgeXImage, arch: "amd64" | "arm64"): string {
  const repo = image.arch === "suffix" && arch === "arm64" ? `${image.repository}-arm64` : image.repository;
  return `${repo}:${image.tag}`;
}
