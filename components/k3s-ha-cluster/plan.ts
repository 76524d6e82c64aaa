import { chartObjects, objectsToYaml } from "../../lib/manifests/chart";
import { HostStep, stepId } from "../../lib/steps/host-step";
import { etcdHealthGateStep } from "./etcd/health-gate-step";
import { etcdFirewallStep } from "./etcd/firewall-step";
import { etcdInstallStep } from "./etcd/install-step";
import { etcdMaintenanceStep } from "./etcd/maintenance-step";
import { etcdMemberStep } from "./etcd/member-step";
import { etcdRestoreStep } from "./etcd/restore-step";
import { k3sConfigStep } from "./k3s/config-step";
import { k3sInstallStep } from "./k3s/install-step";
import { K3sRole } from "./k3s/paths";
import { k3sPrereqsStep } from "./k3s/prereqs-step";
import { k3sNodesReadyStep, k3sStartStep } from "./k3s/start-step";
import { ClusterMaterial } from "./material";
import { packageReposStep } from "./package-repos-step";
import { preflightStep } from "./preflight-step";
import { capabilitySteps } from "./capabilities/steps";
import { CALICO_MANIFEST, calicoManifest } from "./cni/calico";
import { kubeVipChart } from "./registration/kube-vip-chart";
import { K3sHaClusterProps } from "./spec";
import { clusterTopology } from "./topology";

/** Manifests K3s servers auto-deploy from their manifests directory (kube-vip). */
export function serverManifests(props: K3sHaClusterProps): Record<string, string> {
  const reg = props.spec.registrationAddress;
  const out: Record<string, string> = {};
  if (reg?.kind === "kube-vip")
    out["edgecloud-kube-vip.yaml"] = objectsToYaml(
      chartObjects(kubeVipChart({ vip: reg.vip, interface: reg.interface, image: reg.image })),
    );
  // flannel off and Calico named: the servers deploy Calico themselves, its pool on clusterCidr
  if (props.spec.network.cni === "calico") out[CALICO_MANIFEST] = calicoManifest(props.spec);
  return out;
}

/** The spec's pre-flight checks, the same for every host (computed once per rendering: linear in the hosts). */
function preflightChecks(props: K3sHaClusterProps): Parameters<typeof preflightStep>[3] {
  const { spec } = props;
  const reg = spec.registrationAddress;
  const t = clusterTopology(props);
  return {
    ...(reg?.kind === "kube-vip" ? { kubeVipInterface: reg.interface } : {}),
    wireguard: spec.network.flannelBackend === "wireguard-native",
    airgapSelinux: spec.install.kind === "airgap",
    ...(t.externalEtcd
      ? {
          etcd: {
            want: spec.etcd.install.kind === "distro" ? "distro" : spec.etcd.version.slice(1),
            clientPort: spec.etcd.clientPort,
            size: t.etcd.length,
            force: spec.etcd.force,
          },
        }
      : {}),
  };
}

/** A host's pre-flight step (undefined for a host with none of the cluster's roles); `others`: the names it must not take. */
function hostPreflight(
  h: K3sHaClusterProps["hosts"][number],
  others: K3sHaClusterProps["hosts"],
  checks: Parameters<typeof preflightStep>[3],
): HostStep | undefined {
  const roles = h.roles.filter((r) => r === "etcd" || r === "server" || r === "agent");
  return roles.length ? preflightStep(h, roles, others, checks) : undefined;
}

/**
 * Per host with a pre-flight step, the hash of its own checks (declared OS and architecture, minima, the spec's
 * checks): its pre-flight rendered without the other hosts' names, which change whenever any host joins or leaves.
 * What re-runs that host's steps, and only that host's, when its pre-flight changes. Empty with `preflight: false`.
 */
export function preflightKeys(props: K3sHaClusterProps): Map<string, string> {
  const keys = new Map<string, string>();
  if (!props.spec.preflight) return keys;
  const checks = preflightChecks(props);
  for (const h of props.hosts) {
    const s = hostPreflight(h, [], checks);
    if (s) keys.set(h.name, s.hash);
  }
  return keys;
}

/**
 * Every host step of the cluster, wired: pre-flight → etcd install → members (chained) → health gate on the
 * first server → servers one after another → agents; maintenance timers after the gate.
 */
