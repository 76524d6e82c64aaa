/**
 * EdgeX Foundry releases as data: every image, port, dependency and environment variable a release needs. Adding
 * a release is adding an entry to `EDGEX_RELEASES`; renderers never branch on a release name.
 *
 * Sources (read 2026-11): edgex-compose (hanoi, napa, odessa branches), edgex-examples deployment/kubernetes
 * (Hanoi), edgexfoundry/edgex-helm (Napa 3.1).
 */

/** What a service does; renderers place and order services by role. */
export type EdgeXRole =
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
export const OPTIONAL_SERVICES = ["support-notifications", "support-scheduler", "rules-engine", "device-virtual", "device-rest", "device-mqtt", "ui"] as const;
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
  readonly gateway: "kong" | "nginx";
  /** Where services read their secret-store tokens (a shared emptyDir). */
  readonly secretsPath: string;
  /** The services' health path. */
  readonly pingPath: string;
  /** Architectures the release publishes images for. */
  readonly arches: readonly ("amd64" | "arm64")[];
  readonly services: readonly EdgeXServiceData[];
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
const hanoiImage = (svc: string, tag = "1.3.1"): EdgeXImage => ({ repository: `edgexfoundry/docker-${svc}`, tag, arch: "suffix" });
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
    ? { SECRETSTORE_HOST: ctx.host("vault"), SECRETSTORE_ROOTCACERTPATH: "", SECRETSTORE_TOKENFILE: `/tmp/edgex/secrets/edgex-${self}/secrets-token.json` }
    : {}),
});
const hanoiGo = (key: string, role: EdgeXRole, svc: string, port: number, after: readonly string[], extra: (ctx: EnvContext) => Record<string, string> = () => ({}), rest: Partial<EdgeXServiceData> = {}) =>
  go(key, role, hanoiImage(svc), port, after, (ctx) => ({ ...hanoiCommon(ctx, key, ctx.secure), ...extra(ctx) }), { probe: { kind: "http", path: "/api/v1/ping", port }, ...rest });

