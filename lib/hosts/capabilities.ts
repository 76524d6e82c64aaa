import { z } from "zod";
import {
  KATA_ARCHES,
  KUBEVIRT_ARCHES,
  nvidiaToolkitSupports,
  nvidiaToolkitTargets,
  SRIOV_PLUGIN_ARCHES,
} from "../platform/accelerators";
import { Arch } from "../platform/arch";
import { OsId } from "../platform/os";
import { IssueCollector } from "../validation/issues";
import { interfaceName } from "../validation/kubernetes";

/** A Linux CPU list as the kernel prints it (`/sys/devices/system/cpu/isolated`, `isolcpus=`): `2-5,8`. */
export const cpuList = z.string().superRefine((v, ctx) => {
  const p = cpuListProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});

const CPU_LIST = /^\d{1,4}(-\d{1,4})?(,\d{1,4}(-\d{1,4})?)*$/;

function cpuListProblem(v: string): string | undefined {
  if (!CPU_LIST.test(v)) return "must be a CPU list such as 2-5,8 (numbers and ascending ranges joined by ',')";
  for (const part of v.split(",")) {
    const [a, b] = part.split("-").map(Number);
    if (b !== undefined && b < a!) return `has the range ${part}, which does not ascend`;
  }
  return undefined;
}

/** The CPUs of a valid {@link cpuList}, ascending, each once. */
export function parseCpuList(v: string): number[] {
  const out = new Set<number>();
  for (const part of v.split(",")) {
    const [a, b] = part.split("-").map(Number);
    for (let c = a!; c <= (b ?? a!); c++) out.add(c);
  }
  return [...out].sort((x, y) => x - y);
}

/** An extended-resource name part: what follows the prefix in `<prefix>/<name>` (lowercase, at most 63). */
const resourceName = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/,
    "must be at most 63 characters a-z 0-9 _ - that start and end alphanumeric",
  );

export const GpuCapabilitySchema = z.strictObject({
  /** Only NVIDIA for now (AMD would need the ROCm device plugin and its own packages; Intel the GPU plugin). */
  vendor: z.enum(["nvidia"]),
  /** GPUs the host holds (pre-flight compares with `nvidia-smi -L`). @default 1 */
  count: z.number().int().min(1).max(16).default(1),
});

export const KataCapabilitySchema = z.strictObject({
  /** Kata Containers release, e.g. `3.11.0`: its `kata-static-<version>-<arch>.tar.xz` is installed under /opt/kata. */
  version: z.string().regex(/^\d+\.\d+\.\d+$/, "must be a Kata Containers release such as 3.11.0"),
  /**
   * The tarball's compression as the release publishes it: 3.x releases uploaded `.tar.xz`
   * (tools/packaging/release/release.sh), later ones `.tar.zst` — check the release page. @default "tar.xz"
   */
  archive: z.enum(["tar.xz", "tar.zst"]).default("tar.xz"),
  /** sha256 of that tarball for this host's arch, as the release publishes it; refused before extraction when it differs. */
  sha256: z.string().regex(/^[a-f0-9]{64}$/, "must be 64 lowercase hex digits (sha256)"),
});

export const KvmCapabilitySchema = z.strictObject({
  /** The host is itself a VM: KVM inside it needs nested virtualization, which pre-flight checks. @default false */
  nested: z.boolean().default(false),
});

export const TOPOLOGY_MANAGER_POLICIES = ["single-numa-node", "restricted", "best-effort"] as const;

export const RealtimeCapabilitySchema = z.strictObject({
  /** CPUs the kernel isolates (`isolcpus=` / `nohz_full=` on the kernel command line); pre-flight compares. */
  isolatedCpus: cpuList,
  /** CPUs the kubelet keeps for the system and itself (`--reserved-cpus`); never handed to a Guaranteed pod. */
  reservedCpus: cpuList,
  /** kubelet `--topology-manager-policy`. @default "single-numa-node" */
  topologyManagerPolicy: z.enum(TOPOLOGY_MANAGER_POLICIES).default("single-numa-node"),
});

export const HugepagesSchema = z.strictObject({
  /** Page size. 2Mi pages are reserved at run time (sysctl); 1Gi pages only at boot (kernel command line). */
  size: z.enum(["2Mi", "1Gi"]),
  count: z.number().int().min(1).max(1_000_000),
});

