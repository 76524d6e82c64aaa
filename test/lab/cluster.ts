import { randomBytes } from "crypto";
import {
  ClusterMaterial,
  generateClusterMaterial,
  K3sHaClusterProps,
  K3sHaClusterSpecInput,
  renderK3sHaClusterSteps,
  validateK3sHaCluster,
} from "../../components/k3s-ha-cluster";
import { HostInput } from "../../lib/hosts/host";
import { chainName, groupStepChains, HostStep, makePlan, StepPlan, StepResources } from "../../lib/steps";
import { LAB_SUBNET, LabHostSpec } from "./lab";

/**
 * The K3sHaCluster environment the lab provisions: 3 etcd members, 2 K3s servers, 1 agent, all Debian 12 amd64
 * on the lab bridge, etcd from the distribution package (the release download cannot run offline).
 */
export const CLUSTER_HOSTS: readonly { name: string; roles: HostInput["roles"]; ip: number }[] = [
  { name: "etcd-1", roles: ["etcd"], ip: 11 },
  { name: "etcd-2", roles: ["etcd"], ip: 12 },
  { name: "etcd-3", roles: ["etcd"], ip: 13 },
  { name: "server-1", roles: ["server"], ip: 21 },
  { name: "server-2", roles: ["server"], ip: 22 },
  { name: "agent-1", roles: ["agent"], ip: 31 },
];

export const CLUSTER_SPEC: K3sHaClusterSpecInput = {
  etcd: { install: { kind: "distro" } },
  registrationAddress: { kind: "kube-vip", vip: `${LAB_SUBNET}.100`, interface: "eth0" },
  disable: ["traefik"],
};

/** Steps K3s needs the network for (binary download) and what waits for a running K3s: not run in the lab. */
export const NEEDS_K3S_BINARY: readonly string[] = ["k3s-install", "k3s-start", "k3s-nodes-ready"];

export interface LabCluster {
  readonly props: K3sHaClusterProps;
  readonly material: ClusterMaterial;
  readonly steps: readonly HostStep[];
  readonly plan: StepPlan;
  /** The lab machines for these hosts (same names and addresses). */
  readonly labHosts: LabHostSpec[];
  /** Selects the steps the lab can run: everything up to the K3s binary. */
  readonly runnable: (s: HostStep) => boolean;
}

export interface LabClusterOptions {
  readonly name?: string;
  readonly hosts?: readonly { name: string; roles: HostInput["roles"]; ip: number }[];
  readonly spec?: K3sHaClusterSpecInput;
  /** Reuse secret material (to render a changed spec for the same cluster). @default - freshly generated */
  readonly material?: ClusterMaterial;
  /** Per-host lab machine overrides (hostname, memory, distro etcd). */
  readonly machines?: Readonly<Record<string, Partial<LabHostSpec>>>;
}

/** The cluster's validated props on lab hosts (debian-12/amd64 at their lab addresses, reached as root). */
export function labClusterProps(
  hosts: readonly (typeof CLUSTER_HOSTS)[number][] = CLUSTER_HOSTS,
  spec: K3sHaClusterSpecInput = CLUSTER_SPEC,
  name = "lab",
): K3sHaClusterProps {
  return validateK3sHaCluster({
    name,
    hosts: hosts.map((h) => ({
      name: h.name,
      address: `${LAB_SUBNET}.${h.ip}`,
      ssh: { user: "root", privateKeyPath: "/nonexistent/lab-key" },
      os: "debian-12",
      arch: "amd64",
      roles: h.roles,
    })),
    spec,
  });
}

/** Validates the environment and renders its steps with freshly generated secret material, like `synth` does. */
export async function labCluster(opts: LabClusterOptions = {}): Promise<LabCluster> {
  const hosts = opts.hosts ?? CLUSTER_HOSTS;
  const props = labClusterProps(hosts, opts.spec ?? CLUSTER_SPEC, opts.name ?? "lab");
  const material =
    opts.material ??
    (await generateClusterMaterial(
      props,
      `K10${randomBytes(24).toString("hex")}::server:${randomBytes(16).toString("hex")}`,
    ));
  const steps = renderK3sHaClusterSteps(props, material);
  return {
    props,
    material,
    steps,
    plan: makePlan(steps),
    labHosts: hosts.map((h) => ({
      name: h.name,
      address: `${LAB_SUBNET}.${h.ip}`,
      ...(opts.machines?.[h.name] ?? {}),
    })),
    runnable: (s) => !NEEDS_K3S_BINARY.includes(s.name),
  };
}

/**
 * The steps the lab cannot run (those needing the K3s binary, NEEDS_K3S_BINARY) and every step that waits for one,
 * as the Pulumi resource names `<cluster>-<host>-<step>` (e.g. `lab-server-1-k3s-install`). With
 * `stepResources: "per-host-chain"`, the chains K3sHaCluster makes of them (as `hostStepCommands` groups its two
 * calls: the pre-flights, then every other step), named `<cluster>-<host>-<first>--<last>`: a chain is blocked when a
 * member is or when it waits on a blocked chain.
 */
export function k3sBinaryBlockedResources(
  c: LabCluster,
  cluster = "lab",
  stepResources: StepResources = "per-step",
): string[] {
  const calls = [
    c.plan.steps.filter((s) => s.name === "preflight"),
    c.plan.steps.filter((s) => s.name !== "preflight"),
  ];
  const units = calls.flatMap((steps) => {
    const inside = new Set(steps.map((s) => s.id));
    const byId = new Map(steps.map((s) => [s.id, s]));
    const ordered = makePlan(
      steps.map((s) => ({ ...s, dependsOn: s.dependsOn.filter((d) => inside.has(d)) })),
    ).steps.map((s) => byId.get(s.id)!);
    return groupStepChains(ordered, stepResources);
  });
  const unitOf = new Map(units.flatMap((u) => u.members.map((m) => [m.id, u] as const)));
  const blocked = new Set(units.filter((u) => u.members.some((m) => NEEDS_K3S_BINARY.includes(m.name))));
  for (let grew = true; grew;) {
    grew = false;
    for (const u of units) {
      if (!blocked.has(u) && u.dependsOn.some((d) => blocked.has(unitOf.get(d)!))) {
        blocked.add(u);
        grew = true;
      }
    }
  }
  return units.filter((u) => blocked.has(u)).map((u) => `${cluster}-${u.host}-${chainName(u)}`);
}
