import { Host } from "../../lib/hosts/host";
import { ARCH_NAMES } from "../../lib/platform/arch";
import { osProfile } from "../../lib/platform/os";
import { HostStep, hostStep, stepId } from "../../lib/steps/host-step";
import { raw, sh } from "../../lib/steps/sh";
import { edgeCoreConfig, edgeCoreConfigYaml } from "./edgecore-config";
import { kubeEdgeRelease } from "./release";
import { CNI_PLUGINS, cniConflist, cniTarball } from "./runtime";
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
  // every value is a quoted word in a variable; the messages only expand the variables
  const script = sh`problems=()
host_name=${host.name}
declared_os=${host.os}
declared_arch=${host.arch}
# shellcheck source=/dev/null
. /etc/os-release
os_ids=${` ${os.osRelease.id.join(" ")} `}
arch_names=${` ${ARCH_NAMES[host.arch].uname.join(" ")} `}
case "$os_ids" in *" $ID "*) ;; *) problems+=("OS is $ID $VERSION_ID, declared $declared_os") ;; esac
case "$VERSION_ID" in ${os.osRelease.versionPrefix}*) ;; *) problems+=("OS version is $ID $VERSION_ID, declared $declared_os") ;; esac
machine=$(uname -m)
case "$arch_names" in *" $machine "*) ;; *) problems+=("architecture is $machine, declared $declared_arch") ;; esac
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  grep -qw memory /sys/fs/cgroup/cgroup.controllers || problems+=("the memory cgroup controller is not enabled (cgroup v2); add cgroup_enable=memory to the kernel command line and reboot")
elif ! awk '$1 == "memory" && $4 == 1 { found = 1 } END { exit !found }' /proc/cgroups; then
  problems+=("the memory cgroup controller is not enabled (cgroup v1); add cgroup_enable=memory cgroup_memory=1 to the kernel command line and reboot")
fi
if [ "\${#problems[@]}" -gt 0 ]; then
  for p in "\${problems[@]}"; do ec_log "pre-flight $host_name: $p"; done
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
  // the runtime's packages (after an optional vendor repository), or why the OS has none edgecloud can verify
  const src = osProfile(host.os)[runtime];
  const systemdCgroup = cgroupDriver === "systemd" ? "true" : "false";
  // the registry every K3s node mirrors, for this containerd too (edge nodes have no registries.yaml)
  const registryFiles = props.registries && runtime === "containerd" ? containerdRegistryFiles(props.registries) : [];
  const hasAuth = registryFiles.some((f) => f.path === CONTAINERD_AUTH_FILE);
  const minContainerd = kubeEdgeRelease(props.spec.version).minContainerd;
  const lines = [
    sh`ec_pkg ${pm} ${osProfile(host.os).packages.curl} ${osProfile(host.os).packages.tar}`,
    // a runtime already on the host (e.g. Docker's containerd.io on Ubuntu) is used as is: the distribution's
    // package would conflict with it
    sh`if ! command -v ${runtime === "docker" ? "docker" : "containerd"} >/dev/null 2>&1; then`,
    ...(src.kind === "unsupported"
      ? [sh`  ec_log ${`${host.os} ${src.reason}`}`, "  exit 1"]
      : [
          ...(src.repo
            ? [
                sh`  if [ ! -f ${src.repo.file} ]; then`,
                sh`    curl -fsSL --retry 3 -o ${src.repo.file} ${src.repo.url}`,
                "    ec_changed",
                "  fi",
              ]
            : []),
          sh`  ec_pkg ${pm} ${src.packages}`,
        ]),
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
    sh`containerd config default | sed -E ${`s/^([[:space:]]*SystemdCgroup =).*/\\1 ${systemdCgroup}/`}${registryFiles.length ? raw(sh` | sed -E ${`s#^([[:space:]]*config_path =).*#\\1 "${CONTAINERD_CERTS_DIR}"#`}`) : raw("")} >"$want"`,
    ...(hasAuth
      ? [
          // the registry credentials (0600 file) under the CRI plugin's registry table, named as this containerd names it
          `if grep -q '^version = 3' "$want"; then cri='plugins."io.containerd.cri.v1.images".registry'; else cri='plugins."io.containerd.grpc.v1.cri".registry'; fi`,
          // the placeholder is the library's constant (no value of an environment file)
          sh`sed "s#${raw(CRI_PLUGIN_PLACEHOLDER)}#$cri#" ${CONTAINERD_AUTH_FILE} >>"$want"`,
        ]
      : []),
    'if [ -f /etc/containerd/config.toml ] && cmp -s "$want" /etc/containerd/config.toml; then',
    '  rm -f "$want"',
    "else",
    sh`  chmod ${hasAuth ? "0600" : "0644"} "$want"`,
    '  mv -f "$want" /etc/containerd/config.toml',
    "  EC_FILE_CHANGED[/etc/containerd/config.toml]=1",
    "  ec_changed",
    "fi",
    "ec_unit containerd.service /etc/containerd/config.toml",
    // the release's minimum containerd (v1.15+ needs 1.6): a distribution too old fails here, not in edgecore
    "have=$(containerd --version | grep -oE ' v?[0-9]+\\.[0-9]+' | head -n1 | tr -d ' v')",
    sh`if [ "$(printf '%s\\n' ${minContainerd} "$have" | sort -V | head -n1)" != ${minContainerd} ]; then`,
    sh`  ec_log "containerd $have on "${`${host.name} is older than ${minContainerd}, which KubeEdge ${props.spec.version} needs`}`,
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
      sh`ec_rm /etc/modules-load.d/90-edgecloud-kubeedge.conf /etc/sysctl.d/90-edgecloud-kubeedge.conf ${CNI_PLUGINS.confFile}`,
      ...(registryFiles.length ? [sh`ec_rm ${registryFiles.map((f) => f.path)}`] : []),
    ].join("\n"),
  });
}

