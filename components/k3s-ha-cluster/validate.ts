import { Host, hasRole } from "../../lib/hosts/host";
import { validateHosts } from "../../lib/hosts/validate-hosts";
import { K3sRegistries } from "../../lib/k3s/registries";
import { cidrContains, cidrsOverlap, parseCidr, parseIpv4 } from "../../lib/net/cidr";
import { osProfile } from "../../lib/platform/os";
import { DISTRO_ETCD_OS, SUPPORTED_ARCHES, supportsArch } from "../../lib/platform/support-matrix";
import { IssueCollector, parseInto } from "../../lib/validation/issues";
import { atLeast, parseK3sVersion } from "./k3s/version";
import { K3sHaClusterProps, K3sHaClusterSpecSchema } from "./spec";

export interface K3sHaClusterInput {
  readonly name: string;
  readonly hosts: unknown;
  readonly spec?: unknown;
  readonly registries?: K3sRegistries;
}

/**
 * Validates hosts and spec together and returns plain props; every problem is collected into `issues`
 * (nothing thrown), so an environment can report all components' problems at once.
 */
export function checkK3sHaCluster(
  input: K3sHaClusterInput,
  issues: IssueCollector,
  base = { hosts: "hosts", spec: "k3s" },
): K3sHaClusterProps | undefined {
  const before = issues.issues.length;
  if (!/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/.test(input.name)) {
    issues.add("name", input.name, "must be a lowercase DNS label of at most 42 characters");
  }
  const hosts = validateHosts(input.hosts, issues, base.hosts);
  const spec = parseInto(K3sHaClusterSpecSchema, input.spec ?? {}, issues, base.spec);
  if (!spec || hosts.length === 0 || (Array.isArray(input.hosts) && hosts.length !== input.hosts.length))
    return undefined;
  const S = base.spec;
  const H = (h: Host) => `${base.hosts}[${hosts.indexOf(h)}]`;

  const version = parseK3sVersion(spec.version);
  if (!version) issues.add(`${S}.version`, spec.version, "must be a K3s release such as v1.31.4+k3s1");

  const etcd = hosts.filter((h) => hasRole(h, "etcd"));
  const servers = hosts.filter((h) => hasRole(h, "server"));

  if (servers.length === 0)
    issues.add(base.hosts, undefined, 'no host has the role "server"; a cluster needs at least one');
  if (etcd.length > 0 && etcd.length % 2 === 0 && !spec.etcd.force.includes("even-member-count")) {
    issues.add(
      base.hosts,
      etcd.map((h) => h.name),
      `give ${etcd.length} hosts the role "etcd"; etcd needs an odd number of members (1, 3, 5 or 7) to keep quorum (to pass through an even count on purpose set ${S}.etcd.force: ["even-member-count"])`,
    );
  }
  if (etcd.length > 7)
    issues.add(base.hosts, etcd.length, 'has more than 7 "etcd" hosts; etcd recommends at most 7 members');
  if (servers.length > 1 && etcd.length === 0) {
    issues.add(
      base.hosts,
      undefined,
      `${servers.length} servers but no "etcd" host; more than one server needs the external etcd cluster (give 1, 3 or 5 hosts the role "etcd")`,
    );
  }
  if (servers.length > 1 && !spec.registrationAddress) {
    issues.add(
      `${S}.registrationAddress`,
      undefined,
      `is required with ${servers.length} servers (agents and kubeconfig need one fixed address): { kind: "kube-vip", vip, interface } or { kind: "external", address }`,
    );
  }
  for (const h of hosts) {
    if (hasRole(h, "server") && hasRole(h, "agent")) {
      issues.add(
        `${H(h)}.roles`,
        h.roles,
        'has both "server" and "agent"; a K3s server already runs workloads, pick one',
      );
    }
    if (hasRole(h, "edge") && (hasRole(h, "server") || hasRole(h, "agent"))) {
      issues.add(`${H(h)}.roles`, h.roles, 'has "edge" with "server"/"agent"; an edge node runs edgecore, not K3s');
    }
    const isK3sNode = hasRole(h, "server") || hasRole(h, "agent");
    const docker = osProfile(h.os).docker;
    if (isK3sNode && spec.runtime === "docker" && docker.kind === "unsupported") {
      issues.add(`${H(h)}.os`, h.os, `(host "${h.name}") with k3s.runtime "docker" ${docker.reason}`);
    }
    if (isK3sNode && !supportsArch("k3s", h.arch) && spec.artifactOverrides[h.name] === undefined) {
      issues.add(
        `${H(h)}.arch`,
        h.arch,
        `(host "${h.name}", ${h.os}/${h.arch}): k3s ${spec.version} ships no ${h.arch} build; supported: ${SUPPORTED_ARCHES.k3s.join(", ")}; or set ${S}.artifactOverrides["${h.name}"] to your own k3s binary ({ source: URL or path, sha256 })`,
      );
    }
  }
  for (const name of Object.keys(spec.artifactOverrides)) {
    if (!hosts.some((h) => h.name === name))
      issues.add(`${S}.artifactOverrides.${name}`, undefined, "names no host; keys are host names");
  }

  // etcd
  if (spec.etcd.rotation.renewBeforeDays >= spec.etcd.certValidityDays)
    issues.add(
      `${S}.etcd.rotation.renewBeforeDays`,
      spec.etcd.rotation.renewBeforeDays,
      `must be less than etcd.certValidityDays (${spec.etcd.certValidityDays}); otherwise every pulumi up re-issues every certificate and rolls the cluster`,
    );
  if (spec.etcd.rollGate.intervalSeconds * 2 > spec.etcd.rollGate.timeoutSeconds)
    issues.add(
      `${S}.etcd.rollGate.intervalSeconds`,
      spec.etcd.rollGate.intervalSeconds,
      `must be at most half of etcd.rollGate.timeoutSeconds (${spec.etcd.rollGate.timeoutSeconds}); otherwise the gate tries endpoint health only once and a member's restart (a few seconds) stops the roll`,
    );
  if (spec.etcd.clientPort === spec.etcd.peerPort)
    issues.add(`${S}.etcd.peerPort`, spec.etcd.peerPort, "must differ from etcd.clientPort");
  const ei = spec.etcd.install;
  if (ei.kind === "prestaged") {
    if ((ei.tarball === undefined) === (ei.dir === undefined)) {
      issues.add(
        `${S}.etcd.install`,
        ei,
        "must name exactly one of tarball (one path, every member the same architecture) or dir (<dir>/etcd-<version>-linux-<arch>.tar.gz per member)",
      );
    } else if (ei.tarball !== undefined) {
      const arches = [...new Set(etcd.map((h) => h.arch))];
      if (arches.length > 1) {
        issues.add(
          `${S}.etcd.install.tarball`,
          ei.tarball,
          `is one file for members of ${arches.length} architectures (${etcd.map((h) => `${h.name}: ${h.arch}`).join(", ")}); use dir with etcd-${spec.etcd.version}-linux-<arch>.tar.gz for each`,
        );
      }
    }
  }
  for (const h of etcd) {
    if (spec.etcd.install.kind === "release" && !supportsArch("etcd-release", h.arch)) {
      issues.add(
        `${H(h)}.arch`,
        h.arch,
        `(host "${h.name}", ${h.os}/${h.arch}): etcd ${spec.etcd.version} release tarballs exist for ${SUPPORTED_ARCHES["etcd-release"].join(", ")} only; use etcd.install { kind: "distro" } or "prestaged"`,
      );
    }
    if (spec.etcd.install.kind === "distro") {
      if (!DISTRO_ETCD_OS.includes(h.os)) {
        issues.add(
          `${H(h)}.os`,
          h.os,
          `(host "${h.name}"): the distribution ships no etcd package; use etcd.install { kind: "release" } or "prestaged" (distro etcd exists on ${DISTRO_ETCD_OS.join(", ")})`,
        );
      } else if (!supportsArch("etcd-distro", h.arch)) {
        issues.add(
          `${H(h)}.arch`,
          h.arch,
          `(host "${h.name}"): the distribution builds etcd for ${SUPPORTED_ARCHES["etcd-distro"].join(", ")} only`,
        );
      }
    }
  }

  // network
  const net = spec.network;
  if (version && net.flannelBackend === "ipsec" && atLeast(version, 1, 27)) {
    issues.add(
      `${S}.network.flannelBackend`,
      "ipsec",
      `was removed in K3s v1.27 (k3s#7297); ${spec.version} allows vxlan, host-gw, wireguard-native or none`,
    );
  }
  if (version && net.flannelBackend === "wireguard-native" && !atLeast(version, 1, 26)) {
    issues.add(
      `${S}.network.flannelBackend`,
      "wireguard-native",
      `needs K3s v1.26 or later; ${spec.version} has it not`,
    );
  }
  if (net.flannelBackend === "none" && !net.cni) {
    issues.add(
      `${S}.network.flannelBackend`,
      "none",
      'leaves the cluster without a pod network (every node stays NotReady); set network.cni "calico", or keep a flannel backend',
    );
  }
  if (net.cni === "calico" && spec.install.kind === "airgap") {
    issues.add(
      `${S}.network.cni`,
      "calico",
      'cannot be installed air-gapped: K3s fetches the tigera-operator chart and Calico\'s images at install time; use a flannel backend with install.kind "airgap"',
    );
  }
  if (net.cni && net.flannelBackend !== "none") {
    issues.add(`${S}.network.cni`, net.cni, `requires network.flannelBackend "none" (it is "${net.flannelBackend}")`);
  }
  const pod = parseCidr(net.clusterCidr);
  const svc = parseCidr(net.serviceCidr);
  if (!pod) issues.add(`${S}.network.clusterCidr`, net.clusterCidr, "is not a valid IPv4 CIDR");
  if (!svc) issues.add(`${S}.network.serviceCidr`, net.serviceCidr, "is not a valid IPv4 CIDR");
  if (pod && svc && cidrsOverlap(pod, svc)) {
    issues.add(
      `${S}.network.clusterCidr`,
      net.clusterCidr,
      `overlaps network.serviceCidr ${net.serviceCidr}; pod and service ranges must be disjoint`,
    );
  }
  const dns = parseIpv4(net.clusterDns);
  if (svc && dns !== undefined && !cidrContains(svc, dns)) {
    issues.add(`${S}.network.clusterDns`, net.clusterDns, `must lie inside network.serviceCidr ${net.serviceCidr}`);
  }
  for (const h of hosts) {
    const ip = parseIpv4(h.internalAddress ?? h.address);
    if (ip === undefined) continue;
    for (const [field, c] of [
      ["clusterCidr", pod],
      ["serviceCidr", svc],
    ] as const) {
      if (c && cidrContains(c, ip)) {
        issues.add(
          `${S}.network.${field}`,
          net[field],
          `contains the address ${h.internalAddress ?? h.address} of host "${h.name}"; pick a range disjoint from the host network`,
        );
      }
    }
  }
  const reg = spec.registrationAddress;
  if (reg?.kind === "kube-vip" && reg.image.startsWith("ghcr.io/")) {
    const where =
      spec.install.kind === "airgap"
        ? 'with install.kind "airgap" (the K3s air-gap images do not include kube-vip)'
        : spec.install.kind === "online" && spec.install.mirror === "cn"
          ? 'with install.mirror "cn" (ghcr.io is unreachable from mainland China)'
          : undefined;
    if (where)
      issues.add(
        `${S}.registrationAddress.image`,
        reg.image,
        `cannot be pulled ${where}; set image to a copy in a registry the servers reach`,
      );
  }
  if (reg?.kind === "kube-vip") {
    const vip = parseIpv4(reg.vip);
    const clash = hosts.find((h) => h.address === reg.vip || h.internalAddress === reg.vip);
    if (clash)
      issues.add(
        `${S}.registrationAddress.vip`,
        reg.vip,
        `is the address of host "${clash.name}"; the VIP must be a free address on the servers' network`,
      );
    if (vip !== undefined && pod && cidrContains(pod, vip))
      issues.add(`${S}.registrationAddress.vip`, reg.vip, `lies inside network.clusterCidr ${net.clusterCidr}`);
  }
  if (issues.issues.length > before) return undefined;
  return { name: input.name, hosts, spec, registries: input.registries };
}

/** Validates and throws every problem at once. */
export function validateK3sHaCluster(input: K3sHaClusterInput): K3sHaClusterProps {
  const issues = new IssueCollector();
  const props = checkK3sHaCluster(input, issues);
  issues.throwIfAny(`K3sHaCluster "${input.name}"`);
  return props!;
}
