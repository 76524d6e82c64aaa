import { CAPABILITY_LABELS, CAPABILITY_TAINTS } from "../../lib/hosts/capabilities";
import { Host } from "../../lib/hosts/host";
import { KubeObject } from "../../lib/manifests/kube-object";
import { kubevirtObjects } from "./kubevirt";

export const HARDWARE_COMPONENT = "hardware";
const NAMESPACE = "kube-system";

/** `nvidia.com/gpu=present:NoSchedule` → a toleration of exactly that taint. */
function toleration(taint: string) {
  const [kv, effect] = taint.split(":") as [string, string];
  const [key] = kv.split("=") as [string];
  return { key, operator: "Exists", effect };
}

// NVIDIA/k8s-device-plugin v0.17.1 deployments/static/nvidia-device-plugin.yml (image, toleration, env, mounts)
export const NVIDIA_DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.1";
// k8snetworkplumbingwg/sriov-network-device-plugin v3.9.0 .github/workflows/image-push-release.yml: the release tag
// is the image tag (a manifest of linux/amd64, arm64, ppc64le); deployments/sriovdp-daemonset.yaml for the rest
export const SRIOV_DEVICE_PLUGIN_IMAGE = "ghcr.io/k8snetworkplumbingwg/sriov-network-device-plugin:v3.9.0";
/** The SR-IOV plugin's default resource prefix (sriov-network-device-plugin v3.9.0 README "resourcePrefix"). */
export const SRIOV_RESOURCE_PREFIX = "intel.com";

/**
 * RuntimeClasses for the runtimes the hosts offer, each scheduling only onto nodes that have it (and tolerating
 * their taint): `nvidia` is the handler K3s configures when it finds the NVIDIA runtime at start (k3s-io/docs
 * docs/advanced/advanced.md "NVIDIA Container Runtime Support"), `kata` the handler edgecloud's containerd template adds.
 */
function runtimeClasses(hosts: readonly Host[]): KubeObject[] {
  const out: KubeObject[] = [];
  if (hosts.some((h) => h.capabilities?.gpu))
    out.push({
      apiVersion: "node.k8s.io/v1",
      kind: "RuntimeClass",
      metadata: { name: "nvidia" },
      handler: "nvidia",
      scheduling: {
        nodeSelector: { [CAPABILITY_LABELS.gpu]: "true" },
        tolerations: [toleration(CAPABILITY_TAINTS.gpu)],
      },
    });
  if (hosts.some((h) => h.capabilities?.kata))
    out.push({
      apiVersion: "node.k8s.io/v1",
      kind: "RuntimeClass",
      metadata: { name: "kata" },
      handler: "kata",
      scheduling: { nodeSelector: { [CAPABILITY_LABELS.kata]: "true" } },
    });
  return out;
}

/**
 * NVIDIA's device plugin, on GPU nodes only (the label edgecloud sets, the taint it tolerates), run with the
 * `nvidia` runtime so that it sees the driver's libraries (K3s's nvidia runtime is not the default one).
 */
function nvidiaDevicePlugin(): KubeObject {
  const labels = { name: "nvidia-device-plugin-ds" };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: {
      name: "nvidia-device-plugin-daemonset",
      namespace: NAMESPACE,
      labels: { "app.kubernetes.io/part-of": "edgecloud" },
    },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: "RollingUpdate" },
      template: {
        metadata: { labels },
        spec: {
          runtimeClassName: "nvidia",
          nodeSelector: { [CAPABILITY_LABELS.gpu]: "true" },
          tolerations: [toleration(CAPABILITY_TAINTS.gpu)],
          priorityClassName: "system-node-critical",
          containers: [
            {
              name: "nvidia-device-plugin-ctr",
              image: NVIDIA_DEVICE_PLUGIN_IMAGE,
              env: [{ name: "FAIL_ON_INIT_ERROR", value: "false" }],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
              volumeMounts: [{ name: "device-plugin", mountPath: "/var/lib/kubelet/device-plugins" }],
            },
          ],
          volumes: [{ name: "device-plugin", hostPath: { path: "/var/lib/kubelet/device-plugins" } }],
        },
      },
    },
  };
}

