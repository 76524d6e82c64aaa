import { Environment, environmentFile, readEnvironmentFile, validateEnvironment } from "../../stacks/environment";
import { resolveSecretRefs } from "../../stacks/secret-refs";
import { HostStep } from "../../lib/steps";
import { LAB_SUBNET } from "./lab";

/**
 * The bundled default environment moved onto the lab (nodes.lab.test.ts): same hosts, roles, labels, taints and
 * components, with only what the lab cannot be changed, each change named here:
 * - addresses: `10.213.0.<n>` on the lab bridge instead of 192.168.10/20.x (the VIP and cloudcore's advertise
 *   address follow);
 * - every host Debian 12 amd64 (the lab has one image; the default mixes Rocky, Ubuntu, openEuler, CentOS, Kylin
 *   and arm64, which pre-flight would rightly refuse here) — so EdgeX renders one edge DaemonSet (amd64), not two;
 * - etcd installed `prestaged` (the air-gap path): v3.5.17, the version the library pins, built from go.etcd.io/etcd
 *   by scripts/build-tools.sh and staged as the release tarball + SHA256SUMS (etcd-prestaged.ts) — the release
 *   download itself is outside the lab;
 * - the registry in host mode on nfs-1 (Debian's docker-registry, TLS + htpasswd, the same users and node user)
 *   instead of in-cluster: image pulls need a registry before any pod runs, and the in-cluster registry's own image
 *   would have to come from somewhere first;
 * - edge nodes: `cgroupDriver: cgroupfs` (the lab's kubelet hosts run cgroup v1 under the runner's cgroupfs, no
 *   systemd delegation) and `install: prestaged` (keadm/edgecore tarballs and the CNI plugins tarball are downloads).
 * Secrets get fixed lab values.
 */
export const LAB_ADDRESSES: Readonly<Record<string, number>> = {
  "etcd-1": 11,
  "etcd-2": 12,
  "etcd-3": 13,
  "server-1": 21,
  "server-2": 22,
  "server-3": 23,
  "agent-1": 31,
  "agent-2": 32,
  "nfs-1": 41,
  "edge-1": 51,
  "edge-2": 52,
};
export const LAB_REGISTRY_HOST = "nfs-1";
/** Where the edge nodes find pre-staged tarballs (the CNI plugins one is built from Debian's package, see nodes.ts). */
export const LAB_PRESTAGED_DIR = "/opt/edgecloud-lab/kubeedge";
/** Where the etcd members find the pre-staged etcd release tarball and its SHA256SUMS. */
export const LAB_ETCD_DIR = "/opt/edgecloud-lab/etcd";
export const LAB_SECRETS: Readonly<Record<string, string>> = {
  "registry-admin-password": "lab-admin-password-0123",
  "registry-node-password": "lab-node-password-4567",
  "registry-ci-password": "lab-ci-password-89ab",
};

export function labAddress(host: string): string {
  const n = LAB_ADDRESSES[host];
  if (n === undefined) throw new Error(`no lab address for ${host}`);
  return `${LAB_SUBNET}.${n}`;
}

/** The default environment's raw file with the lab changes above. */
export function labDefaultEnvironmentRaw(): Record<string, unknown> {
  const raw = readEnvironmentFile(environmentFile("default")) as Record<string, unknown>;
  const hosts = (raw.hosts as Record<string, unknown>[]).map((h) => {
    const name = String(h.name);
    const roles = [...(h.roles as string[])];
    if (name === LAB_REGISTRY_HOST) roles.push("registry");
    return { ...h, address: labAddress(name), os: "debian-12", arch: "amd64", roles };
  });
  const k3s = raw.k3s as Record<string, unknown>;
  const registry = raw.registry as Record<string, unknown>;
  const kubeedge = raw.kubeedge as Record<string, unknown>;
  return {
    ...raw,
    hosts,
    k3s: {
      ...k3s,
      registrationAddress: { ...(k3s.registrationAddress as object), vip: `${LAB_SUBNET}.100` },
      etcd: { install: { kind: "prestaged", dir: LAB_ETCD_DIR } },
    },
    registry: { ...registry, mode: { kind: "host", host: LAB_REGISTRY_HOST } },
    kubeedge: {
      ...kubeedge,
      cloudHub: { ...(kubeedge.cloudHub as object), advertiseAddress: [labAddress("server-1")] },
      edge: { cgroupDriver: "cgroupfs", install: { kind: "prestaged", dir: LAB_PRESTAGED_DIR } },
    },
  };
}

export function labDefaultEnvironment(): Environment {
  const raw = resolveSecretRefs(labDefaultEnvironmentRaw(), (n) => {
    const v = LAB_SECRETS[n];
    if (v === undefined) throw new Error(`no lab value for secret ${n}`);
    return v;
  });
  return validateEnvironment(raw, "default (moved onto the lab)");
}

/**
 * Steps of the environment the lab does not run, each with its reason. Everything else runs for real.
 * Matched on the step name (the same on every host).
 */
export const NOT_RUN_HERE: Readonly<Record<string, string>> = {
  "k3s-install":
    "downloads the K3s binary and install script (the lab is offline; github.com/k3s-io/k3s is refused by the Go module proxy, so it cannot be built either)",
  "k3s-start": "starts K3s, which is not installed (k3s-install)",
  "k3s-nodes-ready": "waits for the K3s nodes to be Ready (K3s is not installed: k3s-install)",
  "keadm-init":
    "runs keadm against a running K3s (keadm cannot be built: github.com/kubeedge/api@v1.23.1 and beehive are refused by the Go module proxy)",
  "kubeedge-token-wait": "waits for cloudcore's token Secret (cloudcore cannot run here)",
  "kubeedge-stream-cert":
    "signs the stream certificate with K3s's server CA and stores it with `k3s kubectl` (K3s is not installed: k3s-install)",
  "kubeedge-install": "unpacks the keadm/edgecore release tarballs (downloads; edgecore cannot be built here)",
  "kubeedge-join": "starts edgecore (not installed: kubeedge-install)",
  "nfs-server": "the kernel's nfsd cannot start inside an nspawn host (shown in services.lab.test.ts)",
  "rancher-import": "applies a Rancher registration manifest (a download)",
};

export function runsHere(step: HostStep): boolean {
  return NOT_RUN_HERE[step.name] === undefined;
}

/**
 * The default environment moved onto the lab with its own registry mode (`in-cluster`, as the default file has it),
 * for the in-cluster registry workload the stage runs beside the host-mode registry the nodes pull from
 * (in-cluster-registry.ts). Same lab changes as {@link labDefaultEnvironment} otherwise.
 */
export function labInClusterRegistryEnvironment(): Environment {
  const original = readEnvironmentFile(environmentFile("default")) as Record<string, unknown>;
  const raw = resolveSecretRefs({ ...labDefaultEnvironmentRaw(), registry: original.registry }, (n) => {
    const v = LAB_SECRETS[n];
    if (v === undefined) throw new Error(`no lab value for secret ${n}`);
    return v;
  });
  return validateEnvironment(raw, "default with its in-cluster registry (moved onto the lab)");
}
