import { copyFileSync, chmodSync, mkdirSync, writeFileSync } from "fs";
import { dirname, join } from "path";
import { parse, stringify } from "yaml";
import { K3S_CONFIG_FILE } from "../../components/k3s-ha-cluster";
import { edgeCoreConfig } from "../../components/kubeedge-cloud/edgecore-config";
import { KubeEdgeCloudProps } from "../../components/kubeedge-cloud/spec";
import { Host } from "../../lib/hosts/host";
import {
  CONTAINERD_AUTH_FILE,
  CONTAINERD_CERTS_DIR,
  CRI_PLUGIN_PLACEHOLDER,
  containerdRegistryFiles,
  K3S_REGISTRIES_PATH,
  K3sRegistries,
} from "../../lib/k3s";
import { issueCert } from "../../lib/pki/x509";
import { ApiServer } from "../engine/kube-apiserver";
import { Lab } from "./lab";
import { sleep } from "./proc";

/**
 * The lab's real nodes (issue 15): kube-controller-manager and kube-scheduler next to the lab's kube-apiserver, and
 * kubelet + Debian's containerd/runc/CNI plugins on `kubeletHost` lab hosts. Everything here is lab-only: users get
 * K3s (servers, agents) and edgecore (edge nodes), neither of which can be had here (see README "The lab").
 *
 * What a node is made of, and where each part comes from:
 * - its name, IP, labels and taints: the library's — a K3s node's from the config.yaml its k3s-config step wrote on
 *   the host (`node-name`, `node-ip`, `node-label`, `node-taint`), an edge node's from the library's edgecore.yaml
 *   (`edged.hostnameOverride`, `nodeIP`, `nodeLabels`, `registerWithTaints`, `cgroupDriver`);
 * - its containerd: on an edge node, the config the library's kubeedge-runtime step wrote (certs.d hosts.toml, the
 *   registry CA, the node user's credentials); on a K3s node, the same translation of the registries.yaml the
 *   library wrote there (`containerdRegistryFiles`, what K3s does with that file) — K3s's own containerd cannot run;
 * - two lab changes in every config.toml: `restrict_oom_score_adj = true` (the runner lacks CAP_SYS_RESOURCE) and
 *   `sandbox_image` = the lab's pause image in the library's registry.
 */

const CP_DIR = "/etc/edgecloud-lab/control-plane";
const NODE_DIR = "/etc/edgecloud-lab/node";
export const KUBELET_UNIT = "edgecloud-lab-kubelet";
export const KCM_UNIT = "edgecloud-lab-kube-controller-manager";
export const SCHEDULER_UNIT = "edgecloud-lab-kube-scheduler";

export function put(lab: Lab, host: string, path: string, content: string, mode: number): void {
  const file = join(lab.host(host).root, path);
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
}

export function installBinary(lab: Lab, host: string, binDir: string, name: string): void {
  const to = join(lab.host(host).root, "usr/local/bin", name);
  copyFileSync(join(binDir, name), to);
  chmodSync(to, 0o755);
}

/**
 * systemd-run a transient unit (stopped first if present); its PIDs die with the unit. `restart`: what a node's
 * service manager does for its agents (K3s's unit is Restart=always; kubeadm's kubelet unit too): the node agents
 * get it, the control plane does not (a crash there must fail the stage). Restarts are counted (`unitRestarts`).
 */
function runUnitScript(unit: string, argv: readonly string[], restart = false): string {
  const policy = restart ? "--property=Restart=on-failure --property=RestartSec=2" : "--property=Restart=no";
  return `systemctl stop ${unit} 2>/dev/null || true; systemctl reset-failed ${unit} 2>/dev/null || true
systemd-run --unit=${unit} ${policy} ${argv.join(" ")}`;
}

/** How often systemd restarted a node agent's unit (NRestarts), per host. */
export async function unitRestarts(lab: Lab, host: string, unit: string): Promise<number> {
  return Number((await lab.sh(host, `systemctl show -p NRestarts --value ${unit}`)).trim() || "0");
}