/** One resource pool per declared resourceName: the VFs of the named PFs on every host that declares it. */
export function sriovConfig(hosts: readonly Host[]): { resourceList: unknown[] } {
  const pools = new Map<string, { pfNames: Set<string>; drivers: Set<string> }>();
  for (const h of hosts)
    for (const n of h.capabilities?.sriov?.nics ?? []) {
      const p = pools.get(n.resourceName) ?? { pfNames: new Set<string>(), drivers: new Set<string>() };
      p.pfNames.add(n.pf);
      if (n.driver === "vfio-pci") p.drivers.add("vfio-pci");
      pools.set(n.resourceName, p);
    }
  return {
    resourceList: [...pools].map(([resourceName, p]) => ({
      resourceName,
      resourcePrefix: SRIOV_RESOURCE_PREFIX,
      selectors: { pfNames: [...p.pfNames].sort(), ...(p.drivers.size ? { drivers: [...p.drivers] } : {}) },
    })),
  };
}

/** The SR-IOV network device plugin with its config generated from the hosts' declarations, on SR-IOV nodes only. */
function sriovDevicePlugin(hosts: readonly Host[]): KubeObject[] {
  const labels = { name: "sriov-device-plugin", tier: "node", app: "sriovdp" };
  const hostPath = (name: string, path: string, type?: string) => ({
    name,
    hostPath: { path, ...(type ? { type } : {}) },
  });
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "sriov-device-plugin", namespace: NAMESPACE } },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "sriovdp-config", namespace: NAMESPACE },
      data: { "config.json": `${JSON.stringify(sriovConfig(hosts), null, 2)}\n` },
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "kube-sriov-device-plugin", namespace: NAMESPACE, labels: { tier: "node", app: "sriovdp" } },
      spec: {
        selector: { matchLabels: { name: "sriov-device-plugin" } },
        template: {
          metadata: { labels },
          spec: {
            hostNetwork: true,
            serviceAccountName: "sriov-device-plugin",
            nodeSelector: { [CAPABILITY_LABELS.sriov]: "true" },
            // an SR-IOV node may be a GPU or real-time node too: tolerate the taints edgecloud sets
            tolerations: Object.values(CAPABILITY_TAINTS).map(toleration),
            containers: [
              {
                name: "kube-sriovdp",
                image: SRIOV_DEVICE_PLUGIN_IMAGE,
                imagePullPolicy: "IfNotPresent",
                args: ["--log-dir=sriovdp", "--log-level=10"],
                securityContext: { privileged: true },
                resources: { requests: { cpu: "250m", memory: "40Mi" }, limits: { cpu: 1, memory: "200Mi" } },
                volumeMounts: [
                  { name: "devicesock", mountPath: "/var/lib/kubelet/device-plugins", readOnly: false },
                  { name: "plugins-registry", mountPath: "/var/lib/kubelet/plugins_registry", readOnly: false },
                  { name: "log", mountPath: "/var/log" },
                  { name: "config-volume", mountPath: "/etc/pcidp" },
                  { name: "device-info", mountPath: "/var/run/k8s.cni.cncf.io/devinfo/dp" },
                ],
              },
            ],
            volumes: [
              hostPath("devicesock", "/var/lib/kubelet/device-plugins"),
              hostPath("plugins-registry", "/var/lib/kubelet/plugins_registry"),
              hostPath("log", "/var/log"),
              hostPath("device-info", "/var/run/k8s.cni.cncf.io/devinfo/dp", "DirectoryOrCreate"),
              {
                name: "config-volume",
                configMap: { name: "sriovdp-config", items: [{ key: "config.json", path: "config.json" }] },
              },
            ],
          },
        },
      },
    },
  ];
}

/**
 * The cluster objects the hosts' capabilities need: RuntimeClasses (nvidia, kata), NVIDIA's device plugin on GPU
 * nodes, the SR-IOV device plugin on SR-IOV nodes, KubeVirt with its VM workloads on kvm nodes. Empty when no host declares any. (Multus is not rendered: the
 * device plugin only advertises VFs as `intel.com/<resourceName>`; a pod that wants a VF as a second interface needs
 * Multus + the SR-IOV CNI, which is the user's choice of meta-plugin. DPDK pods use the vfio-pci VF directly.)
 */
export function hardwareObjects(hosts: readonly Host[]): KubeObject[] {
  return [
    ...runtimeClasses(hosts),
    ...(hosts.some((h) => h.capabilities?.gpu) ? [nvidiaDevicePlugin()] : []),
    ...(hosts.some((h) => h.capabilities?.sriov) ? sriovDevicePlugin(hosts) : []),
    ...kubevirtObjects(hosts),
  ];
}
