import { Host, hasRole, internalAddress } from "../../lib/hosts/host";
import { validateHosts } from "../../lib/hosts/validate-hosts";
import { SUPPORTED_ARCHES, supportsArch } from "../../lib/platform/support-matrix";
import { osProfile } from "../../lib/platform/os";
import { IssueCollector, parseInto } from "../../lib/validation/issues";
import { joinHostPort } from "../../lib/validation/net";
import {
  KUBEEDGE_RELEASES,
  KUBEEDGE_VERSIONS,
  kubeEdgeRelease,
  kubernetesCompatible,
  kubernetesMinor,
} from "./release";
import { checkEdgePools } from "./edge-pool";
import { JoinParameters, KubeEdgeCloudProps, KubeEdgeCloudSpec, KubeEdgeCloudSpecSchema, TOKEN_SECRET } from "./spec";

/** `1.4` vs `1.6` → negative when a is older. */
function compareMinor(a: string, b: string): number {
  const [am, an] = a.split(".").map(Number);
  const [bm, bn] = b.split(".").map(Number);
  return am !== bm ? am - bm : an - bn;
}

export interface KubeEdgeCloudInput {
  /** Every host of the cluster: edge nodes are those with the role "edge"; keadm mode runs on a "server". */
  readonly hosts: unknown;
  readonly spec: unknown;
}

/** Validates hosts and spec together; every problem goes to `issues`; returns plain props when all is well. */
export function checkKubeEdgeCloud(
  input: KubeEdgeCloudInput,
  issues: IssueCollector,
  base = { hosts: "hosts", spec: "kubeedge" },
): KubeEdgeCloudProps | undefined {
  const before = issues.issues.length;
  const hosts = validateHosts(input.hosts, issues, base.hosts);
  if (issues.issues.length > before) {
    parseInto(KubeEdgeCloudSpecSchema, input.spec ?? {}, issues, base.spec);
    return undefined;
  }
  return checkKubeEdgeCloudSection(hosts, input.spec, issues, base);
}

/**
 * The `kubeedge` section of an environment whose hosts are already validated (their problems reported once, by the
 * environment). `defaults.kubernetesVersion` fills `kubernetesVersion` when the section leaves it out (the K3s
 * version of the environment's cluster).
 */
