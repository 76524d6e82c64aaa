import { randomBytes } from "crypto";
import {
  generateClusterMaterial,
  renderK3sHaClusterSteps,
  validateK3sHaCluster,
} from "../../components/k3s-ha-cluster";
import { HostStep, makePlan } from "../../lib/steps";
import { NEEDS_K3S_BINARY } from "./cluster";
import { executePlan, PlanRun } from "./executor";
import { LAB_SUBNET, Lab } from "./lab";

/**
 * Issue 17, pre-flight on real lab hosts without the hardware: a Debian 12 server declaring a real-time kernel,
 * 1Gi hugepages, SR-IOV, KVM and Kata, and an agent declaring an NVIDIA GPU (as Ubuntu 22.04, which NVIDIA ships
 * the toolkit for — the lab host is Debian, so the OS check fails too). Each pre-flight fails naming what is
 * missing, and nothing after it runs.
 */
const log = (m: string): void => void process.stderr.write(`[lab] ${m}\n`);
jest.setTimeout(120_000);

let lab: Lab | undefined;
let run: PlanRun;
let steps: HostStep[];
const ssh = { user: "root", privateKeyPath: "/nonexistent/lab-key" };

beforeAll(async () => {
  const props = validateK3sHaCluster({
    name: "capabilities",
    hosts: [
      {
        name: "server-1",
        address: `${LAB_SUBNET}.21`,
        ssh,
        os: "debian-12",
        arch: "amd64",
        roles: ["server"],
        minima: { cpus: 1, memoryGiB: 0.1, diskGiB: 0.1 },
        capabilities: {
          realtime: { isolatedCpus: "1", reservedCpus: "0" },
          hugepages: { size: "1Gi", count: 2 },
          sriov: { nics: [{ pf: "ens1f0", numVfs: 4, resourceName: "sriov_net" }] },
          kvm: { nested: true },
          kata: { version: "3.11.0", sha256: "e".repeat(64) },
        },
      },
      {
        name: "agent-1",
        address: `${LAB_SUBNET}.31`,
        ssh,
        os: "ubuntu-22.04",
        arch: "amd64",
        roles: ["agent"],
        minima: { cpus: 1, memoryGiB: 0.1, diskGiB: 0.1 },
        capabilities: { gpu: { vendor: "nvidia" } },
      },
    ],
    spec: { disable: ["traefik"] },
  });
  const material = await generateClusterMaterial(
    props,
    `K10${randomBytes(24).toString("hex")}::server:${randomBytes(16).toString("hex")}`,
  );
  steps = renderK3sHaClusterSteps(props, material);
  lab = await Lab.start({
    hosts: [
      { name: "server-1", address: `${LAB_SUBNET}.21` },
      { name: "agent-1", address: `${LAB_SUBNET}.31` },
    ],
    log,
  });
  run = await executePlan(lab, makePlan(steps), { only: (s) => !NEEDS_K3S_BINARY.includes(s.name) });
}, 20 * 60_000);

afterAll(async () => {
  await lab?.stop(log);
});

const problems = (host: string): string[] =>
  run
    .get(`${host}/preflight`)
    .stderr.split("\n")
    .filter((l) => l.startsWith(`edgecloud: pre-flight ${host}: capabilities`));

describe("GIVEN lab hosts without a GPU, an RT kernel, hugepages, SR-IOV NICs or KVM", () => {
  test("THEN the server's pre-flight fails naming each missing piece and what to do", () => {
    expect(run.get("server-1/preflight").ok).toBe(false);
    const p = problems("server-1");
    expect(p).toHaveLength(5);
    expect(p).toEqual(
      expect.arrayContaining([
        // systemd-nspawn binds no /dev/kvm into a lab host
        "edgecloud: pre-flight server-1: capabilities.kata and kvm: there is no /dev/kvm: enable VT-x/AMD-V in the firmware and load kvm_intel or kvm_amd; this host is a VM: enable nested virtualization on its hypervisor",
        expect.stringMatching(
          /^edgecloud: pre-flight server-1: capabilities\.realtime: kernel \S+ is not PREEMPT_RT \(uname -v: .*\); boot a real-time kernel \(linux-image-rt, kernel-rt\)$/,
        ),
        'edgecloud: pre-flight server-1: capabilities.realtime.isolatedCpus: the kernel isolates "", declared 1; add isolcpus=1 nohz_full=1 to the kernel command line and reboot',
        "edgecloud: pre-flight server-1: capabilities.hugepages: 0 1Gi pages reserved, 2 declared; 1Gi pages are reserved at boot: add hugepagesz=1G hugepages=2 to the kernel command line and reboot",
        expect.stringMatching(
          /^edgecloud: pre-flight server-1: capabilities\.sriov: network interface ens1f0 does not exist; this host has: .*eth0/,
        ),
      ]),
    );
    log(`server-1 pre-flight: ${p.length} capability problems:\n${p.join("\n")}`);
  });

  test("THEN the agent's pre-flight says there is no NVIDIA driver (and the OS is not the one declared)", () => {
    const r = run.get("agent-1/preflight");
    expect(r.ok).toBe(false);
    expect(problems("agent-1")).toEqual([
      "edgecloud: pre-flight agent-1: capabilities.gpu: nvidia-smi is not installed, so no NVIDIA driver is: install the driver for this GPU (distribution or NVIDIA packages) and reboot; edgecloud installs only the container toolkit",
    ]);
    expect(r.stderr).toContain("edgecloud: pre-flight agent-1: OS is debian 12, declared ubuntu-22.04");
  });

  test("THEN nothing after the pre-flights ran: no toolkit, no Kata, no VFs, no kubelet settings", () => {
    expect(run.steps.map((s) => s.id).sort()).toEqual(["agent-1/preflight", "server-1/preflight"]);
    expect([...run.skipped]).toEqual(
      expect.arrayContaining([
        "agent-1/gpu-toolkit",
        "server-1/kata-install",
        "server-1/sriov-vfs",
        "server-1/realtime-kubelet",
      ]),
    );
  });
});