const HANOI: EdgeXReleaseData = {
  name: "hanoi",
  version: "1.3",
  registry: "consul",
  database: "redis",
  messageBus: "zeromq",
  secretStore: "vault",
  gateway: "kong",
  secretsPath: "/tmp/edgex/secrets",
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
        VAULT_LOCAL_CONFIG: JSON.stringify({ listener: { tcp: { address: `${ctx.bind}:8200`, tls_disable: "1" } }, storage: { file: { path: "/vault/file" } }, disable_mlock: true }),
      }),
      args: () => ["server"],
      probe: { kind: "tcp", port: 8200 },
      after: [],
      user: { uid: 100, gid: 1000 },
      readOnlyRootFilesystem: true,
      writable: ["/vault/config", "/vault/logs"],
      dataDir: "/vault/file",
    },
    hanoiGo("secretstore-setup", "secretstore-setup", "security-secretstore-setup-go", 0, ["vault"], (ctx) => ({
      SECRETSTORE_SETUP_DONE_FLAG: "/tmp/edgex/secrets/edgex-consul/.secretstore-setup-done",
      SECRETSTORE_HOST: ctx.host("vault"),
      ADD_SECRETSTORE_TOKENS: "edgex-core-data,edgex-core-metadata,edgex-core-command,edgex-support-notifications,edgex-support-scheduler,app-service-rules,edgex-device-virtual,edgex-device-rest,edgex-device-mqtt,edgex-security-bootstrap-redis,edgex-security-proxy-setup",
    }), { security: "secure", ports: [], probe: undefined, job: true, writable: ["/vault/config"] }),
    {
      key: "consul",
      role: "registry",
      image: hanoiImage("edgex-consul", "1.3.0"),
      ports: [{ name: "http", port: 8500 }],
      security: "always",
      env: (ctx) => ({ EDGEX_DB: "redis", EDGEX_SECURE: String(ctx.secure), SECRETSTORE_SETUP_DONE_FLAG: "/tmp/edgex/secrets/edgex-consul/.secretstore-setup-done" }),
      args: (ctx) => ["agent", "-ui", "-bootstrap", "-server", `-client=${ctx.bind}`, "-data-dir=/consul/data"],
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
    },
    hanoiGo("bootstrap-redis", "database-setup", "security-bootstrap-redis-go", 0, ["redis", "vault"], (ctx) => ({ SECRETSTORE_TOKENFILE: "/tmp/edgex/secrets/edgex-security-bootstrap-redis/secrets-token.json", DATABASES_PRIMARY_HOST: ctx.host("redis") }), {
      security: "secure",
      ports: [],
      probe: undefined,
      job: true,
    }),
    hanoiGo("core-metadata", "core", "core-metadata-go", 48081, ["consul", "redis"], () => ({ NOTIFICATIONS_SENDER: "edgex-core-metadata" })),
    { ...hanoiGo("core-data", "core", "core-data-go", 48080, ["consul", "redis", "core-metadata"]), ports: [{ name: "http", port: 48080 }, { name: "zmq", port: 5563 }] },
    hanoiGo("core-command", "core", "core-command-go", 48082, ["consul", "redis", "core-metadata"]),
    hanoiGo("support-notifications", "support", "support-notifications-go", 48060, ["consul", "redis"], undefined, { optional: "support-notifications" }),
    hanoiGo("support-scheduler", "support", "support-scheduler-go", 48085, ["consul", "redis"], () => ({ INTERVALACTIONS_SCRUBPUSHED_HOST: "localhost", INTERVALACTIONS_SCRUBAGED_HOST: "localhost" }), {
      optional: "support-scheduler",
    }),
    {
      key: "kuiper",
      role: "rules-engine",
      image: { repository: "emqx/kuiper", tag: "1.1.1-alpine", arch: "multi" },
      ports: [{ name: "http", port: 48075 }, { name: "rest", port: 20498 }],
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
      }),
      probe: { kind: "tcp", port: 48075 },
      after: ["core-data"],
      user: { uid: 1001, gid: 1001 },
      readOnlyRootFilesystem: false,
    },
    hanoiGo("app-service-rules", "rules-app", "app-service-configurable", 48100, ["consul", "core-data"], (ctx) => ({
      EDGEX_PROFILE: "rules-engine",
      BINDING_PUBLISHTOPIC: "events",
      MESSAGEBUS_PUBLISHHOST_HOST: ctx.bind === "127.0.0.1" ? "127.0.0.1" : "*",
      MESSAGEBUS_SUBSCRIBEHOST_HOST: ctx.host("core-data"),
      SERVICE_PORT: "48100",
    }), { optional: "rules-engine" }),
    hanoiGo("device-virtual", "device", "device-virtual-go", 49990, ["core-data", "core-metadata"], undefined, { optional: "device-virtual" }),
    hanoiGo("device-rest", "device", "device-rest-go", 49986, ["core-data", "core-metadata"], undefined, { optional: "device-rest" }),
    hanoiGo("device-mqtt", "device", "device-mqtt-go", 49982, ["core-data", "core-metadata", "mqtt-broker"], (ctx) => ({
      DRIVER_INCOMINGHOST: ctx.host("mqtt-broker"),
      DRIVER_RESPONSEHOST: ctx.host("mqtt-broker"),
    }), { optional: "device-mqtt" }),
    {
      key: "mqtt-broker",
      role: "broker",
      image: { repository: "eclipse-mosquitto", tag: "1.6.3", arch: "multi" },
      ports: [{ name: "mqtt", port: 1883 }],
      security: "always",
      optional: "device-mqtt",
      env: () => ({}),
      probe: { kind: "tcp", port: 1883 },
      after: [],
      user: { uid: 1883, gid: 1883 },
      readOnlyRootFilesystem: true,
      dataDir: "/mosquitto/data",
    },
    {
      key: "kong-db",
      role: "gateway-db",
      image: { repository: "postgres", tag: "12.3-alpine", arch: "multi" },
      ports: [{ name: "postgres", port: 5432 }],
      security: "secure",
      env: () => ({ POSTGRES_DB: "kong", POSTGRES_USER: "kong", POSTGRES_PASSWORD_FILE: "/tmp/edgex/secrets/edgex-kong/postgres-password", PGDATA: "/var/lib/postgresql/data/pgdata" }),
      args: (ctx) => ["-c", `listen_addresses=${ctx.bind === "127.0.0.1" ? "localhost" : "*"}`],
      probe: { kind: "tcp", port: 5432 },
      after: ["secretstore-setup"],
      user: { uid: 70, gid: 70 },
      readOnlyRootFilesystem: true,
      writable: ["/var/run/postgresql", "/tmp"],
      dataDir: "/var/lib/postgresql/data",
    },
    {
      key: "kong",
      role: "gateway",
      image: { repository: "kong", tag: "2.0.5", arch: "multi" },
      ports: [{ name: "proxy", port: 8000 }, { name: "proxy-tls", port: 8443 }],
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
      command: ["/bin/sh", "-c", "kong migrations bootstrap --vv || kong migrations up --vv; exec /docker-entrypoint.sh kong docker-start"],
      probe: { kind: "tcp", port: 8000 },
      after: ["kong-db"],
      user: { uid: 1000, gid: 1000 },
      readOnlyRootFilesystem: false,
      writable: ["/tmp"],
    },
    hanoiGo("proxy-setup", "gateway-setup", "security-proxy-setup-go", 0, ["kong", "vault"], (ctx) => ({
      KONGURL_SERVER: ctx.host("kong"),
      SECRETSERVICE_SERVER: ctx.host("vault"),
      SECRETSERVICE_TOKENPATH: "/tmp/edgex/secrets/edgex-security-proxy-setup/secrets-token.json",
    }), { security: "secure", ports: [], probe: undefined, job: true }),
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
    },
  ],
};