/** curl refuses anything but https, for the first request and every redirect. */
const HTTPS_ONLY = ["--proto", "=https", "--proto-redir", "=https"];

/**
 * containernetworking/plugins of the host's arch into /opt/cni/bin, checksum-verified, once per version: against the
 * user's `edge.cni.sha256` when given, else the release's `<asset>.sha256` (`sha256sum <asset>` output,
 * containernetworking/plugins v1.1.1 scripts/release.sh line 45) downloaded next to it or, pre-staged, lying next to it
 * in `edge.install.dir`.
 */
function cniInstallLines(props: KubeEdgeCloudProps, host: Host): string[] {
  const v = CNI_PLUGINS.version;
  const tgz = cniTarball(ARCH_NAMES[host.arch].kubeedge);
  const sumFile = `${tgz}.sha256`;
  const install = props.spec.edge.install;
  const { mirror, sha256 } = props.spec.edge.cni;
  const given = sha256[tgz];
  const marker = `${CNI_PLUGINS.binDir}/.edgecloud-cni-version`;
  const published = sh`echo "$(cut -d ' ' -f 1 "$cni"/${sumFile})  "${tgz} | (cd "$cni" && sha256sum -c --quiet -)`;
  const fetch =
    install.kind === "online"
      ? [
          sh`curl -fsSL --retry 5 ${HTTPS_ONLY} -o "$cni"/${tgz} -- ${`${mirror}/${v}/${tgz}`}`,
          sh`curl -fsSL --retry 5 ${HTTPS_ONLY} -o "$cni"/${sumFile} -- ${`${mirror}/${v}/${sumFile}`}`,
          published,
        ]
      : [
          ...[tgz, ...(given === undefined ? [sumFile] : [])].flatMap((f) => [
            sh`if [ ! -f ${`${install.dir}/${f}`} ]; then ec_log ${`missing pre-staged ${install.dir}/${f}`}; exit 1; fi`,
            sh`cp ${`${install.dir}/${f}`} "$cni/"`,
          ]),
          ...(given === undefined ? [published] : []),
        ];
  const pinned = given !== undefined ? [sh`echo ${`${given}  ${tgz}`} | (cd "$cni" && sha256sum -c --quiet -)`] : [];
  return [
    sh`if [ "$(cat ${marker} 2>/dev/null || true)" != ${v} ]${raw(CNI_PLUGINS.required.map((p) => sh` || [ ! -x ${`${CNI_PLUGINS.binDir}/${p}`} ]`).join(""))}; then`,
    "  cni=$(mktemp -d)",
    ...[...fetch, ...pinned].map((l) => `  ${l}`),
    sh`  mkdir -p ${CNI_PLUGINS.binDir}`,
    sh`  tar -xzf "$cni"/${tgz} -C ${CNI_PLUGINS.binDir}`,
    '  rm -rf "$cni"',
    sh`  for p in ${CNI_PLUGINS.required}; do`,
    sh`    if [ ! -x ${CNI_PLUGINS.binDir}/"$p" ]; then ec_log ${`${tgz} has no `}"$p plugin"; exit 1; fi`,
    "  done",
    sh`  echo ${v} >${marker}`,
    "  ec_changed",
    "fi",
  ];
}

