import { K3sRegistries } from "../../lib/k3s/registries";
import { proxyMirrorOf, RegistryProps } from "./spec";

/** Directory on every node holding the CA bundles registries.yaml refers to. */
export const K3S_REGISTRY_CA_DIR = "/etc/rancher/k3s/registry-ca";

/** Where the registry's CA lands on the nodes. */
export function registryCaFile(endpoint: string): string {
  return `${K3S_REGISTRY_CA_DIR}/${endpoint.replace(/[^A-Za-z0-9.-]/g, "_")}.crt`;
}

/**
 * What every K3s node (servers and agents) needs to pull from this registry: a mirror for the registry's own
 * name (every server's NodePort as endpoints, in order), a mirror of the proxied registry (e.g. docker.io) when it is a pull-through cache, the node user's
 * credentials and the CA to trust. With TLS off the endpoint is an explicit `http://` URL — containerd never
 * downgrades on its own (k3s #1713, #11340). K3sHaCluster writes it 0600 and restarts K3s only when it changed.
 */
export function registryK3sRegistries(props: RegistryProps): K3sRegistries {
  const tls = props.tls.kind === "tls";
  const endpoints =
    props.mirrorEndpoints && props.mirrorEndpoints.length > 0 ? props.mirrorEndpoints : [props.endpoint];
  const urls = endpoints.map((e) => `${tls ? "https" : "http"}://${e}`);
  const mirrors: Record<string, { endpoint: string[] }> = { [props.endpoint]: { endpoint: urls } };
  if (props.spec.proxy) mirrors[proxyMirrorOf(props.spec.proxy)] = { endpoint: urls };
  const user = props.nodeUser !== undefined ? props.users.find((u) => u.username === props.nodeUser) : undefined;
  const caFile = registryCaFile(props.endpoint);
  const config = {
    ...(user ? { auth: { username: user.username, password: user.password } } : {}),
    ...(props.tls.kind === "tls" ? { tls: { caFile } } : {}),
  };
  return {
    mirrors,
    // containerd looks configs up by the endpoint it talks to: one entry per endpoint
    configs: Object.keys(config).length > 0 ? Object.fromEntries(endpoints.map((e) => [e, config])) : {},
    files: props.tls.kind === "tls" ? [{ path: caFile, mode: "0644", content: props.tls.caPem, secret: false }] : [],
  };
}
