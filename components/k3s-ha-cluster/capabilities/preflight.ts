import { parseCpuList } from "../../../lib/hosts/capabilities";
import { Host } from "../../../lib/hosts/host";
import { sh } from "../../../lib/steps/sh";

/** The kernel's canonical form of a CPU set (`/sys/devices/system/cpu/isolated` prints ranges: `2-5,8`). */
export function canonicalCpuList(v: string): string {
  const cpus = parseCpuList(v);
  const parts: string[] = [];
  for (let i = 0; i < cpus.length;) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

const KVM_MISSING = "there is no /dev/kvm: enable VT-x/AMD-V in the firmware and load kvm_intel or kvm_amd";

/**
 * Pre-flight lines for a host's capabilities: each appends to `problems` what is missing, in words that say what
 * to do. Nothing is installed or changed. Lines for the pre-flight step's body (values quoted by `sh`).
 */
export function capabilityPreflightLines(host: Host): string[] {
  const c = host.capabilities;
  if (!c) return [];
  const out: string[] = [];
  if (c.gpu) {
    out.push(
      "if ! command -v nvidia-smi >/dev/null 2>&1; then",
      sh`  problems+=(${"capabilities.gpu: nvidia-smi is not installed, so no NVIDIA driver is: install the driver for this GPU (distribution or NVIDIA packages) and reboot; edgecloud installs only the container toolkit"})`,
      "else",
      '  gpus=$(nvidia-smi -L 2>/dev/null | grep -c "^GPU " || true)',
      sh`  [ "$gpus" -ge ${c.gpu.count} ] || problems+=("capabilities.gpu: nvidia-smi lists $gpus GPU(s), ${c.gpu.count} declared (is the driver loaded? nvidia-smi says: $(nvidia-smi -L 2>&1 | head -n 1))")`,
      "fi",
    );
  }
  if (c.kata || c.kvm) {
    const who = [c.kata ? "kata" : "", c.kvm ? "kvm" : ""].filter((x) => x).join(" and ");
    const nested = c.kvm?.nested ? "; this host is a VM: enable nested virtualization on its hypervisor" : "";
    out.push("if [ ! -c /dev/kvm ]; then", sh`  problems+=(${`capabilities.${who}: ${KVM_MISSING}${nested}`})`, "fi");
  }
  if (c.realtime) {
    const iso = canonicalCpuList(c.realtime.isolatedCpus);
    const highest = Math.max(...parseCpuList(c.realtime.isolatedCpus), ...parseCpuList(c.realtime.reservedCpus));
    out.push(
      'case "$(uname -v)" in *PREEMPT_RT* | *"PREEMPT RT"*) ;; *)',
      sh`  problems+=("capabilities.realtime: kernel $(uname -r) is not PREEMPT_RT (uname -v: $(uname -v)); boot a real-time kernel (linux-image-rt, kernel-rt)") ;;`,
      "esac",
      "isolated=$(cat /sys/devices/system/cpu/isolated 2>/dev/null || true)",
      sh`declared_isolated=${iso}`,
      'if [ "$isolated" != "$declared_isolated" ]; then',
      '  problems+=("capabilities.realtime.isolatedCpus: the kernel isolates \\"$isolated\\", declared $declared_isolated; add isolcpus=$declared_isolated nohz_full=$declared_isolated to the kernel command line and reboot")',
      "fi",
      sh`[ "$(nproc --all)" -gt ${highest} ] || problems+=("capabilities.realtime: CPU ${highest} is declared but the host has $(nproc --all) CPUs")`,
    );
  }
  if (c.hugepages?.size === "1Gi") {
    out.push(
      "pages=$(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages 2>/dev/null || echo 0)",
      sh`[ "$pages" -ge ${c.hugepages.count} ] || problems+=("capabilities.hugepages: $pages 1Gi pages reserved, ${c.hugepages.count} declared; 1Gi pages are reserved at boot: add hugepagesz=1G hugepages=${c.hugepages.count} to the kernel command line and reboot")`,
    );
  }
  if (c.sriov) {
    for (const n of c.sriov.nics) {
      out.push(
        sh`pf=${n.pf}`,
        'if [ ! -r "/sys/class/net/$pf/device/sriov_totalvfs" ]; then',
        '  if [ -e "/sys/class/net/$pf" ]; then',
        '    problems+=("capabilities.sriov: $pf has no SR-IOV (no sriov_totalvfs: not a physical function, or SR-IOV is off in the firmware)")',
        "  else",
        '    problems+=("capabilities.sriov: network interface $pf does not exist; this host has: $(cd /sys/class/net && echo *)")',
        "  fi",
        sh`elif [ "$(cat "/sys/class/net/$pf/device/sriov_totalvfs")" -lt ${n.numVfs} ]; then`,
        sh`  problems+=("capabilities.sriov: $pf supports $(cat "/sys/class/net/$pf/device/sriov_totalvfs") VFs, ${n.numVfs} declared")`,
        "fi",
      );
    }
    if (c.sriov.nics.some((n) => n.driver === "vfio-pci"))
      out.push(
        'if [ -z "$(ls -A /sys/kernel/iommu_groups 2>/dev/null)" ]; then',
        sh`  problems+=(${"capabilities.sriov: vfio-pci needs an IOMMU and there is none: enable VT-d/AMD-Vi in the firmware and add intel_iommu=on iommu=pt (or amd_iommu=on) to the kernel command line"})`,
        "fi",
      );
  }
  return out;
}
