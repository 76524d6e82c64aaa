import { StepFile } from "../steps/host-step";
import { K3sRegistries } from "./registries";

/** containerd's per-registry host configuration directory (`config_path`). */
export const CONTAINERD_CERTS_DIR = "/etc/containerd/certs.d";
/** The 0600 file with registry credentials a step appends to containerd's generated config.toml. */
export const CONTAINERD_AUTH_FILE = "/etc/containerd/edgecloud-registry-auth.toml";
/** Stands for the CRI plugin's table name, which differs between containerd 1.x and 2.x configs. */
export const CRI_PLUGIN_PLACEHOLDER = "@CRI_REGISTRY@";

const hostOf = (endpoint: string) => endpoint.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
const toml = (v: string) => JSON.stringify(v);

/**
 * The same registries K3s nodes get in registries.yaml, for a plain containerd (edge nodes): one
 * `certs.d/<name>/hosts.toml` per mirror (endpoints in order, the registry's CA where it has one) and, for
 * credentials, a secret TOML fragment to append to config.toml under the CRI plugin's `registry.configs`
 * (containerd's hosts.toml has no place for credentials).
 */
export function containerdRegistryFiles(r: K3sRegistries): StepFile[] {
  const files: StepFile[] = [];
  const caFor = (host: string): string | undefined => {
    const caFile = r.configs?.[host]?.tls?.caFile;
    const pem = caFile ? r.files?.find((f) => f.path === caFile)?.content : undefined;
    if (!pem) return undefined;
    const path = `${CONTAINERD_CERTS_DIR}/${host}/ca.crt`;
    if (!files.some((f) => f.path === path)) files.push({ path, mode: "0644", content: pem, secret: false });
    return path;
  };
  for (const [name, mirror] of Object.entries(r.mirrors ?? {})) {
    // the name is a directory under certs.d: one host[:port] segment, never "..", "/" or a dot file
    if (name !== "*" && !/^[A-Za-z0-9][A-Za-z0-9.-]*(:\d{1,5})?$/.test(name))
      throw new Error(`containerd mirror name ${JSON.stringify(name)} is not a registry host[:port]`);
    const lines = [`server = ${toml(name === "*" ? "https://registry-1.docker.io" : `https://${name}`)}`, ""];
    for (const ep of mirror.endpoint) {
      const ca = caFor(hostOf(ep));
      const skip = r.configs?.[hostOf(ep)]?.tls?.insecureSkipVerify;
      lines.push(
        `[host.${toml(ep)}]`,
        '  capabilities = ["pull", "resolve"]',
        ...(ca ? [`  ca = ${toml(ca)}`] : []),
        ...(skip ? ["  skip_verify = true"] : []),
        "",
      );
    }
    files.push({
      path: `${CONTAINERD_CERTS_DIR}/${name === "*" ? "_default" : name}/hosts.toml`,
      mode: "0644",
      content: lines.join("\n"),
      secret: false,
    });
  }
  const auth = Object.entries(r.configs ?? {}).filter(([, c]) => c.auth);
  if (auth.length > 0) {
    const content = auth
      .map(
        ([host, c]) =>
          `\n[${CRI_PLUGIN_PLACEHOLDER}.configs.${toml(host)}.auth]\n  username = ${toml(c.auth!.username)}\n  password = ${toml(c.auth!.password)}\n`,
      )
      .join("");
    files.push({ path: CONTAINERD_AUTH_FILE, mode: "0600", content, secret: true });
  }
  return files;
}
