import { Host } from "../../lib/hosts/host";
import { ARCH_NAMES } from "../../lib/platform/arch";
import { osProfile } from "../../lib/platform/os";
import { shellQuote } from "../../lib/steps/bundle";
import { HostStep, hostStep, stepId } from "../../lib/steps/host-step";
import { edgeCoreConfig, edgeCoreConfigYaml } from "./edgecore-config";
import { kubeEdgeRelease } from "./release";
import { CNI_PLUGINS, cniConflist, cniTarball, runtimeInstall } from "./runtime";
import { KubeEdgeCloudProps } from "./spec";
import {
  CONTAINERD_AUTH_FILE,
  CONTAINERD_CERTS_DIR,
  CRI_PLUGIN_PLACEHOLDER,
  containerdRegistryFiles,
} from "../../lib/k3s/containerd-registries";

export const KUBEEDGE_COMPONENT = "kubeedge-cloud";
/** Stands in for the join token when only the steps' structure is needed (ids, dependencies, delete scripts). */
export const TOKEN_PLACEHOLDER = "<kubeedge-join-token>";
export const EDGECORE_CONFIG = "/etc/kubeedge/config/edgecore.yaml";
export const EDGECORE_UNIT = "edgecore.service";
const VERSION_MARKER = "/var/lib/edgecloud/kubeedge.version";

/** Step names, in order, on every edge host. */
export const EDGE_STEPS = {
  preflight: "kubeedge-preflight",
  runtime: "kubeedge-runtime",
  install: "kubeedge-install",
  join: "kubeedge-join",
} as const;

/** Every edge host's steps: pre-flight → runtime → keadm + edgecore binaries → edgecore config with the token, started. */
export function edgeNodeSteps(props: KubeEdgeCloudProps, token: string, joinAfter: readonly string[] = []): HostStep[] {
  return props.edgeHosts.flatMap((h) => [
    edgePreflightStep(h),
    runtimeStep(props, h),
    installStep(props, h),
    joinStep(props, h, token, joinAfter),
  ]);
}

/**
 * Checks an edge host before anything is installed: the detected OS and architecture are the declared ones (images,
 * tarballs and packages are chosen from them), and the memory cgroup controller is enabled (edgecore's kubelet
 * refuses to start without it; Raspberry Pi OS ships it off: add `cgroup_enable=memory` to the kernel command line).
 * Changes nothing.
 */
export function edgePreflightStep(host: Host): HostStep {
  const os = osProfile(host.os);
  const script = `problems=()
# shellcheck source=/dev/null
. /etc/os-release
os_ids=" ${os.osRelease.id.join(" ")} "
arch_names=" ${ARCH_NAMES[host.arch].uname.join(" ")} "
case "$os_ids" in *" $ID "*) ;; *) problems+=("OS is $ID $VERSION_ID, declared ${host.os}") ;; esac
case "$VERSION_ID" in ${os.osRelease.versionPrefix}*) ;; *) problems+=("OS version is $ID $VERSION_ID, declared ${host.os}") ;; esac
machine=$(uname -m)
case "$arch_names" in *" $machine "*) ;; *) problems+=("architecture is $machine, declared ${host.arch}") ;; esac
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  grep -qw memory /sys/fs/cgroup/cgroup.controllers || problems+=("the memory cgroup controller is not enabled (cgroup v2); add cgroup_enable=memory to the kernel command line and reboot")
elif ! awk '$1 == "memory" && $4 == 1 { found = 1 } END { exit !found }' /proc/cgroups; then
  problems+=("the memory cgroup controller is not enabled (cgroup v1); add cgroup_enable=memory cgroup_memory=1 to the kernel command line and reboot")
fi
if [ "\${#problems[@]}" -gt 0 ]; then
  for p in "\${problems[@]}"; do ec_log "pre-flight ${host.name}: $p"; done
  exit 1
fi`;
  return hostStep({ host: host.name, name: EDGE_STEPS.preflight, component: KUBEEDGE_COMPONENT, script });
}

