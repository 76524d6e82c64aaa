import { clusterTopology } from "../components/k3s-ha-cluster/topology";
import { Host, hasRole, internalAddress } from "../lib/hosts/host";
import { Environment } from "./environment";

/** Where a host is drawn: the row of its most significant role. */
export type TopologyTier = "etcd" | "server" | "agent" | "edge" | "service";

export interface TopologyHost {
  readonly name: string;
  readonly address: string;
  readonly platform: string;
  readonly tier: TopologyTier;
  /** What runs there, e.g. `etcd`, `k3s server`, `kube-vip`, `nfs server`. */
  readonly components: readonly string[];
  /** The host's capabilities as badges (`GPU`, `Kata`, `KVM`, `RT`, `hugepages`, `SR-IOV`). @default - none */
  readonly badges?: readonly string[];
}

const BADGES = {
  gpu: "GPU",
  kata: "Kata",
  kvm: "KVM",
  realtime: "RT",
  hugepages: "hugepages",
  sriov: "SR-IOV",
} as const;

/** A host's capability badges, in a fixed order. */
export function capabilityBadges(h: Host): string[] {
  const c = h.capabilities;
  return c ? (Object.keys(BADGES) as (keyof typeof BADGES)[]).filter((k) => c[k]).map((k) => BADGES[k]) : [];
}

/** An address that is not a host: the VIP / load balancer, cloudcore, the in-cluster workloads. */
export interface TopologyEndpoint {
  readonly id: string;
  readonly label: string;
  readonly detail: string;
  readonly kind: "registration" | "cloudcore" | "workloads" | "storage" | "rancher";
}

export type TopologyLinkKind = "etcd-peer" | "datastore" | "fronts" | "join" | "edge-join" | "storage" | "import";

/** A directed link between hosts and/or endpoints (by name / id), or to a whole tier (`tier:etcd`). */
export interface TopologyLink {
  readonly from: string;
  readonly to: string;
  readonly kind: TopologyLinkKind;
}

/** What the topology picture shows: a pure model, rendered by {@link renderTopologySvg}. */
export interface EnvironmentTopology {
  readonly name: string;
  readonly hosts: readonly TopologyHost[];
  readonly endpoints: readonly TopologyEndpoint[];
  readonly links: readonly TopologyLink[];
}

export const LINK_LABELS: Readonly<Record<TopologyLinkKind, string>> = {
  "etcd-peer": "etcd peers (mTLS :2380)",
  datastore: "servers → etcd (datastore, mTLS :2379)",
  fronts: "registration address → servers (:6443)",
  join: "agents → registration address (:6443)",
  "edge-join": "edge nodes → cloudcore (cloudHub)",
  storage: "workloads → storage (PVCs)",
  import: "cluster → Rancher (registration)",
};

function tierOf(h: Host): TopologyTier {
  if (hasRole(h, "server")) return "server";
  if (hasRole(h, "agent")) return "agent";
  if (hasRole(h, "edge")) return "edge";
  if (hasRole(h, "etcd")) return "etcd";
  return "service";
}