export async function stopUnits(lab: Lab, host: string, units: readonly string[]): Promise<void> {
  await lab.exec(
    host,
    units
      .map((u) => `systemctl stop ${u} 2>/dev/null || true; systemctl reset-failed ${u} 2>/dev/null || true`)
      .join("\n"),
  );
}

/** kube-controller-manager and kube-scheduler on the API server's host, each with its own client certificate. */
export async function startControllers(lab: Lab, api: ApiServer, binDir: string): Promise<void> {
  const host = api.host;
  const local = "https://127.0.0.1:6443";
  for (const [name, cn] of [
    ["kube-controller-manager", "system:kube-controller-manager"],
    ["kube-scheduler", "system:kube-scheduler"],
  ] as const) {
    const cert = await issueCert(api.ca, { commonName: cn, usages: ["client"], validityDays: 2 });
    put(lab, host, `${CP_DIR}/${name}.kubeconfig`, api.kubeconfigFor(cert, local), 0o600);
    installBinary(lab, host, binDir, name);
  }
  const kc = (n: string) => {
    const f = `${CP_DIR}/${n}.kubeconfig`;
    return [`--kubeconfig=${f}`, `--authentication-kubeconfig=${f}`, `--authorization-kubeconfig=${f}`];
  };
  await lab.sh(
    host,
    runUnitScript(KCM_UNIT, [
      "/usr/local/bin/kube-controller-manager",
      ...kc("kube-controller-manager"),
      "--bind-address=127.0.0.1",
      "--leader-elect=false",
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${api.dir}/service-account.key`,
      `--root-ca-file=${api.dir}/ca.crt`,
      "--controllers=*",
    ]) +
      "\n" +
      runUnitScript(SCHEDULER_UNIT, [
        "/usr/local/bin/kube-scheduler",
        ...kc("kube-scheduler"),
        "--bind-address=127.0.0.1",
        "--leader-elect=false",
      ]),
  );
}

/** What the library says a node is. */
export interface NodeIdentity {
  readonly host: string;
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly { key: string; value?: string; effect: string }[];
  readonly cgroupDriver: "cgroupfs" | "systemd";
  readonly kind: "k3s" | "edge";
}

/** A K3s node's identity, from the config.yaml the library's k3s-config step wrote on it. */
export async function k3sNodeIdentity(lab: Lab, host: string): Promise<NodeIdentity> {
  const cfg = parse(await lab.sh(host, `cat ${K3S_CONFIG_FILE}`)) as Record<string, unknown>;
  const labels = Object.fromEntries(
    ((cfg["node-label"] as string[] | undefined) ?? []).map((l) => [
      l.slice(0, l.indexOf("=")),
      l.slice(l.indexOf("=") + 1),
    ]),
  );
  const taints = ((cfg["node-taint"] as string[] | undefined) ?? []).map(parseTaint);
  return {
    host,
    nodeName: String(cfg["node-name"]),
    nodeIp: String(cfg["node-ip"]),
    labels,
    taints,
    cgroupDriver: "cgroupfs",
    kind: "k3s",
  };
}

/** An edge node's identity, from the edgecore.yaml the library renders for it (edgecore itself cannot run here). */
export function edgeNodeIdentity(props: KubeEdgeCloudProps, host: Host): NodeIdentity {
  const cfg = edgeCoreConfig(props, host, "<lab: no token>") as {
    modules: {
      edged: {
        hostnameOverride: string;
        nodeIP: string;
        nodeLabels: Record<string, string>;
        tailoredKubeletConfig: {
          cgroupDriver: "cgroupfs" | "systemd";
          registerWithTaints?: { key: string; value?: string; effect: string }[];
        };
        registerWithTaints?: { key: string; value?: string; effect: string }[];
      };
    };
  };
  const e = cfg.modules.edged;
  return {
    host: host.name,
    nodeName: e.hostnameOverride,
    nodeIp: e.nodeIP,
    labels: e.nodeLabels,
    taints: e.tailoredKubeletConfig.registerWithTaints ?? e.registerWithTaints ?? [],
    cgroupDriver: e.tailoredKubeletConfig.cgroupDriver,
    kind: "edge",
  };
}

function parseTaint(t: string): { key: string; value?: string; effect: string } {
  const [kv, effect] = [t.slice(0, t.lastIndexOf(":")), t.slice(t.lastIndexOf(":") + 1)];
  const eq = kv.indexOf("=");
  return eq < 0 ? { key: kv, effect } : { key: kv.slice(0, eq), value: kv.slice(eq + 1), effect };
}

/**
 * Labels a kubelet may not set on its own Node (`--node-labels` refuses `kubernetes.io`/`k8s.io` keys outside its
 * allowed set, e.g. `node-role.kubernetes.io/edge`): the test's admin client sets them after registration, as
 * cloudcore does for edgecore's node.
 */
export function selfLabelable(key: string): boolean {
  const ns = key.includes("/") ? key.slice(0, key.indexOf("/")) : "";
  const restricted =
    ns === "kubernetes.io" || ns === "k8s.io" || ns.endsWith(".kubernetes.io") || ns.endsWith(".k8s.io");
  if (!restricted) return true;
  return (
    ns === "kubelet.kubernetes.io" ||
    ns === "node.kubernetes.io" ||
    /^(kubernetes\.io\/(hostname|arch|os)|beta\.kubernetes\.io\/(arch|os|instance-type)|node\.kubernetes\.io\/instance-type|topology\.kubernetes\.io\/(region|zone)|failure-domain\.beta\.kubernetes\.io\/(region|zone))$/.test(
      key,
    )
  );
}

/** Lab changes every node's containerd config gets (sed over the config.toml the library's step or this file wrote). */
function containerdLabPatch(pauseImage: string): string {
  return `sed -i -E -e 's#^([[:space:]]*restrict_oom_score_adj =).*#\\1 true#' -e 's#^([[:space:]]*sandbox_image =).*#\\1 "${pauseImage}"#' /etc/containerd/config.toml`;
}

/**
 * A K3s node's containerd, configured from the registries.yaml the library wrote on the node — the translation K3s
 * performs (mirrors → certs.d/<name>/hosts.toml with the CA, credentials → the CRI registry configs), done with the
 * library's own `containerdRegistryFiles`. CNI: Debian's plugins and a bridge on the node's own pod subnet.
 */
export async function configureK3sNodeContainerd(lab: Lab, host: string, podSubnet: string): Promise<void> {
  const yaml = parse(await lab.sh(host, `cat ${K3S_REGISTRIES_PATH}`)) as {
    mirrors?: Record<string, { endpoint: string[] }>;
    configs?: Record<string, { auth?: { username: string; password: string }; tls?: { ca_file?: string } }>;
  };
  const caFiles = Object.values(yaml.configs ?? {}).flatMap((c) => (c.tls?.ca_file ? [c.tls.ca_file] : []));
  const files = await Promise.all(
    [...new Set(caFiles)].map(async (path) => ({
      path,
      mode: "0644",
      content: await lab.sh(host, `cat ${path}`),
      secret: false,
    })),
  );
  const registries: K3sRegistries = {
    mirrors: yaml.mirrors ?? {},
    configs: Object.fromEntries(
      Object.entries(yaml.configs ?? {}).map(([h, c]) => [
        h,
        { ...(c.auth ? { auth: c.auth } : {}), ...(c.tls?.ca_file ? { tls: { caFile: c.tls.ca_file } } : {}) },
      ]),
    ),
    files,
  };
  for (const f of containerdRegistryFiles(registries)) put(lab, host, f.path, f.content, parseInt(f.mode, 8));
  put(
    lab,
    host,
    "/etc/cni/net.d/10-edgecloud-lab.conflist",
    `${JSON.stringify({
      cniVersion: "1.0.0",
      name: "edgecloud-lab",
      plugins: [
        {
          type: "bridge",
          bridge: "cni0",
          isGateway: true,
          ipMasq: true,
          ipam: { type: "host-local", ranges: [[{ subnet: podSubnet }]], routes: [{ dst: "0.0.0.0/0" }] },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    })}\n`,
    0o644,
  );
  await lab.sh(
    host,
    `set -euo pipefail
mkdir -p /opt/cni/bin && cp -a /usr/lib/cni/. /opt/cni/bin/
want=$(mktemp)
containerd config default | sed -E 's#^([[:space:]]*config_path =).*#\\1 "${CONTAINERD_CERTS_DIR}"#' >"$want"
if [ -f ${CONTAINERD_AUTH_FILE} ]; then sed 's#${CRI_PLUGIN_PLACEHOLDER}#plugins."io.containerd.grpc.v1.cri".registry#' ${CONTAINERD_AUTH_FILE} >>"$want"; fi
install -m 0600 "$want" /etc/containerd/config.toml && rm -f "$want"`,
  );
}

/** The lab patches on top of whatever wrote config.toml, then containerd (re)started and answering CRI. */
export async function startContainerd(lab: Lab, host: string, pauseImage: string): Promise<void> {
  await lab.sh(
    host,
    `set -euo pipefail
${containerdLabPatch(pauseImage)}
systemctl enable --quiet containerd.service
systemctl restart containerd.service
for i in $(seq 1 50); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done
journalctl -u containerd --no-pager | tail -20; exit 1`,
  );
}

/** kubelet on the node: the library's identity, the lab's kubelet changes (failCgroupV1: false, --node-ip). */
export async function startKubelet(
  lab: Lab,
  api: ApiServer,
  binDir: string,
  id: NodeIdentity,
  opts: { clusterDns: string; apiServerUrl: string },
): Promise<void> {
  const cert = await issueCert(api.ca, {
    commonName: `system:node:${id.nodeName}`,
    organization: "system:nodes",
    usages: ["client"],
    validityDays: 2,
  });
  installBinary(lab, id.host, binDir, "kubelet");
  put(lab, id.host, `${NODE_DIR}/kubelet.kubeconfig`, api.kubeconfigFor(cert, opts.apiServerUrl), 0o600);
  put(lab, id.host, `${NODE_DIR}/ca.crt`, api.ca.certPem, 0o644);
  const config = {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    // lab: the runner's cgroups are v1 (kubelet >= 1.35 refuses them unless told) and no systemd delegates them
    failCgroupV1: false,
    cgroupDriver: id.cgroupDriver,
    containerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: `${NODE_DIR}/ca.crt` },
    },
    authorization: { mode: "Webhook" },
    clusterDomain: "cluster.local",
    clusterDNS: [opts.clusterDns],
    registerWithTaints: id.taints,
    failSwapOn: false,
    resolvConf: "/etc/resolv.conf",
    serializeImagePulls: false,
  };
  put(lab, id.host, `${NODE_DIR}/kubelet.yaml`, stringify(config), 0o644);
  const own = Object.entries(id.labels).filter(([k]) => selfLabelable(k));
  const flags = [
    `--config=${NODE_DIR}/kubelet.yaml`,
    `--kubeconfig=${NODE_DIR}/kubelet.kubeconfig`,
    `--hostname-override=${id.nodeName}`,
    `--node-ip=${id.nodeIp}`,
    ...(own.length ? [`--node-labels=${own.map(([k, v]) => `${k}=${v}`).join(",")}`] : []),
  ];
  await lab.sh(
    id.host,
    `touch /etc/resolv.conf\n${runUnitScript(KUBELET_UNIT, ["/usr/local/bin/kubelet", ...flags], true)}`,
  );
}

export const KUBE_PROXY_UNIT = "edgecloud-lab-kube-proxy";

/**
 * kube-proxy (iptables mode) on a K3s node, with the `system:kube-proxy` identity the default RBAC binds to
 * `system:node-proxier`. Conntrack sysctls are left alone (maxPerCore 0, timeouts 0): the runner's are shared.
 */
export async function startKubeProxy(
  lab: Lab,
  api: ApiServer,
  binDir: string,
  id: NodeIdentity,
  opts: { clusterCidr: string; serviceCidr: string; apiServerUrl: string },
): Promise<void> {
  const cert = await issueCert(api.ca, { commonName: "system:kube-proxy", usages: ["client"], validityDays: 2 });
  installBinary(lab, id.host, binDir, "kube-proxy");
  put(lab, id.host, `${NODE_DIR}/kube-proxy.kubeconfig`, api.kubeconfigFor(cert, opts.apiServerUrl), 0o600);
  const config = {
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    clientConnection: { kubeconfig: `${NODE_DIR}/kube-proxy.kubeconfig` },
    mode: "iptables",
    clusterCIDR: opts.clusterCidr,
    hostnameOverride: id.nodeName,
    metricsBindAddress: "127.0.0.1:10249",
    healthzBindAddress: "127.0.0.1:10256",
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
  };
  put(lab, id.host, `${NODE_DIR}/kube-proxy.yaml`, stringify(config), 0o644);
  // lab hosts have no default route, so a ClusterIP would be unreachable before kube-proxy's DNAT: route the
  // service CIDR onto the lab bridge (what a node's default route does; nothing leaves the lab's namespaces)
  await lab.sh(
    id.host,
    `ip route replace ${opts.serviceCidr} dev eth0\n` +
      runUnitScript(KUBE_PROXY_UNIT, ["/usr/local/bin/kube-proxy", `--config=${NODE_DIR}/kube-proxy.yaml`], true),
  );
}

/** kube-proxy's side of a ClusterIP failure: its unit, its journal, the node's NAT rules for the address, routes, neighbours. */
export async function kubeProxyDiagnosis(lab: Lab, host: string, clusterIp: string): Promise<string> {
  const r = await lab.exec(
    host,
    `systemctl status ${KUBE_PROXY_UNIT} --no-pager 2>&1 | head -12; journalctl -u ${KUBE_PROXY_UNIT} --no-pager | tail -30
echo '--- nat rules for ${clusterIp}'; iptables-save -t nat | grep -F -- '${clusterIp}/32'
echo '--- routes'; ip route; echo '--- neighbours'; ip neigh`,
  );
  return `${r.stdout}${r.stderr}`;
}

/** kube-proxy's healthz code on the node, and the API server's code through the `kubernetes` ClusterIP from it. */
export async function kubeProxyStatus(
  lab: Lab,
  host: string,
  clusterIp: string,
  maxTimeS = 4,
): Promise<{ healthz: string; viaClusterIp: string }> {
  const r = await lab.exec(
    host,
    `curl -s -o /dev/null -w '%{http_code} ' --max-time ${maxTimeS} http://127.0.0.1:10256/healthz; ` +
      `curl -sk -o /dev/null -w '%{http_code}' --max-time ${maxTimeS} https://${clusterIp}:443/readyz`,
  );
  const [healthz = "", viaClusterIp = ""] = r.stdout.trim().split(" ");
  return { healthz, viaClusterIp };
}

/**
 * Waits until kube-proxy on a K3s node answers its healthz and the `kubernetes` ClusterIP reaches the API server
 * (401: anonymous refused, so the DNAT reached a real endpoint). Throws with kube-proxy's side after `timeoutMs`.
 */
export async function waitKubeProxy(lab: Lab, host: string, clusterIp: string, timeoutMs = 120_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const s = await kubeProxyStatus(lab, host, clusterIp);
    if (s.healthz === "200" && s.viaClusterIp === "401") return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `${host}: kube-proxy not serving the kubernetes ClusterIP after ${timeoutMs} ms (healthz ${s.healthz}, ClusterIP ${s.viaClusterIp}):\n${await kubeProxyDiagnosis(lab, host, clusterIp)}`,
      );
    await sleep(1000);
  }
}

/**
 * Pod networking between the K3s nodes: each node routes every other node's pod subnet to that node's lab address
 * (what flannel's host-gw backend does; K3s's flannel cannot run here). Edge nodes get none: KubeEdge gives them no
 * cluster networking.
 */
export async function routePodSubnets(
  lab: Lab,
  nodes: readonly { host: string; address: string; podSubnet: string }[],
): Promise<void> {
  await Promise.all(
    nodes.map((n) =>
      lab.sh(
        n.host,
        nodes
          .filter((o) => o.host !== n.host)
          .map((o) => `ip route replace ${o.podSubnet} via ${o.address} dev eth0`)
          .join("\n") || "true",
      ),
    ),
  );
}
