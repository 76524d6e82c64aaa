import { Host, hasRole } from "../../lib/hosts/host";
import { IssueCollector, parseInto } from "../../lib/validation/issues";
import { EDGEX_RELEASES, OPTIONAL_SERVICES, OptionalService } from "./release-data";
import { selectedServices, serviceName } from "./services";
import { EDGE_ROLE_LABEL } from "../kubeedge-cloud/spec";
import { EdgeXStackProps, EdgeXStackSpec, EdgeXStackSpecSchema } from "./spec";

/** Validates an EdgeX spec; problems go to `issues`; returns plain props when all is well. */
export function checkEdgeXStack(input: unknown, issues: IssueCollector, base = "edgex"): EdgeXStackProps | undefined {
  const before = issues.issues.length;
  const parsed = parseInto(EdgeXStackSpecSchema, input ?? {}, issues, base);
  if (!parsed) return undefined;
  const release = EDGEX_RELEASES[parsed.release];
  // KubeEdge edge nodes run no CNI shared with the cluster, no kube-proxy and no cluster DNS (unless EdgeMesh is set
  // up, which edgecloud does not do): pods there reach only their own node, over the host network
  const onEdge = Object.keys(parsed.nodeSelector).includes(EDGE_ROLE_LABEL);
  const spec: EdgeXStackSpec = {
    ...parsed,
    network: parsed.network ?? (onEdge && parsed.placement === "single-pod" ? "host" : "pod"),
  };
  if (onEdge && spec.placement === "per-service") {
    issues.add(
      `${base}.placement`,
      "per-service",
      `cannot work on KubeEdge edge nodes (${base}.nodeSelector selects ${EDGE_ROLE_LABEL}): per-service pods find each other through Services and cluster DNS, and edge nodes have neither kube-proxy nor cluster DNS (nor the NFS CSI node plugin the secrets volume needs); use placement "single-pod" with network "host", or select cloud nodes in ${base}.nodeSelector`,
    );
  } else if (onEdge && spec.network === "pod") {
    issues.add(
      `${base}.network`,
      "pod",
      `cannot work on KubeEdge edge nodes (${base}.nodeSelector selects ${EDGE_ROLE_LABEL}): their CNI is node-local, with no kube-proxy or cluster DNS, so a pod-network EdgeX is unreachable and cannot resolve anything; use network "host" (the default there)`,
    );
  }
  if (spec.security && release.name === "hanoi") {
    issues.add(
      `${base}.security`,
      true,
      `cannot be used with release "${spec.release}": Hanoi's secure mode needs the PKI security-secrets-setup generates for a TLS Vault, a vault-worker that never exits and Kong with its own database (edgex-compose hanoi), which have no Kubernetes form upstream; use security: false with "${spec.release}", or release "napa-3.1" or "odessa-4.0" with security on`,
    );
  }

  spec.arches.forEach((a, i) => {
    if (!(release.arches as readonly string[]).includes(a)) {
      issues.add(
        `${base}.arches[${i}]`,
        a,
        `is not published by EdgeX ${spec.release}; allowed: ${release.arches.join(", ")}`,
      );
    }
  });
  if (new Set(spec.arches).size !== spec.arches.length)
    issues.add(`${base}.arches`, spec.arches, "lists an arch twice");

  const suffixNamed = release.services.some((s) => s.image.arch === "suffix");
  if (spec.placement === "per-service" && suffixNamed && spec.arches.length > 1) {
    issues.add(
      `${base}.arches`,
      spec.arches,
      `has more than one arch with placement "per-service", but EdgeX ${spec.release} names images per arch (-arm64); render one EdgeXStack per arch or use placement "single-pod" (one DaemonSet per arch)`,
    );
  }
  const persistence =
    spec.persistence ??
    (spec.placement === "single-pod"
      ? { kind: "hostPath" as const, path: "/var/lib/edgex" }
      : { kind: "ephemeral" as const });
  if (spec.placement === "single-pod" && persistence.kind === "pvc") {
    issues.add(
      `${base}.persistence.kind`,
      "pvc",
      'cannot be used with placement "single-pod" (one pod per node from a DaemonSet has no claim of its own); use "hostPath" or "ephemeral"',
    );
  }
  if (spec.placement === "per-service" && persistence.kind === "hostPath") {
    issues.add(
      `${base}.persistence.kind`,
      "hostPath",
      'cannot be used with placement "per-service" (a Deployment may move to another node and lose its data); use "pvc" or "ephemeral"',
    );
  }
  if (spec.placement === "per-service" && spec.network === "host") {
    issues.add(
      `${base}.network`,
      "host",
      'is only for placement "single-pod" (per-service pods would clash on node ports)',
    );
  }
  if (spec.placement === "per-service" && spec.security && !spec.secretsVolume) {
    issues.add(
      `${base}.secretsVolume`,
      undefined,
      'is required with placement "per-service" and security on: every service mounts the secret store\'s token volume, which needs a ReadWriteMany StorageClass; set secretsVolume.storageClassName, or use placement "single-pod" (tokens stay in the pod)',
    );
  }
  if (spec.security && spec.expose.length > 0) {
    issues.add(
      `${base}.expose`,
      spec.expose,
      `must be empty with security on: EdgeX's API gateway is not rendered (its nginx configuration is generated for Docker's DNS; upstream's Kubernetes chart edgex-helm v3.1.0 uses an ingress instead), so with security every service stays inside the pod or namespace; reach them over SSH on the node (ssh -L 59880:127.0.0.1:59880), or use security: false with expose`,
    );
  }
  const keys = new Set(release.services.map((s) => s.key));
  spec.expose.forEach((k, i) => {
    if (!keys.has(k))
      issues.add(
        `${base}.expose[${i}]`,
        k,
        `is not a service of EdgeX ${spec.release}; allowed: ${[...keys].join(", ")}`,
      );
  });
  if (spec.kubernetesVersion !== undefined && spec.placement === "single-pod") {
    const m = /^v?(\d+)\.(\d+)/.exec(spec.kubernetesVersion);
    if (!m)
      issues.add(
        `${base}.kubernetesVersion`,
        spec.kubernetesVersion,
        "must be a Kubernetes or K3s version such as v1.31.4+k3s1",
      );
    else if (Number(m[1]) === 1 && Number(m[2]) < 29) {
      issues.add(
        `${base}.placement`,
        "single-pod",
        `needs Kubernetes 1.29+ (native sidecar containers order the secret store and registry before core services); ${base}.kubernetesVersion is ${spec.kubernetesVersion}; use placement "per-service"`,
      );
    }
  }

  const enabled = Object.fromEntries(OPTIONAL_SERVICES.map((k) => [k, spec.services[k] ?? k !== "ui"])) as Record<
    OptionalService,
    boolean
  >;
  const props: EdgeXStackProps = { spec, persistence, enabled, arches: spec.arches as ("amd64" | "arm64")[] };
  if (spec.network === "host" && spec.placement === "single-pod") {
    const clashes = selectedServices(props).flatMap((s) =>
      s.ports.filter((p) => spec.hostPortsInUse.includes(p.port)).map((p) => `${serviceName(s.key)}:${p.port}`),
    );
    if (clashes.length > 0) {
      issues.add(
        `${base}.hostPortsInUse`,
        spec.hostPortsInUse,
        `clashes with ${clashes.join(", ")} on the node's network; switch those services off (${base}.services) or use network "pod"`,
      );
    }
  }
  if (issues.issues.length > before) return undefined;
  return props;
}

/**
 * The `edgex` section of an environment: `arches` defaults to the distinct arches of the hosts with the role "edge"
 * and `kubernetesVersion` to the cluster's, when the section leaves them out.
 */
export function checkEdgeXStackSection(
  hosts: readonly Host[],
  rawSpec: unknown,
  issues: IssueCollector,
  base = "edgex",
  defaults: { readonly kubernetesVersion?: string } = {},
): EdgeXStackProps | undefined {
  const raw = (rawSpec !== null && typeof rawSpec === "object" ? rawSpec : {}) as Record<string, unknown>;
  const arches = [...new Set(hosts.filter((h) => hasRole(h, "edge")).map((h) => h.arch))];
  const filled = {
    ...(arches.length > 0 && !("arches" in raw) ? { arches } : {}),
    ...(defaults.kubernetesVersion !== undefined && !("kubernetesVersion" in raw)
      ? { kubernetesVersion: defaults.kubernetesVersion }
      : {}),
    ...raw,
  };
  return checkEdgeXStack(filled, issues, base);
}