/** The topology of an environment: hosts by role, the components on them, and the links between them. */
export function environmentTopology(env: Environment): EnvironmentTopology {
  const t = clusterTopology(env.cluster);
  const reg = env.cluster.spec.registrationAddress;
  const components = new Map<string, string[]>(env.hosts.map((h) => [h.name, []]));
  const put = (host: string, c: string) => components.get(host)?.push(c);
  for (const h of t.etcd) put(h.name, `etcd ${env.cluster.spec.etcd.version}`);
  for (const h of t.servers) put(h.name, reg?.kind === "kube-vip" ? "k3s server, kube-vip" : "k3s server");
  for (const h of t.agents) put(h.name, "k3s agent");
  for (const h of env.hosts) if (hasRole(h, "edge") && components.get(h.name)!.length === 0) put(h.name, "edge node");

  const endpoints: TopologyEndpoint[] = [];
  const links: TopologyLink[] = [];
  const registrationId = "registration";
  // Always an endpoint, so agents (bottom row) reach it from the adjacent row: the VIP, the LB, or the one server.
  const regLabel =
    reg?.kind === "kube-vip"
      ? "kube-vip VIP"
      : reg?.kind === "external"
        ? "external load balancer"
        : `server ${t.servers[0]!.name}`;
  endpoints.push({
    id: registrationId,
    label: regLabel,
    detail: `registration ${t.registrationAddress}:6443`,
    kind: "registration",
  });
  const joinTarget = registrationId;

  for (let i = 0; i + 1 < t.etcd.length; i++)
    links.push({ from: t.etcd[i]!.name, to: t.etcd[i + 1]!.name, kind: "etcd-peer" });
  if (t.etcd.length > 2) links.push({ from: t.etcd[t.etcd.length - 1]!.name, to: t.etcd[0]!.name, kind: "etcd-peer" });
  // Servers reach the etcd hosts over the network; etcd co-located on the servers needs no arrow.
  if (t.etcd.some((e) => !hasRole(e, "server")))
    for (const s of t.servers) links.push({ from: s.name, to: "tier:etcd", kind: "datastore" });
  for (const s of t.servers) links.push({ from: registrationId, to: s.name, kind: "fronts" });
  for (const a of t.agents) links.push({ from: a.name, to: joinTarget, kind: "join" });
  const nfs = env.nfs;
  let storage: string | undefined;
  if (nfs?.serverHost) {
    put(nfs.serverHost.name, `nfs server ${nfs.exportPath}`);
    storage = nfs.serverHost.name;
  } else if (nfs) {
    endpoints.push({
      id: "storage",
      label: "external NFS",
      detail: `${nfs.serverAddress}:${nfs.exportPath}`,
      kind: "storage",
    });
    storage = "storage";
  }
  const workloads: string[] = [];
  const r = env.registry;
  if (r?.spec.mode.kind === "host" && r.host) put(r.host.name, `registry :${r.spec.mode.port}`);
  if (r?.spec.mode.kind === "in-cluster") workloads.push("registry");
  if (env.drone) workloads.push(`drone${env.drone.spec.git ? ` + ${env.drone.spec.git.kind}` : ""}`);
  const ke = env.kubeedge;
  if (ke) {
    // what is exposed where: edge nodes dial cloudHub, the certificate port and the tunnel; only the other K3s
    // servers reach the stream port (firewall-steps.ts)
    const np = ke.spec.exposure.kind === "NodePort" ? ke.spec.exposure.nodePorts : undefined;
    const hub = np
      ? [np.cloudhub, np.https, np.tunnel]
      : [ke.spec.cloudHub.websocketPort, ke.spec.cloudHub.httpsPort, ke.spec.cloudStream.tunnelPort];
    const stream = np ? np.stream : ke.spec.cloudStream.streamPort;
    const exposure = `edge nodes → ${hub.map((p) => `:${p}`).join(" ")}${ke.spec.cloudStream.enable ? `; servers → :${stream}` : ""}`;
    if (ke.cloudcoreNode) put(ke.cloudcoreNode, "cloudcore");
    else workloads.push("cloudcore");
    if (env.edgex) workloads.push(`edgex ${env.edgex.spec.release} (on edge nodes)`);
    endpoints.push({
      id: "cloudcore",
      label: `cloudcore ${ke.spec.version}`,
      detail: `cloudHub ${ke.join.cloudcoreIpPort}; ${exposure}`,
      kind: "cloudcore",
    });
    const edgex = env.edgex;
    const exposed = edgex && !edgex.spec.security ? edgex.spec.expose : [];
    const edgexLabel = edgex
      ? `edgex ${edgex.spec.release}${edgex.spec.network === "host" ? ` (${exposed.length > 0 ? `exposed: ${exposed.join(", ")}; rest 127.0.0.1` : "127.0.0.1 only"})` : ""}`
      : undefined;
    for (const h of ke.edgeHosts) {
      components.set(h.name, [
        `edgecore ${ke.spec.version}`,
        ...(edgexLabel ? [edgexLabel] : []),
        ...(ke.spec.mosquitto ? ["mosquitto :1883 (all interfaces, anonymous)"] : []),
      ]);
      links.push({ from: h.name, to: "cloudcore", kind: "edge-join" });
    }
  }
  if (nfs) workloads.unshift(`nfs csi (class ${nfs.spec.storageClass.name})`);
  if (workloads.length > 0) {
    endpoints.push({ id: "workloads", label: "in-cluster workloads", detail: workloads.join(", "), kind: "workloads" });
    if (storage) links.push({ from: "workloads", to: storage, kind: "storage" });
  }
  if (env.rancher) {
    endpoints.push({
      id: "rancher",
      label: "Rancher",
      detail: env.rancher.server.replace(/^https:\/\//, ""),
      kind: "rancher",
    });
    links.push({ from: t.servers[0]!.name, to: "rancher", kind: "import" });
  }

  return {
    name: env.name,
    hosts: env.hosts.map((h) => ({
      name: h.name,
      address: internalAddress(h),
      platform: `${h.os}/${h.arch}`,
      tier: tierOf(h),
      components: components.get(h.name)!,
      ...(capabilityBadges(h).length ? { badges: capabilityBadges(h) } : {}),
    })),
    endpoints,
    links,
  };
}