/**
 * The file upstream publishes with each release tarball: kubeedge/kubeedge v1.23.1 hack/make-rules/release.sh
 * (build_release lines 152-155, build_keadm_release lines 190-193) writes `checksum_<tarball>.txt` holding only the
 * tarball's sha512 in hex, and .github/workflows/release.yml (line 83) uploads it next to the tarball; keadm reads the
 * same file (keadm/cmd/keadm/app/cmd/util/common_others.go line 279). The other releases the library knows do the same:
 * v1.20.0 (release.sh lines 155, 193; release.yml line 73), v1.13.4 (release.sh lines 135, 166; release.yml line 59).
 */
export function kubeEdgeChecksumFile(tarball: string): string {
  return `checksum_${tarball}.txt`;
}

/**
 * Lines that check `"$work"/<tarball>` before anything is extracted: against the user's sha512 when given, else
 * against the hex in `"$work"/checksum_<tarball>.txt` (which must be exactly one sha512).
 */
function sha512Check(tarball: string, given: string | undefined): string[] {
  if (given !== undefined) return [sh`echo ${`${given}  ${tarball}`} | (cd "$work" && sha512sum -c --quiet -)`];
  const sumFile = kubeEdgeChecksumFile(tarball);
  return [
    sh`sum=$(tr -d '[:space:]' <"$work"/${sumFile})`,
    sh`[[ "$sum" =~ ^[0-9a-f]{128}$ ]] || { ec_log ${`${sumFile} does not hold a sha512`}; exit 1; }`,
    sh`echo "$sum  "${tarball} | (cd "$work" && sha512sum -c --quiet -) || { ec_log ${`${tarball} does not match the sha512 in ${sumFile}; nothing installed`}; exit 1; }`,
  ];
}

/**
 * keadm and edgecore of the host's arch, from the release tarballs (a mirror, or pre-staged for air-gap), each
 * sha512-verified before it is extracted: against `edge.install.sha512` when given for it, else against upstream's
 * `checksum_<tarball>.txt` ({@link kubeEdgeChecksumFile}) — downloaded over https from the same mirror, or pre-staged
 * next to the tarball.
 */