export function renderK3sHaClusterSteps(props: K3sHaClusterProps, material: ClusterMaterial): HostStep[] {
  const t = clusterTopology(props);
  const { spec } = props;
  const steps: HostStep[] = [];
  const add = (s: HostStep) => (steps.push(s), s.id);
  const pre = new Map<string, string>();
  if (spec.preflight) {
    const checks = preflightChecks(props);
    for (const h of props.hosts) {
      const s = hostPreflight(h, props.hosts, checks);
      if (s) pre.set(h.name, add(s));
    }
  }
  // a CentOS 7 host's yum points at its packageMirror before anything installs packages there (any role)
  const repos = new Map<string, string>();
  for (const h of props.hosts) {
    const s = packageReposStep(h, pre.has(h.name) ? [pre.get(h.name)!] : []);
    if (s) repos.set(h.name, add(s));
  }
  const after = (host: string, ...ids: string[]) => [
    ...(pre.has(host) ? [pre.get(host)!] : []),
    ...(repos.has(host) ? [repos.get(host)!] : []),
    ...ids,
  ];

  let gate: string | undefined;
  if (t.externalEtcd) {
    const pki = material.etcd!;
    let prev: string | undefined;
    const memberIds: string[] = [];
    const installs = t.etcd.map((m) => add(etcdInstallStep(m, spec.etcd, after(m.name))));
    // a restore: every member restored before any member starts again
    const restores = t.etcd.flatMap((m, i) => {
      const r = etcdRestoreStep({
        clusterName: props.name,
        member: m,
        members: t.etcd,
        etcd: spec.etcd,
        dependsOn: [installs[i]!],
      });
      return r ? [add(r)] : [];
    });
    t.etcd.forEach((m, i) => {
      const firewall = add(etcdFirewallStep(m, spec.etcd, t.etcd, t.servers, after(m.name)));
      prev = add(
        etcdMemberStep({
          clusterName: props.name,
          member: m,
          members: t.etcd,
          etcd: spec.etcd,
          pki,
          dependsOn: [installs[i]!, firewall, ...restores, ...(prev ? [prev] : [])],
        }),
      );
      memberIds.push(prev);
    });
    const first = t.servers[0]!;
    const firstConfig = stepId(first.name, "k3s-config");
    gate = add(etcdHealthGateStep(first, t.etcdEndpoints, [...memberIds, firstConfig]));
    const g = gate;
    t.etcd.forEach((m, i) => add(etcdMaintenanceStep(m, spec.etcd, [g], i, material.etcdS3)));
  }

  const manifests = serverManifests(props);
  let prevStart: string | undefined;
  const node = (h: (typeof t.servers)[number], role: K3sRole, startDeps: string[]) => {
    const prereqs = add(k3sPrereqsStep(h, role, spec, after(h.name)));
    // GPU toolkit, Kata, hugepages, SR-IOV VFs, the real-time kubelet: before K3s reads its config and starts
    const caps = capabilitySteps(h, [prereqs]).map(add);
    const config = add(
      k3sConfigStep({
        host: h,
        role,
        spec,
        topo: t,
        token: material.token,
        pki: material.etcd,
        registries: props.registries,
        serverManifests: manifests,
        dependsOn: [prereqs, ...caps],
      }),
    );
    const install = add(k3sInstallStep(h, role, spec, [config]));
    return add(
      k3sStartStep(h, role, t.registrationAddress, [install, ...startDeps], spec.nodeReadyTimeoutSeconds, spec.version),
    );
  };
  for (const s of t.servers) {
    prevStart = node(s, "server", [...(gate ? [gate] : []), ...(prevStart ? [prevStart] : [])]);
  }
  const lastServer = prevStart;
  // agents after the last server; with agentRollConcurrency c, agent i also waits for agent i - c (at most c at once)
  const c = spec.agentRollConcurrency;
  const agentStarts: string[] = [];
  for (const [i, a] of t.agents.entries()) {
    const earlier = c !== undefined && i >= c ? [agentStarts[i - c]!] : [];
    agentStarts.push(node(a, "agent", [...(lastServer ? [lastServer] : []), ...earlier]));
  }
  if (agentStarts.length)
    add(
      k3sNodesReadyStep(
        t.servers[0]!,
        t.agents.map((a) => a.name),
        agentStarts,
        spec.nodeReadyTimeoutSeconds,
      ),
    );
  return steps;
}
