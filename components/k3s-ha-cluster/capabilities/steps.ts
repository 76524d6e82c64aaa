import { HostCapabilities } from "../../../lib/hosts/capabilities";
import { Host } from "../../../lib/hosts/host";
import { NVIDIA_TOOLKIT_PACKAGE, NVIDIA_TOOLKIT_REPOS } from "../../../lib/platform/accelerators";
import { osProfile } from "../../../lib/platform/os";
import { HostStep, StepFile, hostStep } from "../../../lib/steps/host-step";
import { raw, sh } from "../../../lib/steps/sh";
import { removePackages } from "../../../lib/steps/packages";
import { unitValue } from "../../../lib/steps/writers";
import { COMPONENT } from "../etcd/component";
import {
  CPU_MANAGER_STATE,
  HUGEPAGES_SYSCTL,
  KATA_DIR,
  KATA_SHIM,
  KATA_SHIM_LINK,
  KATA_STAMP,
  K3S_CONTAINERD_TEMPLATE,
  NVIDIA_RUNTIME_BINARY,
  SRIOV_MODULES,
  SRIOV_SCRIPT,
  SRIOV_UNIT,
} from "./paths";

const CURL = "curl --proto =https --proto-redir =https -fsSL --retry 3";

/**
 * The NVIDIA Container Toolkit from NVIDIA's repository for the host's OS family (validation refused the OS/arch
 * pairs NVIDIA does not ship for). K3s configures its `nvidia` runtime itself when it finds
 * /usr/bin/nvidia-container-runtime at start, so this runs before K3s starts (and the start step restarts K3s when
 * that binary changes). The driver is the host's: pre-flight checks it with nvidia-smi. Inverse: the package and
 * the repository go.
 */
export function gpuToolkitStep(host: Host, dependsOn: readonly string[]): HostStep {
  const os = osProfile(host.os);
  const repo = NVIDIA_TOOLKIT_REPOS[os.family];
  const lines: string[] = [sh`if [ ! -f ${repo.file} ]; then`, sh`  ec_pkg ${os.packageManager} ${os.packages.curl}`];
  if (repo.key) {
    // the list's `deb https://` lines are signed by the key NVIDIA publishes beside it (install guide "With apt")
    lines.push(
      sh`  ec_pkg apt ${os.packages.gpg ?? "gpg"}`,
      sh`  mkdir -p ${repo.key.keyring.slice(0, repo.key.keyring.lastIndexOf("/"))}`,
      sh`  ${raw(CURL)} ${repo.key.url} | gpg --batch --yes --dearmor -o ${`${repo.key.keyring}.part`}`,
      sh`  mv -f ${`${repo.key.keyring}.part`} ${repo.key.keyring}`,
      sh`  ${raw(CURL)} ${repo.url} | sed ${`s#deb https://#deb [signed-by=${repo.key.keyring}] https://#g`} >${`${repo.file}.part`}`,
    );
  } else {
    lines.push(sh`  ${raw(CURL)} -o ${`${repo.file}.part`} ${repo.url}`);
  }
  lines.push(sh`  mv -f ${`${repo.file}.part`} ${repo.file}`, "  ec_changed", "fi");
  lines.push(sh`ec_pkg ${os.packageManager} ${NVIDIA_TOOLKIT_PACKAGE}`);
  lines.push(
    sh`if [ ! -x ${NVIDIA_RUNTIME_BINARY} ]; then`,
    sh`  ec_log ${`${NVIDIA_TOOLKIT_PACKAGE} is installed but ${NVIDIA_RUNTIME_BINARY} is missing; K3s cannot configure the nvidia runtime`}`,
    "  exit 1",
    "fi",
  );
  const remove = removePackages(os, [NVIDIA_TOOLKIT_PACKAGE]);
  const deleteScript = [remove, sh`ec_rm ${[repo.file, ...(repo.key ? [repo.key.keyring] : [])]}`].join("\n");
  return hostStep({
    host: host.name,
    name: "gpu-toolkit",
    component: COMPONENT,
    script: lines.filter((l) => l !== "").join("\n"),
    deleteScript,
    dependsOn,
  });
}

/** The release asset of a Kata capability for a host (kata-containers/kata-containers tools/packaging/release/release.sh). */
export function kataTarball(host: Host, kata: NonNullable<HostCapabilities["kata"]>): { name: string; url: string } {
  const name = `kata-static-${kata.version}-${host.arch}.${kata.archive}`;
  return { name, url: `https://github.com/kata-containers/kata-containers/releases/download/${kata.version}/${name}` };
}

/**
 * containerd's `kata` runtime handler on top of K3s's own template (`{{ template "base" . }}`): runtime_type
 * `io.containerd.kata.v2` makes containerd run `containerd-shim-kata-v2` from PATH (containerd v1.7
 * docs/cri/config.md "runtime_type"; the shim name follows containerd's `io.containerd.<name>.<version>` rule).
 */
export function kataContainerdTemplate(): string {
  return [
    '{{ template "base" . }}',
    "",
    '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]',
    '  runtime_type = "io.containerd.kata.v2"',
    "  privileged_without_host_devices = true",
    "",
  ].join("\n");
}

