import { execSync } from "child_process";
import { existsSync, readFileSync, readdirSync } from "fs";
import { parse } from "yaml";
import { placeholderMaterial } from "../../../components/k3s-ha-cluster/material";
import { renderK3sHaClusterSteps } from "../../../components/k3s-ha-cluster/plan";
import { validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { canonicalCpuList } from "../../../components/k3s-ha-cluster/capabilities/preflight";
import { HostInput } from "../../../lib/hosts/host";
import { renderDeleteBundle, renderStepBundle } from "../../../lib/steps/bundle";
import { HostStep } from "../../../lib/steps/host-step";
import { haHosts, haSpec } from "../../fixtures/cluster";
import { shellcheck } from "../../support/shellcheck";
import { canRunStubHost, stubHost } from "../../support/stub-host";

const SHA = "c".repeat(64);
const machine = process.arch === "arm64" ? "arm64" : "amd64";
const UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="22.04"\n';
const small = { cpus: 1, memoryGiB: 0.1, diskGiB: 0.1 };
const ALL = {
  gpu: { vendor: "nvidia" as const, count: 2 },
  kata: { version: "3.11.0", sha256: SHA },
  realtime: { isolatedCpus: "2-3,4", reservedCpus: "0-1" },
  hugepages: { size: "1Gi" as const, count: 4 },
  sriov: { nics: [{ pf: "ens1f0", numVfs: 4, resourceName: "sriov_dpdk", driver: "vfio-pci" as const }] },
};

/** The HA fixture with agent-1 an Ubuntu 22.04 GPU/RT/SR-IOV node of this machine's arch. */
function stepsFor(agent: Partial<HostInput>): HostStep[] {
  const hosts = haHosts.map((h) =>
    h.name === "agent-1" ? { ...h, os: "ubuntu-22.04" as const, arch: machine, minima: small, ...agent } : h,
  );
  const p = validateK3sHaCluster({ name: "demo", hosts, spec: haSpec });
  return renderK3sHaClusterSteps(p, placeholderMaterial(p));
}
const byId = (steps: readonly HostStep[], id: string) => {
  const s = steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
};

describe("capability host steps", () => {
  const steps = stepsFor({ capabilities: { ...ALL, hugepages: { size: "2Mi", count: 512 } } });

  test("GIVEN every capability on an agent WHEN rendered THEN its steps run after k3s-prereqs and before k3s-config", () => {
    const mine = steps.filter((s) => s.host === "agent-1").map((s) => s.name);
    expect(mine).toEqual([
      "preflight",
      "k3s-prereqs",
      "gpu-toolkit",
      "kata-install",
      "hugepages",
      "sriov-vfs",
      "realtime-kubelet",
      "k3s-config",
      "k3s-install",
      "k3s-start",
    ]);
    expect(byId(steps, "agent-1/k3s-config").dependsOn).toEqual([
      "agent-1/k3s-prereqs",
      "agent-1/gpu-toolkit",
      "agent-1/kata-install",
      "agent-1/hugepages",
      "agent-1/sriov-vfs",
      "agent-1/realtime-kubelet",
    ]);
    expect(byId(steps, "agent-1/sriov-vfs").dependsOn).toEqual(["agent-1/k3s-prereqs", "agent-1/hugepages"]);
    // hosts without capabilities render exactly as before (their snapshots in steps.test.ts are unchanged)
    expect(steps.filter((s) => s.host === "agent-2").map((s) => s.name)).not.toContain("gpu-toolkit");
  });

  test("GIVEN the capabilities WHEN the K3s config is rendered THEN labels, taints and the real-time kubelet args are set", () => {
    const cfg = parse(
      byId(steps, "agent-1/k3s-config").files.find((f) => f.path === "/etc/rancher/k3s/config.yaml")!.content,
    );
    expect(cfg["node-label"]).toEqual([
      "nvidia.com/gpu.present=true",
      "edgecloud.io/kata=true",
      "edgecloud.io/realtime=true",
      "edgecloud.io/sriov=true",
      "zone=a",
    ]);
    expect(cfg["node-taint"]).toEqual(["nvidia.com/gpu=present:NoSchedule", "edgecloud.io/realtime=true:NoSchedule"]);
    expect(cfg["kubelet-arg"]).toEqual([
      "cpu-manager-policy=static",
      "reserved-cpus=0-1",
      "topology-manager-policy=single-numa-node",
    ]);
    const tmpl = byId(steps, "agent-1/k3s-config").files.find((f) => f.path.endsWith("config.toml.tmpl"))!;
    expect(tmpl.path).toBe("/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl");
    expect(tmpl.content).toBe(
      '{{ template "base" . }}\n\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]\n  runtime_type = "io.containerd.kata.v2"\n  privileged_without_host_devices = true\n',
    );
    // K3s picks up the nvidia runtime and the Kata template at start: a change to either restarts it
    expect(byId(steps, "agent-1/k3s-start").script).toContain(
      "/usr/bin/nvidia-container-runtime /var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl)",
    );
  });

  test("GIVEN the GPU toolkit step WHEN rendered per OS family THEN NVIDIA's apt list (signed-by its key) or its .repo is used", () => {
    const apt = byId(steps, "agent-1/gpu-toolkit").script;
    expect(apt).toContain(
      "curl --proto =https --proto-redir =https -fsSL --retry 3 https://nvidia.github.io/libnvidia-container/gpgkey | gpg --batch --yes --dearmor -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg.part",
    );
    expect(apt).toContain(
      "https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list | sed 's#deb https://#deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://#g' >/etc/apt/sources.list.d/nvidia-container-toolkit.list.part",
    );
    expect(apt).toContain("ec_pkg apt nvidia-container-toolkit");
    const rocky = byId(stepsFor({ os: "rocky-9", capabilities: { gpu: { vendor: "nvidia" } } }), "agent-1/gpu-toolkit");
    expect(rocky.script).toContain(
      "-o /etc/yum.repos.d/nvidia-container-toolkit.repo.part https://nvidia.github.io/libnvidia-container/stable/rpm/nvidia-container-toolkit.repo",
    );
    expect(rocky.script).toContain("ec_pkg dnf nvidia-container-toolkit");
    expect(rocky.deleteScript).toContain("dnf remove -y -q nvidia-container-toolkit");
  });

  test("GIVEN Kata WHEN rendered THEN the release tarball of the host's arch, checked against the sha256 before extraction", () => {
    const s = byId(steps, "agent-1/kata-install").script;
    expect(s).toContain(
      `https://github.com/kata-containers/kata-containers/releases/download/3.11.0/kata-static-3.11.0-${machine}.tar.xz`,
    );
    expect(s.indexOf("sha256sum -c")).toBeLessThan(s.indexOf("tar -xf"));
    expect(s).toContain("ec_pkg apt curl tar xz-utils");
  });

  test("GIVEN every capability step WHEN shellchecked THEN each bundle and its inverse are clean", () => {
    const names = ["preflight", "gpu-toolkit", "kata-install", "hugepages", "sriov-vfs", "realtime-kubelet"];
    for (const n of names) {
      const s = byId(steps, `agent-1/${n}`);
      expect(shellcheck(renderStepBundle(s))).toBe("");
      expect(shellcheck(renderDeleteBundle(s))).toBe("");
    }
    const program = byId(steps, "agent-1/sriov-vfs").files.find(
      (f) => f.path === "/usr/local/libexec/edgecloud-sriov.sh",
    )!;
    expect(shellcheck(program.content)).toBe("");
    expect(program.content).toContain("modprobe vfio-pci\nec_sriov_nic ens1f0 4 vfio-pci\n");
  });

  test("GIVEN a CPU list WHEN canonicalised THEN the kernel's form", () => {
    expect(canonicalCpuList("4,2-3,8,9,10")).toBe("2-4,8-10");
  });
});

const maybe = canRunStubHost ? describe : describe.skip;
const UNAME = (v: string) =>
  `case "$1" in -v) echo '${v}' ;; -r) echo 6.1.0-edgecloud ;; *) command -p uname "$@" ;; esac`;

maybe("capability pre-flight, executed on a stub host without the devices", () => {
  test("GIVEN a GPU, RT, 1Gi-hugepages and SR-IOV agent on a host with none of them WHEN pre-flight runs THEN it fails before anything is installed, naming each", () => {
    const host = stubHost({ osRelease: UBUNTU, stubs: { uname: UNAME("#1 SMP PREEMPT_DYNAMIC") } });
    try {
      const steps = stepsFor({ capabilities: ALL });
      const r = host.run(renderStepBundle(byId(steps, "agent-1/preflight")));
      expect(r.status).toBe(1);
      const lines = r.out.split("\n").filter((l) => l.startsWith("edgecloud: pre-flight agent-1: capabilities"));
      const isolated = existsSync("/sys/devices/system/cpu/isolated")
        ? readFileSync("/sys/devices/system/cpu/isolated", "utf8").trim()
        : "";
      const cpus = Number(execSync("nproc --all").toString().trim());
      expect(lines).toEqual([
        "edgecloud: pre-flight agent-1: capabilities.gpu: nvidia-smi is not installed, so no NVIDIA driver is: install the driver for this GPU (distribution or NVIDIA packages) and reboot; edgecloud installs only the container toolkit",
        ...(existsSync("/dev/kvm")
          ? []
          : [
              "edgecloud: pre-flight agent-1: capabilities.kata: there is no /dev/kvm: enable VT-x/AMD-V in the firmware and load kvm_intel or kvm_amd",
            ]),
        "edgecloud: pre-flight agent-1: capabilities.realtime: kernel 6.1.0-edgecloud is not PREEMPT_RT (uname -v: #1 SMP PREEMPT_DYNAMIC); boot a real-time kernel (linux-image-rt, kernel-rt)",
        `edgecloud: pre-flight agent-1: capabilities.realtime.isolatedCpus: the kernel isolates "${isolated}", declared 2-4; add isolcpus=2-4 nohz_full=2-4 to the kernel command line and reboot`,
        ...(cpus > 4
          ? []
          : [`edgecloud: pre-flight agent-1: capabilities.realtime: CPU 4 is declared but the host has ${cpus} CPUs`]),
        "edgecloud: pre-flight agent-1: capabilities.hugepages: 0 1Gi pages reserved, 4 declared; 1Gi pages are reserved at boot: add hugepagesz=1G hugepages=4 to the kernel command line and reboot",
        expect.stringMatching(
          /^edgecloud: pre-flight agent-1: capabilities.sriov: network interface ens1f0 does not exist; this host has: .*lo/,
        ),
        ...(existsSync("/sys/kernel/iommu_groups") && readdirSync("/sys/kernel/iommu_groups").length > 0
          ? []
          : [
              "edgecloud: pre-flight agent-1: capabilities.sriov: vfio-pci needs an IOMMU and there is none: enable VT-d/AMD-Vi in the firmware and add intel_iommu=on iommu=pt (or amd_iommu=on) to the kernel command line",
            ]),
      ]);
      // nothing was installed: no package manager ran
      expect(r.calls.filter((c) => /^(apt-get|dnf|yum) /.test(c))).toEqual([]);
    } finally {
      host.dispose();
    }
  });

  test("GIVEN nvidia-smi listing one GPU where two are declared and a PREEMPT_RT kernel WHEN pre-flight runs THEN the count is named, the kernel accepted", () => {
    const host = stubHost({
      osRelease: UBUNTU,
      stubs: {
        uname: UNAME("#1 SMP PREEMPT_RT Debian 6.1.0-rt"),
        "nvidia-smi": 'echo "GPU 0: NVIDIA A2 (UUID: GPU-0)"',
      },
    });
    try {
      const steps = stepsFor({ capabilities: { gpu: ALL.gpu, realtime: { isolatedCpus: "1", reservedCpus: "0" } } });
      const r = host.run(renderStepBundle(byId(steps, "agent-1/preflight")));
      const lines = r.out.split("\n").filter((l) => l.startsWith("edgecloud: pre-flight agent-1: capabilities"));
      expect(lines[0]).toBe(
        "edgecloud: pre-flight agent-1: capabilities.gpu: nvidia-smi lists 1 GPU(s), 2 declared (is the driver loaded? nvidia-smi says: GPU 0: NVIDIA A2 (UUID: GPU-0))",
      );
      expect(lines.some((l) => l.includes("is not PREEMPT_RT"))).toBe(false);
    } finally {
      host.dispose();
    }
  });

  test("GIVEN a Kata tarball that does not match its sha256 WHEN kata-install runs THEN it is refused and nothing is extracted", () => {
    const name = `kata-static-3.11.0-${machine}.tar.xz`;
    const host = stubHost({
      osRelease: UBUNTU,
      mirror: { [`github.com/kata-containers/kata-containers/releases/download/3.11.0/${name}`]: "not the tarball" },
    });
    try {
      host.installed("curl", "tar", "xz-utils");
      const steps = stepsFor({ capabilities: { kata: ALL.kata } });
      const r = host.run(renderStepBundle(byId(steps, "agent-1/kata-install")));
      expect(r.status).toBe(1);
      expect(r.out).toContain(
        `edgecloud: ${name} does not match capabilities.kata.sha256 of host agent-1; nothing was extracted`,
      );
      expect(host.file("/usr/local/bin/containerd-shim-kata-v2")).toBeUndefined();
    } finally {
      host.dispose();
    }
  });
});
