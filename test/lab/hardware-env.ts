import { Environment, validateEnvironment } from "../../stacks/environment";
import { EnvironmentMaterial } from "../../stacks/material";
import { HostStep } from "../../lib/steps";
import { LAB_SUBNET } from "./lab";
import { runsHere } from "./nodes-env";

/**
 * Issue 17's lab environment (hardware-nodes.lab.test.ts): heterogeneous K3s nodes and an HA registry, shaped like
 * the bundled ha-cloud environment (a GPU agent, a real-time agent, a 2-replica in-cluster registry on a
 * ReadWriteMany claim behind a NodePort) on five Debian 12 lab hosts:
 * - etcd-1: the external etcd (the library's `prestaged` install of v3.5.17, like nodes-env.ts);
 * - server-1, server-2: K3s servers without capabilities (the only nodes the registry pods tolerate);
 * - gpu-1: an agent declaring an NVIDIA GPU, as debian-11 (NVIDIA ships the toolkit for debian-11/amd64, not
 *   debian-12: lib/platform/accelerators.ts) — the lab host is Debian 12, so its pre-flight is not run here;
 * - rt-1: an agent declaring a real-time kernel and an SR-IOV NIC.
 * Secrets are inline lab values.
 */
export const HW_ADDRESSES: Readonly<Record<string, number>> = {
  "etcd-1": 11,
  "server-1": 21,
  "server-2": 22,
  "gpu-1": 31,
  "rt-1": 32,
};
export const HW_SERVERS = ["server-1", "server-2"] as const;
export const HW_GPU = "gpu-1";
export const HW_RT = "rt-1";
export const HW_NODES = [...HW_SERVERS, HW_GPU, HW_RT] as const;
export const HW_ETCD_DIR = "/opt/edgecloud-lab/etcd";
/** The claim's class: no provisioner answers it; the test binds a stand-in volume to the claim. */
export const HW_RWX_CLASS = "lab-rwx";
export const HW_NODE_PORT = 32500;

export function hwAddress(host: string): string {
  const n = HW_ADDRESSES[host];
  if (n === undefined) throw new Error(`no lab address for ${host}`);
  return `${LAB_SUBNET}.${n}`;
}

export function hardwareLabEnvironmentRaw(): Record<string, unknown> {
  const ssh = { user: "root", privateKeyPath: "/nonexistent/lab-key" };
  const host = (name: string, roles: string[], extra: Record<string, unknown> = {}) => ({
    name,
    address: hwAddress(name),
    os: "debian-12",
    arch: "amd64",
    roles,
    ssh,
    ...extra,
  });
  return {
    name: "hw-lab",
    description: "issue 17's lab: GPU, real-time and SR-IOV nodes, a 2-replica registry",
    allowInlineSecrets: true,
    hosts: [
      host("etcd-1", ["etcd"]),
      host("server-1", ["server"]),
      host("server-2", ["server"]),
      host(HW_GPU, ["agent"], { os: "debian-11", capabilities: { gpu: { vendor: "nvidia" } } }),
      host(HW_RT, ["agent"], {
        capabilities: {
          realtime: { isolatedCpus: "1", reservedCpus: "0" },
          sriov: { nics: [{ pf: "ens1f0", numVfs: 2, resourceName: "sriov_net" }] },
        },
      }),
    ],
    k3s: {
      disable: ["traefik"],
      registrationAddress: { kind: "kube-vip", vip: `${LAB_SUBNET}.100`, interface: "eth0" },
      etcd: { install: { kind: "prestaged", dir: HW_ETCD_DIR } },
    },
    registry: {
      mode: {
        kind: "in-cluster",
        nodePort: HW_NODE_PORT,
        replicas: 2,
        storage: { size: "1Gi", accessMode: "ReadWriteMany", storageClassName: HW_RWX_CLASS },
      },
      auth: {
        users: [
          { username: "ci", password: "lab-ci-password-0123" },
          { username: "node", password: "lab-node-password-4567" },
        ],
        nodeUser: "node",
      },
    },
  };
}

export function hardwareLabEnvironment(): Environment {
  return validateEnvironment(hardwareLabEnvironmentRaw(), "issue 17's lab environment");
}

/**
 * The registry's props as the Pulumi path builds them (components/registry/registry.ts passes the plan's
 * `mirrorEndpoints`): synth's material (stacks/material.ts registryProps) leaves them out, so synth's registries.yaml
 * lists the first server only. The lab renders the nodes' files from the Pulumi path's props.
 */
export function withMirrorEndpoints(env: Environment, m: EnvironmentMaterial): EnvironmentMaterial {
  if (!m.registry || !env.registry) return m;
  return { ...m, registry: { ...m.registry, mirrorEndpoints: env.registry.mirrorEndpoints } };
}

/**
 * Steps not run here beyond nodes-env.ts's NOT_RUN_HERE, each with its reason (capability steps need the hardware;
 * capabilities.lab.test.ts shows the pre-flight refusing these hosts).
 */
export const HW_NOT_RUN_HERE: Readonly<Record<string, string>> = {
  [`${HW_GPU}/preflight`]:
    "refuses a host without an NVIDIA driver and declared as debian-11 (shown in capabilities.lab.test.ts)",
  [`${HW_RT}/preflight`]:
    "refuses a host without a PREEMPT_RT kernel, isolated CPUs or the SR-IOV PF (shown in capabilities.lab.test.ts)",
  [`${HW_GPU}/gpu-toolkit`]: "downloads NVIDIA's repository key, list and the toolkit packages (the lab is offline)",
  [`${HW_RT}/sriov-vfs`]: "needs the SR-IOV physical function ens1f0, which a lab host has not",
};

export function hwRunsHere(step: HostStep): boolean {
  return runsHere(step) && HW_NOT_RUN_HERE[step.id] === undefined;
}
