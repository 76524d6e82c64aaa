import { DroneCiProps } from "./spec";

/** Port the server listens on inside its pod (non-root, so not 80). */
export const DRONE_SERVER_PORT = 8080;
export const DRONE_SERVER_SERVICE = "drone-server";

/** The in-cluster RPC address runners use (helm/charts #13878: through the Service, not the public host). */
export function droneRpcHost(props: DroneCiProps): string {
  return `${DRONE_SERVER_SERVICE}.${props.spec.namespace}.svc.cluster.local`;
}

/**
 * The server's environment, split the way drone/charts #20 asked for: `config` (a ConfigMap) holds nothing secret;
 * `secret` (a Secret) holds the RPC secret, the database encryption secret, the OAuth client secret and an
 * external database's datasource.
 */
export function droneServerEnv(props: DroneCiProps): {
  config: Record<string, string>;
  secret: Record<string, string>;
} {
  const { spec } = props;
  const p = spec.provider;
  const db = spec.server.database;
  const config: Record<string, string> = {
    DRONE_SERVER_HOST: spec.server.host,
    DRONE_SERVER_PROTO: spec.server.proto,
    DRONE_SERVER_PORT: `:${DRONE_SERVER_PORT}`,
    DRONE_TLS_AUTOCERT: "false",
    DRONE_DATABASE_DRIVER: db.driver,
    ...(db.driver === "sqlite3" ? { DRONE_DATABASE_DATASOURCE: "/data/database.sqlite" } : {}),
    DRONE_GIT_ALWAYS_AUTH: "true",
    DRONE_LOGS_TEXT: "true",
    ...(spec.server.adminUser ? { DRONE_USER_CREATE: `username:${spec.server.adminUser},admin:true` } : {}),
  };
  const secret: Record<string, string> = {
    DRONE_RPC_SECRET: props.rpcSecret,
    DRONE_DATABASE_SECRET: props.databaseSecret,
    ...(props.databaseDatasource !== undefined ? { DRONE_DATABASE_DATASOURCE: props.databaseDatasource } : {}),
  };
  switch (p.kind) {
    case "gogs":
      config.DRONE_GOGS_SERVER = props.providerServer;
      if (p.skipVerify) config.DRONE_GOGS_SKIP_VERIFY = "true";
      break;
    case "gitea":
      config.DRONE_GITEA_SERVER = props.providerServer;
      config.DRONE_GITEA_CLIENT_ID = p.clientId;
      if (p.skipVerify) config.DRONE_GITEA_SKIP_VERIFY = "true";
      secret.DRONE_GITEA_CLIENT_SECRET = props.clientSecret ?? "";
      break;
    case "gitlab":
      config.DRONE_GITLAB_SERVER = props.providerServer;
      config.DRONE_GITLAB_CLIENT_ID = p.clientId;
      secret.DRONE_GITLAB_CLIENT_SECRET = props.clientSecret ?? "";
      break;
    case "github":
      config.DRONE_GITHUB_SERVER = props.providerServer;
      config.DRONE_GITHUB_CLIENT_ID = p.clientId;
      secret.DRONE_GITHUB_CLIENT_SECRET = props.clientSecret ?? "";
      break;
  }
  return { config, secret };
}
