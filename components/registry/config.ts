import { stringify } from "yaml";
import { RegistryProps, RegistrySpec, registryMajor } from "./spec";

/** Where the registry reads its config, by distribution major: v3 `/etc/distribution`, v2 `/etc/docker/registry`. */
export function registryConfigDir(spec: RegistrySpec): string {
  return registryMajor(spec) === 3 ? "/etc/distribution" : "/etc/docker/registry";
}

/** Paths the config refers to; they differ between the pod and the host service. */
export interface RegistryConfigPaths {
  readonly rootDirectory: string;
  readonly htpasswd: string;
  readonly certificate: string;
  readonly key: string;
  readonly addr: string;
}

/** Paths inside the registry pod. */
export const REGISTRY_POD_PATHS: RegistryConfigPaths = {
  rootDirectory: "/var/lib/registry",
  htpasswd: "/auth/htpasswd",
  certificate: "/etc/ssl/docker/tls.crt",
  key: "/etc/ssl/docker/tls.key",
  addr: ":5000",
};

/**
 * The distribution `config.yml` (same schema in v2 and v3). Secrets are not in it: `http.secret` comes from
 * `REGISTRY_HTTP_SECRET` and the proxy password from `REGISTRY_PROXY_PASSWORD`, both from a Secret or an env file.
 */
export function renderRegistryConfig(props: RegistryProps, paths: RegistryConfigPaths): string {
  const { spec } = props;
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: "info", fields: { service: "registry" } },
    storage: {
      filesystem: { rootdirectory: paths.rootDirectory },
      // Deletion is what garbage collection reclaims; a pull-through cache manages its own expiry.
      delete: { enabled: spec.proxy === undefined },
      cache: { blobdescriptor: "inmemory" },
      maintenance: { uploadpurging: { enabled: true, age: "168h", interval: "24h", dryrun: false } },
    },
    http: {
      addr: paths.addr,
      headers: { "X-Content-Type-Options": ["nosniff"] },
      ...(props.tls.kind === "tls" ? { tls: { certificate: paths.certificate, key: paths.key } } : {}),
    },
    health: { storagedriver: { enabled: true, interval: "10s", threshold: 3 } },
  };
  if (spec.auth) config.auth = { htpasswd: { realm: spec.auth.realm, path: paths.htpasswd } };
  if (spec.proxy)
    config.proxy = {
      remoteurl: spec.proxy.remoteUrl,
      ...(spec.proxy.username ? { username: spec.proxy.username } : {}),
    };
  return stringify(config, { lineWidth: 0 });
}

/** Environment for secrets (`KEY=value` lines for an EnvironmentFile, or a Secret's data). */
export function registrySecretEnv(props: RegistryProps): Record<string, string> {
  return {
    REGISTRY_HTTP_SECRET: props.httpSecret,
    ...(props.proxyPassword !== undefined ? { REGISTRY_PROXY_PASSWORD: props.proxyPassword } : {}),
  };
}
