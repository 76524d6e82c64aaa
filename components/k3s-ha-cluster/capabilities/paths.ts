/**
 * K3s's containerd config template: K3s renders config.toml from it instead of its own template
 * (k3s-io/docs docs/advanced/advanced.md "Configuring containerd"); `{{ template "base" . }}` pulls K3s's own
 * template in ("Base template", available as of v1.24.17+k3s1, v1.25.13+k3s1, v1.26.8+k3s1, v1.27.5+k3s1 — every K3s
 * release edgecloud lists is newer). containerd 1.7 in those releases reads config version 2.
 */
export const K3S_CONTAINERD_TEMPLATE = "/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl";

/**
 * What K3s looks for at start to configure the `nvidia` runtime by itself (k3s-io/docs docs/advanced/advanced.md
 * "NVIDIA Container Runtime Support": detected when present at start; the RuntimeClass is the user's).
 */
export const NVIDIA_RUNTIME_BINARY = "/usr/bin/nvidia-container-runtime";

/** Where the Kata static tarball unpacks (its members are `opt/kata/…`) and the shim containerd finds on PATH. */
export const KATA_DIR = "/opt/kata";
export const KATA_SHIM = `${KATA_DIR}/bin/containerd-shim-kata-v2`;
export const KATA_SHIM_LINK = "/usr/local/bin/containerd-shim-kata-v2";
/** Which release the tarball under /opt/kata is (written by edgecloud after a verified extraction). */
export const KATA_STAMP = `${KATA_DIR}/.edgecloud-release`;

export const HUGEPAGES_SYSCTL = "/etc/sysctl.d/90-edgecloud-hugepages.conf";

export const SRIOV_SCRIPT = "/usr/local/libexec/edgecloud-sriov.sh";
export const SRIOV_UNIT = "edgecloud-sriov.service";
export const SRIOV_MODULES = "/etc/modules-load.d/edgecloud-sriov.conf";

/**
 * The kubelet's CPU manager checkpoint: a kubelet started with a policy other than the one recorded there refuses
 * to start (kubernetes/kubernetes v1.31 pkg/kubelet/cm/cpumanager/state/state_checkpoint.go "configured policy
 * differs from state checkpoint policy"); K3s's kubelet keeps its root dir at /var/lib/kubelet.
 */
export const CPU_MANAGER_STATE = "/var/lib/kubelet/cpu_manager_state";
