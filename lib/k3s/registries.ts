import { stringify } from "yaml";
import { StepFile } from "../steps/host-step";

/**
 * The content of K3s's `/etc/rancher/k3s/registries.yaml` (containerd mirrors and per-registry auth/TLS), as
 * K3s documents it: `mirrors.<name>.endpoint[]` (+ `rewrite`), `configs.<host:port>.auth` and `.tls`.
 */
export interface K3sRegistries {
  readonly mirrors?: Readonly<
    Record<string, { readonly endpoint: readonly string[]; readonly rewrite?: Readonly<Record<string, string>> }>
  >;
  readonly configs?: Readonly<
    Record<
      string,
      {
        readonly auth?: { readonly username: string; readonly password: string };
        readonly tls?: {
          readonly caFile?: string;
          readonly certFile?: string;
          readonly keyFile?: string;
          readonly insecureSkipVerify?: boolean;
        };
      }
    >
  >;
  /** Extra files the config refers to (CA bundles), placed on every node before K3s reads the config. */
  readonly files?: readonly StepFile[];
}

export const K3S_REGISTRIES_PATH = "/etc/rancher/k3s/registries.yaml";

/** Renders registries.yaml (snake_case keys as K3s reads them). */
export function renderRegistriesYaml(r: K3sRegistries): string {
  const configs = Object.fromEntries(
    Object.entries(r.configs ?? {}).map(([host, c]) => [
      host,
      {
        ...(c.auth ? { auth: { username: c.auth.username, password: c.auth.password } } : {}),
        ...(c.tls
          ? {
              tls: {
                ...(c.tls.caFile ? { ca_file: c.tls.caFile } : {}),
                ...(c.tls.certFile ? { cert_file: c.tls.certFile } : {}),
                ...(c.tls.keyFile ? { key_file: c.tls.keyFile } : {}),
                ...(c.tls.insecureSkipVerify ? { insecure_skip_verify: true } : {}),
              },
            }
          : {}),
      },
    ]),
  );
  return stringify({
    ...(r.mirrors ? { mirrors: r.mirrors } : {}),
    ...(Object.keys(configs).length ? { configs } : {}),
  });
}

/** Merges registry configs from several sources (e.g. the CN mirror and an in-cluster registry). */
export function mergeRegistries(...all: (K3sRegistries | undefined)[]): K3sRegistries {
  return {
    mirrors: Object.assign({}, ...all.map((r) => r?.mirrors ?? {})),
    configs: Object.assign({}, ...all.map((r) => r?.configs ?? {})),
    files: all.flatMap((r) => r?.files ?? []),
  };
}