/**
 * The container runtime (containerd by default) with the cgroup driver edgecore's kubelet expects, and the node-local
 * CNI (plugins in /opt/cni/bin, a bridge conflist) without which the kubelet keeps the node NotReady.
 */
export function runtimeStep(props: KubeEdgeCloudProps, host: Host): HostStep {
  const { runtime, cgroupDriver } = props.spec.edge;
  const pm = osProfile(host.os).packageManager;
  const install = runtimeInstall(host.os, runtime);
  const systemdCgroup = cgroupDriver === "systemd" ? "true" : "false";
  // the registry every K3s node mirrors, for this containerd too (edge nodes have no registries.yaml)
  const registryFiles = props.registries && runtime === "containerd" ? containerdRegistryFiles(props.registries) : [];
  const hasAuth = registryFiles.some((f) => f.path === CONTAINERD_AUTH_FILE);
  const lines = [
    `ec_pkg ${pm} ${osProfile(host.os).packages.curl} ${osProfile(host.os).packages.tar}`,
    // a runtime already on the host (e.g. Docker's containerd.io on Ubuntu) is used as is: the distribution's
    // package would conflict with it
    `if ! command -v ${runtime === "docker" ? "docker" : "containerd"} >/dev/null 2>&1; then`,
    ...(install.repo
      ? [
          `  if [ ! -f ${install.repo.file} ]; then`,
          `    curl -fsSL --retry 3 -o ${install.repo.file} ${shellQuote(install.repo.url)}`,
          "    ec_changed",
          "  fi",
        ]
      : []),
    `  ec_pkg ${pm} ${install.packages.join(" ")}`,
    "fi",
    // a built-in module has no /sys/module entry unless it has parameters (br_netfilter on many kernels): its
    // /proc/sys/net/bridge shows it is there, and modprobe cannot load what a container has no modules for
    "for m in overlay br_netfilter; do",
    '  if [ -d "/sys/module/$m" ] || { [ "$m" = br_netfilter ] && [ -d /proc/sys/net/bridge ]; }; then continue; fi',
    '  modprobe "$m"',
    "  ec_changed",
    "done",
    // only the file this step wrote: `sysctl --system` re-applies every package's sysctl.d file and fails the step
    // on any key the host refuses (containers, hardened kernels: kernel.pid_max, fs.protected_*)
    "if ec_file_changed /etc/sysctl.d/90-edgecloud-kubeedge.conf; then sysctl -q -p /etc/sysctl.d/90-edgecloud-kubeedge.conf; fi",
    // containerd's own default config, with the cgroup driver set; rewritten only when it differs
    "ec_dir /etc/containerd 0755 root:root",
    "want=$(mktemp)",
    `containerd config default | sed -E 's/^([[:space:]]*SystemdCgroup =).*/\\1 ${systemdCgroup}/'${registryFiles.length ? ` | sed -E 's#^([[:space:]]*config_path =).*#\\1 "${CONTAINERD_CERTS_DIR}"#'` : ""} >"$want"`,
    ...(hasAuth
      ? [
          // the registry credentials (0600 file) under the CRI plugin's registry table, named as this containerd names it
          `if grep -q '^version = 3' "$want"; then cri='plugins."io.containerd.cri.v1.images".registry'; else cri='plugins."io.containerd.grpc.v1.cri".registry'; fi`,
          `sed "s#${CRI_PLUGIN_PLACEHOLDER}#$cri#" ${CONTAINERD_AUTH_FILE} >>"$want"`,
        ]
      : []),
    'if [ -f /etc/containerd/config.toml ] && cmp -s "$want" /etc/containerd/config.toml; then',
    '  rm -f "$want"',
    "else",
    `  chmod ${hasAuth ? "0600" : "0644"} "$want"`,
    '  mv -f "$want" /etc/containerd/config.toml',
    "  EC_FILE_CHANGED[/etc/containerd/config.toml]=1",
    "  ec_changed",
    "fi",
    "ec_unit containerd.service /etc/containerd/config.toml",
    // the release's minimum containerd (v1.15+ needs 1.6): a distribution too old fails here, not in edgecore
    "have=$(containerd --version | grep -oE ' v?[0-9]+\\.[0-9]+' | head -n1 | tr -d ' v')",
    `if [ "$(printf '%s\\n' ${kubeEdgeRelease(props.spec.version).minContainerd} "$have" | sort -V | head -n1)" != ${kubeEdgeRelease(props.spec.version).minContainerd} ]; then`,
    `  ec_log "containerd $have on ${host.name} is older than ${kubeEdgeRelease(props.spec.version).minContainerd}, which KubeEdge ${props.spec.version} needs"`,
    "  exit 1",
    "fi",
    ...(runtime === "docker" ? ["ec_unit docker.service"] : []),
    ...cniInstallLines(props, host),
  ];
  return hostStep({
    host: host.name,
    name: EDGE_STEPS.runtime,
    component: KUBEEDGE_COMPONENT,
    script: lines.join("\n"),
    files: [
      {
        path: "/etc/modules-load.d/90-edgecloud-kubeedge.conf",
        mode: "0644",
        content: "overlay\nbr_netfilter\n",
        secret: false,
      },
      {
        path: "/etc/sysctl.d/90-edgecloud-kubeedge.conf",
        mode: "0644",
        content: "net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\n",
        secret: false,
      },
      { path: CNI_PLUGINS.confFile, mode: "0644", content: cniConflist(props.spec.edge.cni.subnet), secret: false },
      ...registryFiles,
    ],
    dependsOn: [stepId(host.name, EDGE_STEPS.preflight)],
    // the runtime and the CNI plugins stay: other workloads may use them
    deleteScript: [
      `ec_rm /etc/modules-load.d/90-edgecloud-kubeedge.conf /etc/sysctl.d/90-edgecloud-kubeedge.conf ${CNI_PLUGINS.confFile}`,
      ...(registryFiles.length ? [`ec_rm ${registryFiles.map((f) => f.path).join(" ")}`] : []),
    ].join("\n"),
  });
}

