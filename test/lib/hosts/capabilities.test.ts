import { capabilityLabels, capabilityTaints, parseCpuList } from "../../../lib/hosts/capabilities";
import { HostInput } from "../../../lib/hosts/host";
import { validateHosts } from "../../../lib/hosts/validate-hosts";
import { IssueCollector, formatIssue } from "../../../lib/validation/issues";

const ssh = { privateKeyPath: "/home/ops/.ssh/id_ed25519" };
const SHA = "b".repeat(64);

function host(over: Partial<HostInput>): HostInput {
  return { name: "gpu-1", address: "10.0.0.51", ssh, os: "ubuntu-22.04", arch: "amd64", roles: ["agent"], ...over };
}

function problems(...hosts: HostInput[]): string[] {
  const issues = new IssueCollector();
  validateHosts(hosts, issues);
  return issues.issues.map(formatIssue);
}

describe("host capabilities: validated up front", () => {
  test("GIVEN every capability on a supported agent WHEN validated THEN no problem, defaults filled", () => {
    const issues = new IssueCollector();
    const [h] = validateHosts(
      [
        host({
          capabilities: {
            gpu: { vendor: "nvidia" },
            kata: { version: "3.11.0", sha256: SHA },
            kvm: {},
            realtime: { isolatedCpus: "2-7", reservedCpus: "0-1" },
            hugepages: { size: "2Mi", count: 1024 },
            sriov: { nics: [{ pf: "ens1f0", numVfs: 8, resourceName: "sriov_net", driver: "vfio-pci" }] },
          },
        }),
      ],
      issues,
    );
    expect(issues.issues).toEqual([]);
    expect(h!.capabilities).toEqual({
      gpu: { vendor: "nvidia", count: 1 },
      kata: { version: "3.11.0", archive: "tar.xz", sha256: SHA },
      kvm: { nested: false },
      realtime: { isolatedCpus: "2-7", reservedCpus: "0-1", topologyManagerPolicy: "single-numa-node" },
      hugepages: { size: "2Mi", count: 1024 },
      sriov: { nics: [{ pf: "ens1f0", numVfs: 8, resourceName: "sriov_net", driver: "vfio-pci" }] },
    });
    expect(capabilityLabels(h!.capabilities)).toEqual({
      "nvidia.com/gpu.present": "true",
      "edgecloud.io/kata": "true",
      "edgecloud.io/kvm": "true",
      "edgecloud.io/realtime": "true",
      "edgecloud.io/sriov": "true",
    });
    expect(capabilityTaints(h!.capabilities)).toEqual([
      "nvidia.com/gpu=present:NoSchedule",
      "edgecloud.io/realtime=true:NoSchedule",
    ]);
  });

  test("GIVEN a GPU on an OS/arch NVIDIA ships no toolkit for WHEN validated THEN refused by name with what is allowed", () => {
    const allowed =
      "ubuntu-20.04/amd64, ubuntu-20.04/arm64, ubuntu-22.04/amd64, ubuntu-22.04/arm64, ubuntu-24.04/amd64, ubuntu-24.04/arm64, debian-11/amd64, rhel-8/amd64, rhel-8/arm64, rhel-9/amd64, rhel-9/arm64, rocky-8/amd64, rocky-8/arm64, rocky-9/amd64, rocky-9/arm64, alma-8/amd64, alma-8/arm64, alma-9/amd64, alma-9/arm64";
    const gpu = { gpu: { vendor: "nvidia" as const } };
    expect(
      problems(
        host({ capabilities: gpu, os: "openeuler-22.03" }),
        host({ name: "gpu-2", address: "10.0.0.52", capabilities: gpu, os: "debian-11", arch: "arm64" }),
        host({ name: "gpu-3", address: "10.0.0.53", capabilities: gpu, os: "ubuntu-22.04", arch: "riscv64" }),
      ),
    ).toEqual([
      `hosts[0].capabilities.gpu "openeuler-22.03/amd64" has no NVIDIA Container Toolkit from its vendor (NVIDIA ships it for ${allowed}); put the GPU in a host NVIDIA supports`,
      `hosts[1].capabilities.gpu "debian-11/arm64" has no NVIDIA Container Toolkit from its vendor (NVIDIA ships it for ${allowed}); put the GPU in a host NVIDIA supports`,
      `hosts[2].capabilities.gpu "ubuntu-22.04/riscv64" has no NVIDIA Container Toolkit from its vendor (NVIDIA ships it for ${allowed}); put the GPU in a host NVIDIA supports`,
    ]);
  });

  test("GIVEN Kata and KVM on 32-bit arm WHEN validated THEN each refused naming the arches their vendors publish", () => {
    expect(
      problems(
        host({ arch: "arm", os: "debian-12", capabilities: { kata: { version: "3.11.0", sha256: SHA }, kvm: {} } }),
      ),
    ).toEqual([
      'hosts[0].capabilities.kata "debian-12/arm" has no Kata Containers release tarball for arm (kata-static is published for amd64, arm64 among the arches edgecloud targets)',
      'hosts[0].capabilities.kvm "debian-12/arm" has no KubeVirt images for arm (KubeVirt builds amd64, arm64 among the arches edgecloud targets)',
    ]);
  });

  test("GIVEN capabilities on an etcd-only or edge host WHEN validated THEN refused: they are for K3s nodes", () => {
    expect(problems(host({ roles: ["etcd"], capabilities: { kvm: {} } }))).toEqual([
      'hosts[0].capabilities ["kvm"] are for K3s nodes (roles "server" or "agent"); this host has roles etcd, whose runtime edgecloud does not configure for them',
    ]);
  });

  test("GIVEN overlapping reserved and isolated CPUs, a bad CPU list, a descending range WHEN validated THEN each named", () => {
    expect(problems(host({ capabilities: { realtime: { isolatedCpus: "2-7", reservedCpus: "0-2" } } }))).toEqual([
      'hosts[0].capabilities.realtime.reservedCpus "0-2" overlaps isolatedCpus "2-7" on CPU 2; reserved CPUs run the system and the kubelet, isolated ones only pinned workloads',
    ]);
    expect(problems(host({ capabilities: { realtime: { isolatedCpus: "2-7;x", reservedCpus: "1-0" } } }))).toEqual([
      `hosts[0].capabilities.realtime.isolatedCpus "2-7;x" must be a CPU list such as 2-5,8 (numbers and ascending ranges joined by ',')`,
      'hosts[0].capabilities.realtime.reservedCpus "1-0" has the range 1-0, which does not ascend',
    ]);
  });

  test("GIVEN SR-IOV with DPDK but no hugepages, a PF twice, a resource name twice WHEN validated THEN each named", () => {
    expect(
      problems(
        host({
          capabilities: {
            sriov: {
              nics: [
                { pf: "ens1f0", numVfs: 4, resourceName: "net_a", driver: "vfio-pci" },
                { pf: "ens1f0", numVfs: 4, resourceName: "net_a" },
              ],
            },
          },
        }),
      ),
    ).toEqual([
      'hosts[0].capabilities.sriov.nics[0].driver "vfio-pci" is for DPDK, which needs hugepages: set capabilities.hugepages (e.g. { size: 2Mi, count: 1024 })',
      'hosts[0].capabilities.sriov.nics[1].pf "ens1f0" is declared twice (nics[0]); one entry per physical function',
      'hosts[0].capabilities.sriov.nics[1].resourceName "net_a" is used twice (nics[0]); each pool of VFs needs its own resource name',
    ]);
  });

  test("GIVEN one SR-IOV resource name with a different driver on another host WHEN validated THEN refused naming both (one pool, one driver selector)", () => {
    const sriov = (driver: "netdevice" | "vfio-pci") => ({
      sriov: { nics: [{ pf: "ens1f0", numVfs: 4, resourceName: "sriov_net", driver }] },
      hugepages: { size: "2Mi" as const, count: 1024 },
    });
    expect(
      problems(
        host({ name: "rt-1", address: "10.0.0.61", capabilities: sriov("netdevice") }),
        host({ name: "rt-2", address: "10.0.0.62", capabilities: sriov("vfio-pci") }),
        host({ name: "rt-3", address: "10.0.0.63", capabilities: sriov("netdevice") }),
      ),
    ).toEqual([
      'hosts[1].capabilities.sriov.nics[0].driver "vfio-pci" differs from hosts[0].capabilities.sriov.nics[0] ("netdevice") for resourceName "sriov_net"; one resource name is one device-plugin pool, selected by driver: give these VFs their own resource name',
    ]);
    // the same driver everywhere is one pool across hosts
    expect(
      problems(
        host({ name: "rt-1", address: "10.0.0.61", capabilities: sriov("vfio-pci") }),
        host({ name: "rt-2", address: "10.0.0.62", capabilities: sriov("vfio-pci") }),
      ),
    ).toEqual([]);
  });

  test("GIVEN SR-IOV on an arch the device plugin image is not built for WHEN validated THEN refused with the arches it has", () => {
    const sriov = { nics: [{ pf: "eth1", numVfs: 2, resourceName: "sriov_net" }] };
    expect(problems(host({ os: "debian-12", arch: "riscv64", capabilities: { sriov } }))).toEqual([
      'hosts[0].capabilities.sriov "debian-12/riscv64" has no SR-IOV network device plugin image for riscv64 (v3.9.0 is published for amd64, arm64 among the arches edgecloud targets)',
    ]);
    expect(problems(host({ os: "debian-12", arch: "arm64", capabilities: { sriov } }))).toEqual([]);
  });

  test("GIVEN an unknown capability, an unknown GPU vendor, a bad PF name WHEN validated THEN the schema names each", () => {
    expect(
      problems(
        host({
          capabilities: {
            fpga: {},
            gpu: { vendor: "amd" },
            sriov: { nics: [{ pf: "ens1f0;reboot", numVfs: 0, resourceName: "Net" }] },
          } as never,
        }),
      ),
    ).toEqual([
      'hosts[0].capabilities.gpu.vendor "amd" is not allowed; allowed: "nvidia"',
      'hosts[0].capabilities.sriov.nics[0].pf "ens1f0;reboot" must be a network interface name such as eth0 (at most 15 characters)',
      "hosts[0].capabilities.sriov.nics[0].numVfs 0 must be >= 1",
      'hosts[0].capabilities.sriov.nics[0].resourceName "Net" must be at most 63 characters a-z 0-9 _ - that start and end alphanumeric',
      'hosts[0].capabilities: unknown field "fpga"',
    ]);
  });

  test("GIVEN a CPU list WHEN parsed THEN every CPU once, ascending", () => {
    expect(parseCpuList("8,2-4,3")).toEqual([2, 3, 4, 8]);
  });
});