/**
 * Kata Containers from the release's static tarball, verified against the declared sha256 before anything is
 * extracted, unpacked under /opt/kata (its members are `opt/kata/…`), the shim linked onto PATH. The containerd
 * handler is K3s's config template, written by k3s-config (a change restarts K3s). Inverse: /opt/kata and the link.
 */
export function kataInstallStep(
  host: Host,
  kata: NonNullable<HostCapabilities["kata"]>,
  dependsOn: readonly string[],
): HostStep {
  const os = osProfile(host.os);
  const t = kataTarball(host, kata);
  const stamp = `${kata.version} ${host.arch} ${kata.sha256}`;
  const decompressor = kata.archive === "tar.xz" ? os.packages.xz : os.packages.zstd;
  const script = sh`if [ "$(cat ${KATA_STAMP} 2>/dev/null || true)" != ${stamp} ]; then
  ec_pkg ${os.packageManager} ${[os.packages.curl, os.packages.tar, decompressor]}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  ${raw(CURL)} -o "$work/kata.tar" ${t.url}
  if ! printf '%s  %s\\n' ${kata.sha256} "$work/kata.tar" | sha256sum -c --quiet - >/dev/null 2>&1; then
    ec_log ${`${t.name} does not match capabilities.kata.sha256 of host ${host.name}; nothing was extracted`}
    exit 1
  fi
  rm -rf ${KATA_DIR}
  # GNU tar detects xz and zstd itself; the tarball holds opt/kata only
  tar -xf "$work/kata.tar" -C /
  printf '%s\\n' ${stamp} >${KATA_STAMP}
  ec_changed
fi
if [ "$(readlink ${KATA_SHIM_LINK} 2>/dev/null || true)" != ${KATA_SHIM} ]; then
  ln -sfn ${KATA_SHIM} ${KATA_SHIM_LINK}
  ec_changed
fi`;
  const deleteScript = sh`ec_rm ${KATA_SHIM_LINK} ${KATA_DIR}`;
  return hostStep({ host: host.name, name: "kata-install", component: COMPONENT, script, deleteScript, dependsOn });
}

/**
 * 2Mi hugepages reserved at run time (`vm.nr_hugepages` is the default page size, 2 MiB on amd64 and on arm64 with
 * 4 KiB pages), checked after: the kernel reserves fewer when memory is fragmented, and says so here. 1Gi pages can
 * only be reserved at boot, which pre-flight checks instead. Inverse: the sysctl file (pages return at reboot).
 */
export function hugepagesStep(
  host: Host,
  hp: NonNullable<HostCapabilities["hugepages"]>,
  dependsOn: readonly string[],
): HostStep | undefined {
  if (hp.size !== "2Mi") return undefined;
  const files: StepFile[] = [
    { path: HUGEPAGES_SYSCTL, mode: "0644", content: `vm.nr_hugepages = ${hp.count}\n`, secret: false },
  ];
  const script = sh`if ec_file_changed ${HUGEPAGES_SYSCTL} || [ "$(cat /proc/sys/vm/nr_hugepages)" -lt ${hp.count} ]; then
  sysctl -q -p ${HUGEPAGES_SYSCTL} || true
fi
got=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 2>/dev/null || echo 0)
if [ "$got" -lt ${hp.count} ]; then
  ec_log "the kernel reserved $got of ${hp.count} 2Mi hugepages (memory is fragmented or short); reserve them at boot: hugepagesz=2M hugepages=${hp.count}"
  exit 1
fi`;
  return hostStep({
    host: host.name,
    name: "hugepages",
    component: COMPONENT,
    script,
    files,
    deleteScript: sh`ec_rm ${HUGEPAGES_SYSCTL}`,
    dependsOn,
  });
}

/**
 * SR-IOV virtual functions per declared NIC, created by a oneshot unit at every boot (sriov_numvfs is not
 * persistent) and now; VFs for DPDK are bound to vfio-pci through `driver_override`. Inverse: the unit goes and the
 * VFs are removed (sriov_numvfs 0).
 */
