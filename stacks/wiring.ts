import { DEFAULT_K3S_VERSION } from "../components/k3s-ha-cluster/k3s/version";

/** K3s's default pod network (k3s.network.clusterCidr's default). */
const DEFAULT_CLUSTER_CIDR = "10.42.0.0/16";

/**
 * Cross-component wiring on the environment's raw sections, before validation, so that synth and the Pulumi
 * program see the same thing and a wired value is validated like one the user wrote. Only fills what the user
 * left unset:
 *
 * - the NFS StorageClass backs the in-cluster registry's PVC (`registry.mode.storage.storageClassName`) and EdgeX's
 *   PVCs (`edgex.persistence` of kind `pvc`, `edgex.secretsVolume` for per-service placement with security), and
 *   Drone's and its Gogs/Gitea's data (`drone.server.storage`, `drone.git.storage`);
 * - Drone's provider URL comes from the in-cluster Gogs/Gitea (DroneCi's own validation does that);
 * - KubeEdge and EdgeX are checked against the cluster's K3s version (`kubernetesVersion`);
 * - EdgeX gets one DaemonSet per architecture of the edge hosts (`edgex.arches`);
 * - Drone's Docker-in-Docker runner gets the pod network's MTU (`drone.runner.mtu`) from `k3s.network.flannelBackend`;
 * - the in-cluster registry's NetworkPolicy admits the pod network (`registry.mode.allowFrom`) from
 *   `k3s.network.clusterCidr`: NodePort pulls from other nodes arrive masqueraded to their pod-network addresses.
 */
export function wireEnvironment(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  const nfsClass = nfsStorageClassName(raw.nfs);
  const registry = asRecord(raw.registry);
  const mode = asRecord(registry?.mode);
  if (nfsClass && registry && mode?.kind === "in-cluster") {
    const storage = asRecord(mode.storage) ?? {};
    if (storage.storageClassName === undefined)
      out.registry = { ...registry, mode: { ...mode, storage: { ...storage, storageClassName: nfsClass } } };
  }
  const wiredRegistry = asRecord(out.registry);
  const wiredMode = asRecord(wiredRegistry?.mode);
  if (wiredRegistry && wiredMode?.kind === "in-cluster" && wiredMode.allowFrom === undefined) {
    const cidr = asRecord(asRecord(raw.k3s)?.network)?.clusterCidr;
    out.registry = {
      ...wiredRegistry,
      mode: { ...wiredMode, allowFrom: [typeof cidr === "string" ? cidr : DEFAULT_CLUSTER_CIDR] },
    };
  }
  const drone = asRecord(raw.drone);
  if (nfsClass && drone) {
    const withClass = (part: unknown) => {
      const r = asRecord(part);
      if (!r) return part;
      const st = asRecord(r.storage) ?? {};
      return st.storageClassName === undefined ? { ...r, storage: { ...st, storageClassName: nfsClass } } : r;
    };
    out.drone = {
      ...drone,
      ...(drone.server !== undefined ? { server: withClass(drone.server) } : {}),
      ...(drone.git !== undefined ? { git: withClass(drone.git) } : {}),
    };
  }
  if (out.drone !== undefined) {
    const d = asRecord(out.drone)!;
    const runner = asRecord(d.runner) ?? (d.runner === undefined ? { kind: "docker" } : undefined);
    if (runner?.kind === "docker" && runner.mtu === undefined) {
      const backend = asRecord(asRecord(raw.k3s)?.network)?.flannelBackend;
      out.drone = { ...d, runner: { ...runner, mtu: podMtu(typeof backend === "string" ? backend : "vxlan") } };
    }
  }
  const k3sVersion = asRecord(raw.k3s)?.version;
  const kubernetesVersion = typeof k3sVersion === "string" ? k3sVersion : DEFAULT_K3S_VERSION;
  const kubeedge = asRecord(raw.kubeedge);
  if (kubeedge && kubeedge.kubernetesVersion === undefined) out.kubeedge = { ...kubeedge, kubernetesVersion };
  const edgex = asRecord(raw.edgex);
  if (edgex) {
    const e: Record<string, unknown> = { ...edgex };
    if (e.kubernetesVersion === undefined) e.kubernetesVersion = kubernetesVersion;
    const hosts = Array.isArray(raw.hosts) ? raw.hosts.map(asRecord) : [];
    const arches = [
      ...new Set(hosts.filter((h) => Array.isArray(h?.roles) && h.roles.includes("edge")).map((h) => h!.arch)),
    ].filter((a) => typeof a === "string");
    if (e.arches === undefined && arches.length > 0) e.arches = arches;
    const persistence = asRecord(e.persistence);
    if (nfsClass && persistence?.kind === "pvc" && persistence.storageClassName === undefined)
      e.persistence = { ...persistence, storageClassName: nfsClass };
    if (nfsClass && e.placement === "per-service" && e.security !== false && e.secretsVolume === undefined)
      e.secretsVolume = { storageClassName: nfsClass };
    out.edgex = e;
  }
  return out;
}

/**
 * The pod interface MTU on a 1500-byte host network per flannel backend: vxlan takes 50 bytes
 * (flannel-io/flannel v0.26.1 pkg/backend/vxlan/device.go `devAttrs.MTU - 50`), wireguard 80
 * (pkg/backend/wireguard/wireguard_network.go `overhead = 80`), host-gw none. With `none` (Calico) 1450 leaves room
 * for Calico's VXLAN encapsulation, the largest it adds.
 */
export function podMtu(flannelBackend: string): number {
  switch (flannelBackend) {
    case "host-gw":
      return 1500;
    case "wireguard-native":
      return 1420;
    default:
      return 1450;
  }
}

/** The StorageClass the NFS section creates. @default "nfs" (NfsProvisioner's default name) */
export function nfsStorageClassName(nfs: unknown): string | undefined {
  const n = asRecord(nfs);
  if (!n) return undefined;
  const name = asRecord(n.storageClass)?.name;
  return typeof name === "string" ? name : "nfs";
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