export const SRIOV_DRIVERS = ["netdevice", "vfio-pci"] as const;

export const SriovNicSchema = z.strictObject({
  /** The physical function's interface name, e.g. `ens1f0`. */
  pf: interfaceName,
  /** Virtual functions to create (`sriov_numvfs`). */
  numVfs: z.number().int().min(1).max(256),
  /** `intel.com/<resourceName>` is what pods request. */
  resourceName,
  /** VFs as kernel netdevices, or bound to vfio-pci for DPDK (needs hugepages). @default "netdevice" */
  driver: z.enum(SRIOV_DRIVERS).default("netdevice"),
});

export const SriovCapabilitySchema = z.strictObject({
  nics: z.array(SriovNicSchema).min(1),
});

/** What a host's hardware and kernel offer beyond running containers; each is installed, checked and labelled. */
export const HostCapabilitiesSchema = z.strictObject({
  /** @default - no GPU */
  gpu: GpuCapabilitySchema.optional(),
  /** @default - no Kata Containers */
  kata: KataCapabilitySchema.optional(),
  /** /dev/kvm for KubeVirt VMs. @default - no KVM */
  kvm: KvmCapabilitySchema.optional(),
  /** A PREEMPT_RT kernel with isolated CPUs: static CPU manager, topology manager. @default - not real-time */
  realtime: RealtimeCapabilitySchema.optional(),
  /** @default - no hugepages reserved */
  hugepages: HugepagesSchema.optional(),
  /** @default - no SR-IOV */
  sriov: SriovCapabilitySchema.optional(),
});

export type HostCapabilities = z.output<typeof HostCapabilitiesSchema>;
export type Capability = keyof HostCapabilities;

/** Labels the library puts on a node per capability (and selects on). */
export const CAPABILITY_LABELS = {
  // NVIDIA/k8s-device-plugin v0.17.1 deployments/helm/nvidia-device-plugin/values.yaml: gpu-feature-discovery's
  // label for a node with a GPU; used here before feature discovery runs
  gpu: "nvidia.com/gpu.present",
  kata: "edgecloud.io/kata",
  kvm: "edgecloud.io/kvm",
  realtime: "edgecloud.io/realtime",
  sriov: "edgecloud.io/sriov",
} as const;

/**
 * Taints the library puts on GPU and real-time nodes so that only workloads that ask land there. The GPU key is
 * the one NVIDIA's DaemonSet tolerates (NVIDIA/k8s-device-plugin v0.17.1 deployments/static/nvidia-device-plugin.yml:
 * `key: nvidia.com/gpu, operator: Exists, effect: NoSchedule`).
 */
export const CAPABILITY_TAINTS = {
  gpu: "nvidia.com/gpu=present:NoSchedule",
  realtime: "edgecloud.io/realtime=true:NoSchedule",
} as const;

/** The node labels a host's capabilities add. */
export function capabilityLabels(c: HostCapabilities | undefined): Record<string, string> {
  if (!c) return {};
  const out: Record<string, string> = {};
  for (const k of ["gpu", "kata", "kvm", "realtime", "sriov"] as const) if (c[k]) out[CAPABILITY_LABELS[k]] = "true";
  return out;
}

/** The node taints a host's capabilities add. */
export function capabilityTaints(c: HostCapabilities | undefined): string[] {
  if (!c) return [];
  return (["gpu", "realtime"] as const).filter((k) => c[k]).map((k) => CAPABILITY_TAINTS[k]);
}

interface CapabilityHost {
  readonly os: OsId;
  readonly arch: Arch;
  readonly roles: readonly string[];
  readonly capabilities?: HostCapabilities;
}

/**
 * The rules that need the host around the capabilities: the vendor ships for the host's OS and arch, the host is
 * a K3s node, CPU sets are disjoint, DPDK has hugepages, names are unique.
 */
