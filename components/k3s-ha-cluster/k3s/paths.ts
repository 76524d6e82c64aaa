export const K3S_CONFIG_DIR = "/etc/rancher/k3s";
export const K3S_CONFIG_FILE = `${K3S_CONFIG_DIR}/config.yaml`;
export const K3S_MANIFESTS_DIR = "/var/lib/rancher/k3s/server/manifests";
export const K3S_IMAGES_DIR = "/var/lib/rancher/k3s/agent/images";

/** The datastore files a K3s server's config names. */
export const K3S_DATASTORE_FILES = {
  ca: `${K3S_CONFIG_DIR}/etcd/ca.crt`,
  cert: `${K3S_CONFIG_DIR}/etcd/client.crt`,
  key: `${K3S_CONFIG_DIR}/etcd/client.key`,
} as const;

export type K3sRole = "server" | "agent";

export function k3sUnit(role: K3sRole): string {
  return role === "server" ? "k3s.service" : "k3s-agent.service";
}