export function installStep(props: KubeEdgeCloudProps, host: Host): HostStep {
  const v = props.spec.version;
  const arch = ARCH_NAMES[host.arch].kubeedge;
  const keadm = `keadm-${v}-linux-${arch}`;
  const kubeedge = `kubeedge-${v}-linux-${arch}`;
  const install = props.spec.edge.install;
  const sums: Readonly<Record<string, string>> = install.sha512 ?? {};
  const tarballs = [`${keadm}.tar.gz`, `${kubeedge}.tar.gz`];
  // the tarballs, and the checksum file of each one the user gave no sha512 for
  const files = tarballs.flatMap((f) => [f, ...(sums[f] === undefined ? [kubeEdgeChecksumFile(f)] : [])]);
  const fetch =
    install.kind === "online"
      ? files.map((f) => sh`curl -fsSL --retry 5 ${HTTPS_ONLY} -o "$work"/${f} -- ${`${install.mirror}/${v}/${f}`}`)
      : [
          sh`for f in ${files}; do`,
          sh`  if [ ! -f ${install.dir}/"$f" ]; then ec_log ${`missing pre-staged ${install.dir}/`}"$f"; exit 1; fi`,
          sh`  cp ${install.dir}/"$f" "$work/"`,
          "done",
        ];
  const verify = tarballs.flatMap((f) => sha512Check(f, sums[f]));
  const script = [
    sh`if [ "$(cat ${VERSION_MARKER} 2>/dev/null || true)" != ${v} ] || [ ! -x /usr/local/bin/keadm ] || [ ! -x /usr/local/bin/edgecore ]; then`,
    "  work=$(mktemp -d)",
    "  trap 'rm -rf \"$work\"' EXIT",
    ...fetch.map((l) => `  ${l}`),
    ...verify.map((l) => `  ${l}`),
    sh`  tar -xzf "$work"/${`${keadm}.tar.gz`} -C "$work"`,
    sh`  tar -xzf "$work"/${`${kubeedge}.tar.gz`} -C "$work"`,
    sh`  install -m 0755 "$work"/${`${keadm}/keadm/keadm`} /usr/local/bin/keadm`,
    sh`  install -m 0755 "$work"/${`${kubeedge}/edge/edgecore`} /usr/local/bin/edgecore`,
    sh`  mkdir -p "$(dirname ${VERSION_MARKER})"`,
    sh`  echo ${v} >${VERSION_MARKER}`,
    "  ec_changed",
    "fi",
  ].join("\n");
  return hostStep({
    host: host.name,
    name: EDGE_STEPS.install,
    component: KUBEEDGE_COMPONENT,
    script,
    dependsOn: [stepId(host.name, EDGE_STEPS.runtime)],
    deleteScript: sh`ec_rm /usr/local/bin/keadm /usr/local/bin/edgecore ${VERSION_MARKER}`,
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
    sh`if ec_any_changed ${EDGECORE_CONFIG} ${`/etc/systemd/system/${EDGECORE_UNIT}`}; then`,
    sh`  if ec_file_changed ${`/etc/systemd/system/${EDGECORE_UNIT}`} || [ ! -s /etc/kubeedge/certs/server.crt ] || [ ! -f ${applied} ] ||`,
    sh`    ! cmp -s <(grep -v '^ *token:' ${EDGECORE_CONFIG}) <(grep -v '^ *token:' ${applied}); then`,
    "    restart=1",
    "  else",
    '    ec_log "only the join token changed; edgecore keeps running (it holds its certificate)"',
    "  fi",
    sh`  install -m 0600 ${EDGECORE_CONFIG} ${applied}`,
    "fi",
    "was_active=0",
    sh`if systemctl is-active --quiet ${EDGECORE_UNIT}; then was_active=1; fi`,
    sh`ec_unit ${EDGECORE_UNIT}`,
    'if [ "$was_active" = 1 ] && [ "$restart" = 1 ]; then',
    sh`  systemctl restart ${EDGECORE_UNIT}`,
    "  ec_changed",
    "fi",
    // certificates appear once cloudcore accepted the token
    "if ! ec_retry 60 2 test -s /etc/kubeedge/certs/server.crt; then",
    sh`  ec_log ${`edgecore on ${host.name} got no certificate from ${props.join.certServer}; check that the address is reachable and the token current (a re-run refreshes it)`}`,
    "  exit 1",
    "fi",
  ].join("\n");
  const deleteScript = [
    "if [ -x /usr/local/bin/keadm ]; then",
    sh`  /usr/local/bin/keadm ${release.resetEdge} || ec_log "keadm reset failed; cleaning up by hand"`,
    "fi",
    sh`ec_unit_remove ${EDGECORE_UNIT}`,
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