export function checkCapabilities(h: CapabilityHost, issues: IssueCollector, base: string): void {
  const c = h.capabilities;
  if (!c) return;
  const at = `${base}.capabilities`;
  const target = `${h.os}/${h.arch}`;
  const present = (Object.keys(c) as Capability[]).filter((k) => c[k] !== undefined);
  if (present.length && !h.roles.includes("server") && !h.roles.includes("agent"))
    issues.add(
      at,
      present,
      `are for K3s nodes (roles "server" or "agent"); this host has roles ${h.roles.join(", ")}, whose runtime edgecloud does not configure for them`,
    );
  if (c.gpu && !nvidiaToolkitSupports(h.os, h.arch))
    issues.add(
      `${at}.gpu`,
      target,
      `has no NVIDIA Container Toolkit from its vendor (NVIDIA ships it for ${nvidiaToolkitTargets().join(", ")}); put the GPU in a host NVIDIA supports`,
    );
  if (c.kata && !KATA_ARCHES.includes(h.arch))
    issues.add(
      `${at}.kata`,
      target,
      `has no Kata Containers release tarball for ${h.arch} (kata-static is published for ${KATA_ARCHES.join(", ")} among the arches edgecloud targets)`,
    );
  if (c.kvm && !KUBEVIRT_ARCHES.includes(h.arch))
    issues.add(
      `${at}.kvm`,
      target,
      `has no KubeVirt images for ${h.arch} (KubeVirt builds ${KUBEVIRT_ARCHES.join(", ")} among the arches edgecloud targets)`,
    );
  if (c.realtime) {
    const iso = parseCpuList(c.realtime.isolatedCpus);
    const overlap = parseCpuList(c.realtime.reservedCpus).filter((x) => iso.includes(x));
    if (overlap.length)
      issues.add(
        `${at}.realtime.reservedCpus`,
        c.realtime.reservedCpus,
        `overlaps isolatedCpus "${c.realtime.isolatedCpus}" on CPU ${overlap.join(",")}; reserved CPUs run the system and the kubelet, isolated ones only pinned workloads`,
      );
  }
  if (c.sriov && !SRIOV_PLUGIN_ARCHES.includes(h.arch))
    issues.add(
      `${at}.sriov`,
      target,
      `has no SR-IOV network device plugin image for ${h.arch} (v3.9.0 is published for ${SRIOV_PLUGIN_ARCHES.join(", ")} among the arches edgecloud targets)`,
    );
  if (c.sriov) {
    const seenPf = new Map<string, number>();
    const seenRes = new Map<string, number>();
    c.sriov.nics.forEach((n, j) => {
      const p = seenPf.get(n.pf);
      if (p !== undefined)
        issues.add(
          `${at}.sriov.nics[${j}].pf`,
          n.pf,
          `is declared twice (nics[${p}]); one entry per physical function`,
        );
      else seenPf.set(n.pf, j);
      const r = seenRes.get(n.resourceName);
      if (r !== undefined)
        issues.add(
          `${at}.sriov.nics[${j}].resourceName`,
          n.resourceName,
          `is used twice (nics[${r}]); each pool of VFs needs its own resource name`,
        );
      else seenRes.set(n.resourceName, j);
      if (n.driver === "vfio-pci" && !c.hugepages)
        issues.add(
          `${at}.sriov.nics[${j}].driver`,
          "vfio-pci",
          "is for DPDK, which needs hugepages: set capabilities.hugepages (e.g. { size: 2Mi, count: 1024 })",
        );
    });
  }
}

/**
 * The rules across hosts: a resource name is one pool of the SR-IOV device plugin, which selects its VFs by driver
 * (sriov-network-device-plugin v3.9.0 README "drivers": target device driver names; pkg/types/types.go
 * `Drivers`), so every host must declare it with the same driver — otherwise the pool's selector leaves one host's
 * VFs out.
 */
export function checkCapabilitiesAcrossHosts(
  hosts: readonly { readonly capabilities?: HostCapabilities }[],
  issues: IssueCollector,
  base: string,
): void {
  const first = new Map<string, { host: number; at: string; driver: string }>();
  hosts.forEach((h, i) =>
    (h.capabilities?.sriov?.nics ?? []).forEach((n, j) => {
      const at = `${base}[${i}].capabilities.sriov.nics[${j}]`;
      const prev = first.get(n.resourceName);
      if (!prev) first.set(n.resourceName, { host: i, at, driver: n.driver });
      // twice on one host is refused on its own (checkCapabilities)
      else if (prev.host !== i && prev.driver !== n.driver)
        issues.add(
          `${at}.driver`,
          n.driver,
          `differs from ${prev.at} ("${prev.driver}") for resourceName "${n.resourceName}"; one resource name is one device-plugin pool, selected by driver: give these VFs their own resource name`,
        );
    }),
  );
}