/** containernetworking/plugins of the host's arch into /opt/cni/bin, checksum-verified, once per version. */
function cniInstallLines(props: KubeEdgeCloudProps, host: Host): string[] {
  const v = CNI_PLUGINS.version;
  const tgz = cniTarball(ARCH_NAMES[host.arch].kubeedge);
  const install = props.spec.edge.install;
  const { mirror, sha256 } = props.spec.edge.cni;
  const marker = `${CNI_PLUGINS.binDir}/.edgecloud-cni-version`;
  const fetch =
    install.kind === "online"
      ? [
          `curl -fsSL --retry 5 -o "$cni/${tgz}" ${shellQuote(`${mirror}/${v}/${tgz}`)}`,
          // the release publishes <asset>.sha256 next to each tarball
          `curl -fsSL --retry 5 -o "$cni/${tgz}.sha256" ${shellQuote(`${mirror}/${v}/${tgz}.sha256`)}`,
          `echo "$(cut -d ' ' -f 1 "$cni/${tgz}.sha256")  ${tgz}" | (cd "$cni" && sha256sum -c --quiet -)`,
        ]
      : [
          `if [ ! -f ${shellQuote(install.dir)}/${tgz} ]; then ec_log "missing pre-staged ${install.dir}/${tgz}"; exit 1; fi`,
          `cp ${shellQuote(install.dir)}/${tgz} "$cni/"`,
        ];
  const pinned =
    sha256[tgz] !== undefined
      ? [`echo ${shellQuote(`${sha256[tgz]}  ${tgz}`)} | (cd "$cni" && sha256sum -c --quiet -)`]
      : [];
  return [
    `if [ "$(cat ${marker} 2>/dev/null || true)" != ${v} ]${CNI_PLUGINS.required.map((p) => ` || [ ! -x ${CNI_PLUGINS.binDir}/${p} ]`).join("")}; then`,
    "  cni=$(mktemp -d)",
    ...[...fetch, ...pinned].map((l) => `  ${l}`),
    `  mkdir -p ${CNI_PLUGINS.binDir}`,
    `  tar -xzf "$cni/${tgz}" -C ${CNI_PLUGINS.binDir}`,
    '  rm -rf "$cni"',
    `  for p in ${CNI_PLUGINS.required.join(" ")}; do`,
    `    if [ ! -x ${CNI_PLUGINS.binDir}/"$p" ]; then ec_log "${tgz} has no $p plugin"; exit 1; fi`,
    "  done",
    `  echo ${v} >${marker}`,
    "  ec_changed",
    "fi",
  ];
}