// ---------------------------------------------------------------------------------------------- v3 / v4 shared
interface V3Options {
  readonly tag: string;
  readonly arch: "suffix" | "multi";
  readonly registry: "consul" | "core-keeper";
  readonly database: "redis" | "postgres";
  /** The message bus host key: `redis` (Napa) or `mqtt-broker` (Odessa). */
  readonly busHost: string;
  readonly busType: "redis" | "mqtt";
  readonly secretStoreKey: "vault" | "openbao";
  readonly ports: Readonly<Record<"coreData" | "metadata" | "command" | "notifications" | "scheduler" | "ekuiper" | "rules" | "virtual" | "rest" | "mqtt" | "proxyAuth", number>>;
}

const v3Image = (o: V3Options, svc: string): EdgeXImage => ({ repository: `edgexfoundry/${svc}`, tag: o.tag, arch: o.arch });

function v3Services(o: V3Options, thirdParty: {
  readonly secretStore: EdgeXImage;
  readonly registry: EdgeXImage;
  readonly database: EdgeXImage;
  readonly broker: EdgeXImage;
  readonly ekuiper: EdgeXImage;
  readonly nginx: EdgeXImage;
  readonly ui: EdgeXImage;
}): EdgeXServiceData[] {
  const registryKey = o.registry === "consul" ? "consul" : "core-keeper";
  const dbKey = o.database === "redis" ? "redis" : "postgres";
  const provider = (ctx: EnvContext) => (o.registry === "consul" ? `consul.http://${ctx.host("consul")}:8500` : `keeper.http://${ctx.host("core-keeper")}:59890`);
  const common = (ctx: EnvContext, self: string): Record<string, string> => ({
    EDGEX_SECURITY_SECRET_STORE: String(ctx.secure),
    EDGEX_CONFIG_PROVIDER: provider(ctx),
    EDGEX_USE_REGISTRY: "true",
    REGISTRY_HOST: ctx.host(registryKey),
    SERVICE_HOST: ctx.host(self),
    SERVICE_SERVERBINDADDR: ctx.bind,
    ...(ctx.secure ? { SECRETSTORE_HOST: ctx.host(o.secretStoreKey) } : {}),
  });
  const svc = (key: string, role: EdgeXRole, image: string, port: number, after: readonly string[], extra: (ctx: EnvContext) => Record<string, string> = () => ({}), rest: Partial<EdgeXServiceData> = {}) =>
    go(key, role, v3Image(o, image), port, after, (ctx) => ({ ...common(ctx, key), ...extra(ctx) }), { probe: { kind: "http", path: "/api/v3/ping", port }, ...rest });
  const ready = [registryKey, dbKey];
  return [
    {
      key: o.secretStoreKey,
      role: "secretstore",
      image: thirdParty.secretStore,
      ports: [{ name: "http", port: 8200 }],
      security: "secure",
      env: (ctx) => {
        const prefix = o.secretStoreKey === "vault" ? "VAULT" : "BAO";
        return {
          [`${prefix}_ADDR`]: `http://${ctx.host(o.secretStoreKey)}:8200`,
          [`${prefix}_CONFIG_DIR`]: `/${o.secretStoreKey}/config`,
          SKIP_SETCAP: "true",
          [`${prefix}_LOCAL_CONFIG`]: JSON.stringify({ listener: { tcp: { address: `${ctx.bind}:8200`, tls_disable: "1" } }, storage: { file: { path: `/${o.secretStoreKey}/file` } }, disable_mlock: true }),
        };
      },
      args: () => ["server"],
      probe: { kind: "tcp", port: 8200 },
      after: [],
      user: { uid: 100, gid: 1000 },
      readOnlyRootFilesystem: true,
      writable: [`/${o.secretStoreKey}/config`, `/${o.secretStoreKey}/logs`],
      dataDir: `/${o.secretStoreKey}/file`,
    },
    svc("security-secretstore-setup", "secretstore-setup", "security-secretstore-setup", 0, [o.secretStoreKey], (ctx) => ({
      SECUREMESSAGEBUS_TYPE: o.busType,
      EDGEX_ADD_SECRETSTORE_TOKENS: "",
      EDGEX_ADD_KNOWN_SECRETS: `redisdb[app-rules-engine],redisdb[device-rest],message-bus[device-rest],redisdb[device-virtual],message-bus[device-virtual],redisdb[device-mqtt],message-bus[device-mqtt]`,
      SECRETSTORE_HOST: ctx.host(o.secretStoreKey),
    }), { security: "secure", ports: [], probe: undefined, job: true, writable: ["/vault/config"] }),
    o.registry === "consul"
      ? {
          key: "consul",
          role: "registry",
          image: thirdParty.registry,
          ports: [{ name: "http", port: 8500 }],
          security: "always",
          env: () => ({}),
          args: (ctx) => ["agent", "-ui", "-bootstrap", "-server", `-client=${ctx.bind}`, "-data-dir=/consul/data"],
          probe: { kind: "http", path: "/v1/status/leader", port: 8500 },
          after: [],
          readOnlyRootFilesystem: false,
          dataDir: "/consul/data",
        }
      : svc("core-keeper", "registry", "core-keeper", 59890, [dbKey], (ctx) => ({ EDGEX_USE_REGISTRY: "false", EDGEX_CONFIG_PROVIDER: "none", DATABASE_HOST: ctx.host(dbKey), MESSAGEBUS_HOST: ctx.host(o.busHost) })),
    o.database === "redis"
      ? {
          key: "redis",
          role: "database",
          image: thirdParty.database,
          ports: [{ name: "redis", port: 6379 }],
          security: "always",
          env: () => ({}),
          args: (ctx) => ["redis-server", "--bind", ctx.bind, "--dir", "/data", "--protected-mode", "no"],
          probe: { kind: "tcp", port: 6379 },
          after: [],
          user: { uid: 999, gid: 1000 },
          readOnlyRootFilesystem: true,
          dataDir: "/data",
        }
      : {
          key: "postgres",
          role: "database",
          image: thirdParty.database,
          ports: [{ name: "postgres", port: 5432 }],
          security: "always",
          // without security nothing writes a password: trust, reachable only on localhost or inside the namespace
          env: (ctx) => ({
            POSTGRES_DB: "edgex_db",
            POSTGRES_USER: "postgres",
            PGDATA: "/var/lib/postgresql/data/pgdata",
            ...(ctx.secure ? { POSTGRES_PASSWORD_FILE: "/tmp/edgex/secrets/postgres/password", POSTGRES_HOST_AUTH_METHOD: "scram-sha-256" } : { POSTGRES_HOST_AUTH_METHOD: "trust" }),
          }),
          args: (ctx) => ["-c", `listen_addresses=${ctx.bind === "127.0.0.1" ? "localhost" : "*"}`],
          probe: { kind: "exec", command: ["pg_isready", "-h", "127.0.0.1"] },
          after: [],
          user: { uid: 70, gid: 70 },
          readOnlyRootFilesystem: true,
          writable: ["/var/run/postgresql", "/tmp"],
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
      env: () => ({}),
      command: ["/usr/sbin/mosquitto", "-c", "/mosquitto-no-auth.conf"],
      probe: { kind: "tcp", port: 1883 },
      after: [],
      user: { uid: 1883, gid: 1883 },
      readOnlyRootFilesystem: true,
      dataDir: "/mosquitto/data",
    },
    svc("core-common-config-bootstrapper", "config-bootstrap", "core-common-config-bootstrapper", 0, [registryKey], (ctx) => ({
      ALL_SERVICES_REGISTRY_HOST: ctx.host(registryKey),
      ALL_SERVICES_DATABASE_HOST: ctx.host(dbKey),
      ALL_SERVICES_MESSAGEBUS_HOST: ctx.host(o.busHost),
      ALL_SERVICES_MESSAGEBUS_TYPE: o.busType,
      APP_SERVICES_CLIENTS_CORE_METADATA_HOST: ctx.host("core-metadata"),
      DEVICE_SERVICES_CLIENTS_CORE_METADATA_HOST: ctx.host("core-metadata"),
    }), { ports: [], probe: undefined, job: true }),
    svc("core-metadata", "core", "core-metadata", o.ports.metadata, ready),
    svc("core-data", "core", "core-data", o.ports.coreData, [...ready, "core-metadata"]),
    svc("core-command", "core", "core-command", o.ports.command, [...ready, "core-metadata"]),
    svc("support-notifications", "support", "support-notifications", o.ports.notifications, ready, undefined, { optional: "support-notifications" }),
    svc("support-scheduler", "support", "support-scheduler", o.ports.scheduler, ready, undefined, { optional: "support-scheduler" }),
    {
      key: "ekuiper",
      role: "rules-engine",
      image: thirdParty.ekuiper,
      ports: [{ name: "http", port: o.ports.ekuiper }],
      security: "always",
      optional: "rules-engine",
      env: (ctx) => ({
        CONNECTION__EDGEX__REDISMSGBUS__SERVER: ctx.host(o.busHost),
        CONNECTION__EDGEX__REDISMSGBUS__PORT: o.busType === "redis" ? "6379" : "1883",
        CONNECTION__EDGEX__REDISMSGBUS__TYPE: o.busType,
        EDGEX__DEFAULT__SERVER: ctx.host(o.busHost),
        EDGEX__DEFAULT__PORT: o.busType === "redis" ? "6379" : "1883",
        EDGEX__DEFAULT__TYPE: o.busType,
        EDGEX__DEFAULT__TOPIC: "edgex/rules-events",
        KUIPER__BASIC__CONSOLELOG: "true",
        KUIPER__BASIC__RESTPORT: String(o.ports.ekuiper),
      }),
      probe: { kind: "tcp", port: o.ports.ekuiper },
      after: [o.busHost],
      user: { uid: 1001, gid: 1001 },
      readOnlyRootFilesystem: false,
    },
    svc("app-rules-engine", "rules-app", "app-service-configurable", o.ports.rules, [...ready, "core-data"], () => ({ EDGEX_PROFILE: "rules-engine", SERVICE_PORT: String(o.ports.rules) }), { optional: "rules-engine" }),
    svc("device-virtual", "device", "device-virtual", o.ports.virtual, [...ready, "core-metadata"], undefined, { optional: "device-virtual" }),
    svc("device-rest", "device", "device-rest", o.ports.rest, [...ready, "core-metadata"], undefined, { optional: "device-rest" }),
    svc("device-mqtt", "device", "device-mqtt", o.ports.mqtt, [...ready, "core-metadata", "mqtt-broker"], (ctx) => ({
      MQTTBROKERINFO_HOST: ctx.host("mqtt-broker"),
      MQTTBROKERINFO_PORT: "1883",
    }), { optional: "device-mqtt" }),
    svc("security-proxy-auth", "gateway-setup", "security-proxy-auth", o.ports.proxyAuth, [o.secretStoreKey], undefined, { security: "secure" }),
    {
      key: "nginx",
      role: "gateway",
      image: thirdParty.nginx,
      ports: [{ name: "https", port: 8443 }],
      security: "secure",
      env: (ctx) => ({ EDGEX_PROXY_AUTH_HOST: ctx.host("security-proxy-auth") }),
      probe: { kind: "tcp", port: 8443 },
      after: ["security-proxy-auth", "security-proxy-setup"],
      readOnlyRootFilesystem: false,
      writable: ["/var/cache/nginx", "/var/run", "/etc/nginx/conf.d", "/etc/ssl/nginx"],
    },
    svc("security-proxy-setup", "gateway-setup", "security-proxy-setup", 0, [o.secretStoreKey], (ctx) => ({
      EDGEX_ADD_PROXY_ROUTE: "",
      ROUTES_CORE_DATA_HOST: ctx.host("core-data"),
      ROUTES_CORE_METADATA_HOST: ctx.host("core-metadata"),
      ROUTES_CORE_COMMAND_HOST: ctx.host("core-command"),
      ROUTES_RULES_ENGINE_HOST: ctx.host("ekuiper"),
      ROUTES_DEVICE_VIRTUAL_HOST: ctx.host("device-virtual"),
    }), { security: "secure", ports: [], probe: undefined, job: true, writable: ["/etc/nginx/conf.d", "/etc/ssl/nginx"] }),
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
  ports: { coreData: 59880, metadata: 59881, command: 59882, notifications: 59860, scheduler: 59861, ekuiper: 59720, rules: 59701, virtual: 59900, rest: 59986, mqtt: 59982, proxyAuth: 59842 },
};
const NAPA: EdgeXReleaseData = {
  name: "napa",
  version: "3.1",
  registry: "consul",
  database: "redis",
  messageBus: "redis",
  secretStore: "vault",
  gateway: "nginx",
  secretsPath: "/tmp/edgex/secrets",
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
};

// ---------------------------------------------------------------------------------------------- Odessa 4.0
const ODESSA_OPTS: V3Options = {
  tag: "4.0.1",
  arch: "multi",
  registry: "core-keeper",
  database: "postgres",
  busHost: "mqtt-broker",
  busType: "mqtt",
  secretStoreKey: "openbao",
  ports: { coreData: 59880, metadata: 59881, command: 59882, notifications: 59860, scheduler: 59863, ekuiper: 59720, rules: 59701, virtual: 59900, rest: 59986, mqtt: 59982, proxyAuth: 59842 },
};
const ODESSA: EdgeXReleaseData = {
  name: "odessa",
  version: "4.0",
  registry: "core-keeper",
  database: "postgres",
  messageBus: "mqtt",
  secretStore: "openbao",
  gateway: "nginx",
  secretsPath: "/tmp/edgex/secrets",
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
};

export const EDGEX_RELEASES = { "hanoi-1.3": HANOI, "napa-3.1": NAPA, "odessa-4.0": ODESSA } as const satisfies Record<string, EdgeXReleaseData>;
export type EdgeXReleaseName = keyof typeof EDGEX_RELEASES;
export const EDGEX_RELEASE_NAMES = Object.keys(EDGEX_RELEASES) as EdgeXReleaseName[];
export const DEFAULT_EDGEX_RELEASE: EdgeXReleaseName = "napa-3.1";

/** `edgexfoundry/core-data-arm64:3.1.1` on arm64 for suffix-named images; the multi-arch tag otherwise. */
export function imageFor(image: EdgeXImage, arch: "amd64" | "arm64"): string {
  const repo = image.arch === "suffix" && arch === "arm64" ? `${image.repository}-arm64` : image.repository;
  return `${repo}:${image.tag}`;
}