export function sriovStep(
  host: Host,
  sriov: NonNullable<HostCapabilities["sriov"]>,
  dependsOn: readonly string[],
): HostStep {
  const vfio = sriov.nics.some((n) => n.driver === "vfio-pci");
  const body = sriov.nics.map((n) => sh`ec_sriov_nic ${n.pf} ${n.numVfs} ${n.driver}`);
  const program = `#!/bin/bash
# edgecloud: SR-IOV virtual functions for the NICs declared in capabilities.sriov (run by ${SRIOV_UNIT})
set -euo pipefail
ec_sriov_nic() {
  local pf=$1 want=$2 driver=$3 dev vf addr
  dev=/sys/class/net/$pf/device
  if [ "$(cat "$dev/sriov_numvfs")" != "$want" ]; then
    echo 0 >"$dev/sriov_numvfs"
    echo "$want" >"$dev/sriov_numvfs"
  fi
  [ "$driver" = vfio-pci ] || return 0
  for vf in "$dev"/virtfn*; do
    addr=$(basename "$(readlink -f "$vf")")
    [ "$(basename "$(readlink -f "/sys/bus/pci/devices/$addr/driver" 2>/dev/null || echo none)")" = vfio-pci ] && continue
    echo vfio-pci >"/sys/bus/pci/devices/$addr/driver_override"
    if [ -e "/sys/bus/pci/devices/$addr/driver" ]; then echo "$addr" >"/sys/bus/pci/devices/$addr/driver/unbind"; fi
    echo "$addr" >/sys/bus/pci/drivers_probe
  done
}
${vfio ? "modprobe vfio-pci\n" : ""}${body.join("\n")}
`;
  const unit = `[Unit]
Description=${unitValue("edgecloud SR-IOV virtual functions")}
After=network-pre.target
Before=k3s.service k3s-agent.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${SRIOV_SCRIPT}

[Install]
WantedBy=multi-user.target
`;
  const files: StepFile[] = [
    { path: SRIOV_SCRIPT, mode: "0755", content: program, secret: false },
    { path: `/etc/systemd/system/${SRIOV_UNIT}`, mode: "0644", content: unit, secret: false },
    ...(vfio ? [{ path: SRIOV_MODULES, mode: "0644", content: "vfio-pci\n", secret: false }] : []),
  ];
  const script = sh`ec_unit ${SRIOV_UNIT} ${SRIOV_SCRIPT}`;
  const deleteScript = [
    sh`ec_unit_remove ${SRIOV_UNIT}`,
    ...sriov.nics.map(
      (n) =>
        sh`if [ -w ${`/sys/class/net/${n.pf}/device/sriov_numvfs`} ] && [ "$(cat ${`/sys/class/net/${n.pf}/device/sriov_numvfs`})" != 0 ]; then echo 0 >${`/sys/class/net/${n.pf}/device/sriov_numvfs`}; ec_changed; fi`,
    ),
    sh`ec_rm ${SRIOV_SCRIPT} ${vfio ? [SRIOV_MODULES] : []}`.trimEnd(),
  ].join("\n");
  return hostStep({ host: host.name, name: "sriov-vfs", component: COMPONENT, script, files, deleteScript, dependsOn });
}

/**
 * Real-time node: the kubelet's CPU manager checkpoint is removed when the CPU manager settings K3s will start the
 * kubelet with differ from the ones it last ran with (a kubelet refuses a checkpoint of another policy). Drain the
 * node before changing them on a running node. Inverse: the record and the checkpoint (the next kubelet writes a
 * fresh one).
 */
export function realtimeKubeletStep(
  host: Host,
  rt: NonNullable<HostCapabilities["realtime"]>,
  dependsOn: readonly string[],
): HostStep {
  const want = `static ${rt.reservedCpus} ${rt.topologyManagerPolicy}`;
  const record = "/var/lib/edgecloud/realtime-kubelet";
  const script = sh`if [ "$(cat ${record} 2>/dev/null || true)" != ${want} ]; then
  ec_rm ${CPU_MANAGER_STATE}
  mkdir -p /var/lib/edgecloud
  printf '%s\\n' ${want} >${record}
  ec_changed
fi`;
  return hostStep({
    host: host.name,
    name: "realtime-kubelet",
    component: COMPONENT,
    script,
    deleteScript: sh`ec_rm ${record} ${CPU_MANAGER_STATE}`,
    dependsOn,
  });
}

/** Every capability step of a host, each after `dependsOn` (its prerequisites); their ids gate K3s's config. */
export function capabilitySteps(host: Host, dependsOn: readonly string[]): HostStep[] {
  const c = host.capabilities;
  if (!c) return [];
  const out: HostStep[] = [];
  if (c.gpu) out.push(gpuToolkitStep(host, dependsOn));
  if (c.kata) out.push(kataInstallStep(host, c.kata, dependsOn));
  if (c.hugepages) {
    const s = hugepagesStep(host, c.hugepages, dependsOn);
    if (s) out.push(s);
  }
  if (c.sriov)
    out.push(sriovStep(host, c.sriov, [...dependsOn, ...out.filter((s) => s.name === "hugepages").map((s) => s.id)]));
  if (c.realtime) out.push(realtimeKubeletStep(host, c.realtime, dependsOn));
  return out;
}

/** Files k3s-config writes for a host's capabilities (the Kata runtime handler). */
export function capabilityConfigFiles(host: Host): StepFile[] {
  return host.capabilities?.kata
    ? [{ path: K3S_CONTAINERD_TEMPLATE, mode: "0644", content: kataContainerdTemplate(), secret: false }]
    : [];
}

/** Files whose change needs K3s restarted on this host (K3s reads them at start). */
export function capabilityRestartFiles(host: Host): string[] {
  const c = host.capabilities;
  return [...(c?.gpu ? [NVIDIA_RUNTIME_BINARY] : []), ...(c?.kata ? [K3S_CONTAINERD_TEMPLATE] : [])];
}