/** keadm and edgecore of the host's arch, from the release tarballs (a mirror, or pre-staged for air-gap). */
export function installStep(props: KubeEdgeCloudProps, host: Host): HostStep {
  const v = props.spec.version;
  const arch = ARCH_NAMES[host.arch].kubeedge;
  const keadm = `keadm-${v}-linux-${arch}`;
  const kubeedge = `kubeedge-${v}-linux-${arch}`;
  const install = props.spec.edge.install;
  const fetch =
    install.kind === "online"
      ? [
          `curl -fsSL --retry 5 -o "$work/${keadm}.tar.gz" ${shellQuote(`${install.mirror}/${v}/${keadm}.tar.gz`)}`,
          `curl -fsSL --retry 5 -o "$work/${kubeedge}.tar.gz" ${shellQuote(`${install.mirror}/${v}/${kubeedge}.tar.gz`)}`,
        ]
      : [
          `for f in ${keadm}.tar.gz ${kubeedge}.tar.gz; do`,
          `  if [ ! -f ${shellQuote(install.dir)}/"$f" ]; then ec_log "missing pre-staged ${install.dir}/$f"; exit 1; fi`,
          `  cp ${shellQuote(install.dir)}/"$f" "$work/"`,
          "done",
        ];
  const sums = install.sha512 ?? {};
  const verify = [`${keadm}.tar.gz`, `${kubeedge}.tar.gz`]
    .filter((f) => sums[f] !== undefined)
    .map((f) => `echo ${shellQuote(`${sums[f]}  ${f}`)} | (cd "$work" && sha512sum -c --quiet -)`);
  const script = [
    `if [ "$(cat ${VERSION_MARKER} 2>/dev/null || true)" != ${v} ] || [ ! -x /usr/local/bin/keadm ] || [ ! -x /usr/local/bin/edgecore ]; then`,
    "  work=$(mktemp -d)",
    "  trap 'rm -rf \"$work\"' EXIT",
    ...fetch.map((l) => `  ${l}`),
    ...verify.map((l) => `  ${l}`),
    `  tar -xzf "$work/${keadm}.tar.gz" -C "$work"`,
    `  tar -xzf "$work/${kubeedge}.tar.gz" -C "$work"`,
    `  install -m 0755 "$work/${keadm}/keadm/keadm" /usr/local/bin/keadm`,
    `  install -m 0755 "$work/${kubeedge}/edge/edgecore" /usr/local/bin/edgecore`,
    `  mkdir -p "$(dirname ${VERSION_MARKER})"`,
    `  echo ${v} >${VERSION_MARKER}`,
    "  ec_changed",
    "fi",
  ].join("\n");
  return hostStep({
    host: host.name,
    name: EDGE_STEPS.install,
    component: KUBEEDGE_COMPONENT,
    script,
    dependsOn: [stepId(host.name, EDGE_STEPS.runtime)],
    deleteScript: `ec_rm /usr/local/bin/keadm /usr/local/bin/edgecore ${VERSION_MARKER}`,
  });
}

/**
 * Joins the node: edgecore.yaml (with the token, mode 0600: the token never reaches argv — `keadm join --token`
 * would put it in `ps`) and the edgecore unit; edgecore fetches its certificate with the token on start. A token
 * refreshed in `kubeedge/tokensecret` changes the file, so a re-run restarts edgecore with the fresh token.
 * Delete: `keadm reset` and cleanup of what join left.
 */