export function checkKubeEdgeCloudSection(
  hosts: readonly Host[],
  rawSpec: unknown,
  issues: IssueCollector,
  base = { hosts: "hosts", spec: "kubeedge" },
  defaults: {
    readonly kubernetesVersion?: string;
    /** The cluster's registration address (kube-vip VIP or external): it moves, or is not a node. */
    readonly registrationAddress?: string;
  } = {},
): KubeEdgeCloudProps | undefined {
  const before = issues.issues.length;
  const withDefaults =
    rawSpec !== null &&
    typeof rawSpec === "object" &&
    defaults.kubernetesVersion !== undefined &&
    !("kubernetesVersion" in rawSpec)
      ? { ...rawSpec, kubernetesVersion: defaults.kubernetesVersion }
      : (rawSpec ?? {});
  const spec = parseInto(KubeEdgeCloudSpecSchema, withDefaults, issues, base.spec);
  if (!spec) return undefined;
  const S = base.spec;
  const H = (h: Host) => `${base.hosts}[${hosts.indexOf(h)}]`;
  const release = kubeEdgeRelease(spec.version);

  const k8s = kubernetesMinor(spec.kubernetesVersion);
  if (!k8s) {
    issues.add(
      `${S}.kubernetesVersion`,
      spec.kubernetesVersion,
      "must be a Kubernetes or K3s version such as v1.31.4+k3s1",
    );
  } else if (!kubernetesCompatible(release, spec.kubernetesVersion)) {
    const fits = KUBEEDGE_VERSIONS.filter((v) => kubernetesCompatible(KUBEEDGE_RELEASES[v], spec.kubernetesVersion));
    issues.add(
      `${S}.version`,
      spec.version,
      `supports Kubernetes ${release.kubernetes.min}-${release.kubernetes.max}, not ${k8s.major}.${k8s.minor} (${S}.kubernetesVersion); ${fits.length > 0 ? `use ${fits.join(" or ")}` : "no known KubeEdge release supports it"}`,
    );
  }

  const advertised = spec.cloudHub.advertiseAddress;
  const joinAddress = spec.edge.joinAddress ?? advertised[0];
  if (spec.edge.joinAddress !== undefined && !advertised.includes(spec.edge.joinAddress)) {
    issues.add(
      `${S}.edge.joinAddress`,
      spec.edge.joinAddress,
      `is not in ${S}.cloudHub.advertiseAddress ${JSON.stringify(advertised)}; cloudcore's certificate covers only the advertised addresses, so edge nodes must join one of them`,
    );
  }
  if (
    spec.exposure.kind === "LoadBalancer" &&
    spec.exposure.loadBalancerIP !== undefined &&
    !advertised.includes(spec.exposure.loadBalancerIP)
  ) {
    issues.add(
      `${S}.exposure.loadBalancerIP`,
      spec.exposure.loadBalancerIP,
      `is not in ${S}.cloudHub.advertiseAddress ${JSON.stringify(advertised)}; edge nodes reach cloudcore through the load balancer, so its address must be advertised`,
    );
  }
  if (spec.edge.hubProtocol === "quic" && !spec.cloudHub.quic) {
    issues.add(
      `${S}.edge.hubProtocol`,
      "quic",
      `needs ${S}.cloudHub.quic: true (cloudcore only listens for QUIC when enabled)`,
    );
  }
  if (!(release.runtimes as readonly string[]).includes(spec.edge.runtime)) {
    const withDocker = KUBEEDGE_VERSIONS.filter((v) =>
      (KUBEEDGE_RELEASES[v].runtimes as readonly string[]).includes("docker"),
    );
    issues.add(
      `${S}.edge.runtime`,
      spec.edge.runtime,
      `is not supported by KubeEdge ${spec.version} (dockershim was removed in v1.14); use "containerd"${withDocker.length > 0 ? `, or version ${withDocker.join(" or ")}` : ""}`,
    );
  }
  const ports = new Map<number, string>();
  const portFields: [string, number, boolean][] = [
    ["cloudHub.websocketPort", spec.cloudHub.websocketPort, true],
    ["cloudHub.quicPort", spec.cloudHub.quicPort, spec.cloudHub.quic],
    ["cloudHub.httpsPort", spec.cloudHub.httpsPort, true],
    ["cloudStream.streamPort", spec.cloudStream.streamPort, spec.cloudStream.enable],
    ["cloudStream.tunnelPort", spec.cloudStream.tunnelPort, spec.cloudStream.enable],
  ];
  for (const [field, p, used] of portFields) {
    if (!used) continue;
    const prev = ports.get(p);
    if (prev !== undefined)
      issues.add(`${S}.${field}`, p, `is also ${S}.${prev}; cloudcore's listeners need distinct ports`);
    else ports.set(p, field);
  }

  const edgeHosts = hosts.filter((h) => hasRole(h, "edge"));
  const edgeOwner = edgeHosts.find((h) => h.address === joinAddress || internalAddress(h) === joinAddress);
  if (edgeOwner) {
    issues.add(
      spec.edge.joinAddress !== undefined ? `${S}.edge.joinAddress` : `${S}.cloudHub.advertiseAddress[0]`,
      joinAddress,
      `is the address of edge host "${edgeOwner.name}"; cloudcore runs on cloud nodes, never on an edge node: advertise a server's or agent's address`,
    );
  } else if (
    spec.exposure.kind === "hostNetwork" &&
    advertised.includes(joinAddress) &&
    !cloudcoreHost(hosts, [joinAddress])
  ) {
    const cloud = hosts.filter((h) => !hasRole(h, "edge") && (hasRole(h, "server") || hasRole(h, "agent")));
    const field = spec.edge.joinAddress !== undefined ? `${S}.edge.joinAddress` : `${S}.cloudHub.advertiseAddress[0]`;
    issues.add(
      field,
      joinAddress,
      joinAddress === defaults.registrationAddress
        ? `is the cluster's registration address (a kube-vip VIP moves to whichever server holds the lease, a load balancer forwards the API server), while cloudcore on the host network runs on one node, so edge nodes would dial an address where nothing listens (again after every failover); advertise the address of the cloud host cloudcore should run on (${cloud.map((h) => h.address).join(", ")}), or use exposure "NodePort" (every node answers)`
        : `is not the address of a cloud host; with exposure "hostNetwork" cloudcore is pinned to the host that owns the address edge nodes dial (kubeedge#4417): use one of ${cloud.map((h) => h.address).join(", ") || "none"}, or exposure "NodePort"`,
    );
  }
  checkEdgePools(spec, issues, S);
  // edge hosts whose distribution containerd is older than the release needs: the runtime step would stop on it
  for (const h of edgeHosts) {
    const containerd = osProfile(h.os).containerd;
    const shipped = containerd.kind === "packages" ? containerd.shipped : undefined;
    if (
      shipped !== undefined &&
      spec.edge.runtime === "containerd" &&
      compareMinor(shipped.version, release.minContainerd) < 0
    ) {
      const fits = KUBEEDGE_VERSIONS.filter(
        (v) => compareMinor(shipped.version, KUBEEDGE_RELEASES[v].minContainerd) >= 0,
      );
      issues.add(
        `${H(h)}.os`,
        h.os,
        `ships containerd ${shipped.version} (${shipped.source}), older than ${release.minContainerd}, which KubeEdge ${spec.version} needs on edge host "${h.name}"; use a newer OS (debian-12, ubuntu-22.04)${fits.length > 0 ? `, or ${S}.version ${fits.join(" or ")}` : ""}`,
      );
    }
  }
  // Docker Engine from a source the OS profile has (Kylin has none edgecloud can verify)
  for (const h of edgeHosts) {
    const docker = osProfile(h.os).docker;
    if (spec.edge.runtime === "docker" && docker.kind === "unsupported")
      issues.add(`${H(h)}.os`, h.os, `(edge host "${h.name}") with ${S}.edge.runtime "docker" ${docker.reason}`);
  }
  for (const h of edgeHosts) {
    if (!supportsArch("keadm", h.arch)) {
      issues.add(
        `${H(h)}.arch`,
        h.arch,
        `is not supported by KubeEdge (edge host "${h.name}"); allowed: ${SUPPORTED_ARCHES.keadm.join(", ")}`,
      );
    }
    const clash = h.roles.filter((r) => r === "server" || r === "agent");
    if (clash.length > 0) {
      issues.add(
        `${H(h)}.roles`,
        h.roles,
        `combines "edge" with ${clash.map((r) => `"${r}"`).join(" and ")}; an edge node runs edgecore instead of the K3s kubelet, give it only "edge"`,
      );
    }
  }

  let keadmHost: Host | undefined;
  if (spec.mode === "keadm") {
    const fixed: [string, number, number][] = [
      ["cloudHub.websocketPort", spec.cloudHub.websocketPort, 10000],
      ["cloudHub.quicPort", spec.cloudHub.quicPort, 10001],
      ["cloudHub.httpsPort", spec.cloudHub.httpsPort, 10002],
      ["cloudStream.streamPort", spec.cloudStream.streamPort, 10003],
      ["cloudStream.tunnelPort", spec.cloudStream.tunnelPort, 10004],
    ];
    for (const [field, value, upstream] of fixed) {
      if (value !== upstream)
        issues.add(
          `${S}.${field}`,
          value,
          `must be ${upstream} with mode "keadm" (keadm's cloudcore chart fixes the port); use mode "manifests" for other ports`,
        );
    }
    if (spec.exposure.kind === "LoadBalancer") {
      // kubeedge/kubeedge v1.23.1 manifests/charts/cloudcore/templates/service_cloudcore.yaml: NodePort only for
      // NodePort without host network, otherwise ClusterIP (kubeedge#6550)
      issues.add(
        `${S}.exposure.kind`,
        "LoadBalancer",
        'is not rendered by keadm\'s cloudcore chart (its Service template falls back to ClusterIP, kubeedge#6550), so edge nodes could not reach cloudcore; use exposure "hostNetwork" or "NodePort" with mode "keadm", or mode "manifests" for a LoadBalancer',
      );
    }
    const servers = hosts.filter((h) => hasRole(h, "server"));
    keadmHost = spec.keadmHost !== undefined ? hosts.find((h) => h.name === spec.keadmHost) : servers[0];
    if (spec.keadmHost !== undefined && (!keadmHost || !hasRole(keadmHost, "server"))) {
      issues.add(
        `${S}.keadmHost`,
        spec.keadmHost,
        `must name a host with the role "server"; servers: ${servers.map((h) => h.name).join(", ") || "none"}`,
      );
      keadmHost = undefined;
    } else if (!keadmHost) {
      issues.add(`${S}.mode`, "keadm", 'needs a host with the role "server" to run keadm init on');
    }
  }
  if (issues.issues.length > before) return undefined;
  const pinned = spec.exposure.kind === "hostNetwork" ? cloudcoreHost(hosts, [joinAddress]) : undefined;
  const cloudHosts = hosts.filter((h) => !hasRole(h, "edge") && (hasRole(h, "server") || hasRole(h, "agent")));
  return {
    spec,
    edgeHosts,
    cloudHosts,
    keadmHost,
    join: joinParameters(spec, joinAddress),
    ...(pinned ? { cloudcoreNode: pinned.name } : {}),
  };
}

/** The endpoint edge nodes dial, derived from exposure and ports. */
export function joinParameters(spec: KubeEdgeCloudSpec, address: string): JoinParameters {
  const quic = spec.edge.hubProtocol === "quic";
  const np = spec.exposure.kind === "NodePort" ? spec.exposure.nodePorts : undefined;
  const hub = np ? (quic ? np.quic : np.cloudhub) : quic ? spec.cloudHub.quicPort : spec.cloudHub.websocketPort;
  const https = np ? np.https : spec.cloudHub.httpsPort;
  return {
    cloudcoreIpPort: joinHostPort(address, hub),
    certServer: `https://${joinHostPort(address, https)}`,
    address,
    hubProtocol: spec.edge.hubProtocol,
    kubeedgeVersion: spec.version,
    tokenSecret: TOKEN_SECRET,
  };
}

/** The cloud host cloudcore must run on with hostNetwork so the advertised address is its own (#4417). */
export function cloudcoreHost(hosts: readonly Host[], advertised: readonly string[]): Host | undefined {
  return hosts.find(
    (h) =>
      !hasRole(h, "edge") &&
      (hasRole(h, "server") || hasRole(h, "agent")) &&
      (advertised.includes(h.address) || advertised.includes(internalAddress(h))),
  );
}