export function joinStep(
  props: KubeEdgeCloudProps,
  host: Host,
  token: string,
  after: readonly string[] = [],
): HostStep {
  const release = kubeEdgeRelease(props.spec.version);
  const unit = [
    "[Unit]",
    "Description=KubeEdge edgecore (edgecloud)",
    `After=network-online.target ${props.spec.edge.runtime === "docker" ? "docker.service" : "containerd.service"}`,
    "Wants=network-online.target",
    "",
    "[Service]",
    `ExecStart=/usr/local/bin/edgecore --config ${EDGECORE_CONFIG}`,
    // keadm's unit (kubeedge/kubeedge v1.23.1 keadm/cmd/keadm/app/cmd/util/extsystem/simple.service): a NodeUpgradeJob's
    // `keadm upgrade edge` started by edgecore must survive edgecore's stop
    "Type=simple",
    "KillMode=process",
    "Restart=always",
    "RestartSec=10",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
  const applied = "/etc/kubeedge/config/.edgecore.applied";
  const script = [
    "ec_dir /etc/kubeedge 0755 root:root",
    "ec_dir /var/lib/kubeedge 0755 root:root",
    // A rotated token alone does not restart a node that already holds its certificate; any other change does.
    "restart=0",
    `if ec_any_changed ${EDGECORE_CONFIG} /etc/systemd/system/${EDGECORE_UNIT}; then`,
    `  if ec_file_changed /etc/systemd/system/${EDGECORE_UNIT} || [ ! -s /etc/kubeedge/certs/server.crt ] || [ ! -f ${applied} ] ||`,
    `    ! cmp -s <(grep -v '^ *token:' ${EDGECORE_CONFIG}) <(grep -v '^ *token:' ${applied}); then`,
    "    restart=1",
    "  else",
    '    ec_log "only the join token changed; edgecore keeps running (it holds its certificate)"',
    "  fi",
    `  install -m 0600 ${EDGECORE_CONFIG} ${applied}`,
    "fi",
    `was_active=0`,
    `if systemctl is-active --quiet ${EDGECORE_UNIT}; then was_active=1; fi`,
    `ec_unit ${EDGECORE_UNIT}`,
    'if [ "$was_active" = 1 ] && [ "$restart" = 1 ]; then',
    `  systemctl restart ${EDGECORE_UNIT}`,
    "  ec_changed",
    "fi",
    // certificates appear once cloudcore accepted the token
    "if ! ec_retry 60 2 test -s /etc/kubeedge/certs/server.crt; then",
    `  ec_log "edgecore on ${host.name} got no certificate from ${props.join.certServer}; check that the address is reachable and the token current (a re-run refreshes it)"`,
    "  exit 1",
    "fi",
  ].join("\n");
  const reset = ["keadm", ...release.resetEdge].join(" ");
  const deleteScript = [
    "if [ -x /usr/local/bin/keadm ]; then",
    `  /usr/local/bin/${reset} || ec_log "keadm reset failed; cleaning up by hand"`,
    "fi",
    `ec_unit_remove ${EDGECORE_UNIT}`,
    "ec_rm /etc/kubeedge /var/lib/kubeedge /var/log/kubeedge",
  ].join("\n");
  return hostStep({
    host: host.name,
    name: EDGE_STEPS.join,
    component: KUBEEDGE_COMPONENT,
    script,
    files: [
      {
        path: EDGECORE_CONFIG,
        mode: "0600",
        content: edgeCoreConfigYaml(edgeCoreConfig(props, host, token)),
        secret: true,
      },
      { path: `/etc/systemd/system/${EDGECORE_UNIT}`, mode: "0644", content: unit, secret: false },
    ],
    dependsOn: [stepId(host.name, EDGE_STEPS.install), ...after],
    deleteScript,
  });
}
