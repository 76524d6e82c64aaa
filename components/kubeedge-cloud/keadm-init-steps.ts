import { createHash } from "crypto";
import { Host } from "../../lib/hosts/host";
import { HostStep, hostStep, stepId } from "../../lib/steps/host-step";
import { raw, sh } from "../../lib/steps/sh";
import { KUBEEDGE_COMPONENT, installStep } from "./edge-node-steps";
import { KubeEdgeCloudProps } from "./spec";

export const KEADM_STEPS = { install: "kubeedge-install", init: "kubeedge-keadm-init" } as const;
const MARKER = "/var/lib/edgecloud/keadm-init.sha256";

/**
 * The cloudcore chart values `keadm init`/`keadm upgrade cloud` get for the typed options — only keys the chart's
 * values.yaml has (the chart fixes cloudcore's ports at 10000-10004, so custom ports are manifests-mode only; see
 * validation). Advertise addresses go through `--advertise-address`, which keadm places in the certificate SANs.
 */
export function keadmSetValues(props: KubeEdgeCloudProps): string[] {
  const { spec } = props;
  const e = spec.exposure;
  const values: [string, string | number | boolean][] = [
    ["cloudCore.modules.cloudHub.nodeLimit", spec.cloudHub.nodeLimit],
    ["cloudCore.modules.cloudHub.websocket.enable", true],
    ["cloudCore.modules.cloudHub.quic.enable", spec.cloudHub.quic],
    ["cloudCore.modules.cloudHub.https.enable", true],
    ["cloudCore.modules.cloudStream.enable", spec.cloudStream.enable],
    ["cloudCore.modules.dynamicController.enable", spec.dynamicController],
    ["cloudCore.modules.router.enable", spec.router],
    ["cloudCore.hostNetWork", e.kind === "hostNetwork"],
    ["cloudCore.service.type", e.kind === "hostNetwork" ? "ClusterIP" : e.kind],
    ["cloudCore.image.repository", `${spec.imageRepository}/cloudcore`],
    // the chart's own mosquitto DaemonSet (values.yaml mosquitto.enable defaults to true): switched as asked, so no
    // second broker is applied beside it (kubeedge/kubeedge v1.23.1 manifests/charts/cloudcore/values.yaml)
    ["mosquitto.enable", spec.mosquitto],
    ...(spec.mosquitto && spec.edge.taint
      ? ([
          ["mosquitto.tolerations[0].key", "node-role.kubernetes.io/edge"],
          ["mosquitto.tolerations[0].operator", "Exists"],
          ["mosquitto.tolerations[0].effect", "NoSchedule"],
        ] as [string, string][])
      : []),
    // host network: cloudcore on the node that owns the advertised address (the chart only keeps it off edge nodes,
    // kubeedge#4417); helm's --set escapes the dots of the label key
    ...(props.cloudcoreNode
      ? ([["cloudCore.nodeSelector.kubernetes\\.io/hostname", props.cloudcoreNode]] as [string, string][])
      : []),
    ["iptablesManager.enable", spec.iptablesManager.enable],
    ["iptablesManager.mode", spec.iptablesManager.mode],
    [
      "iptablesManager.image.repository",
      `${spec.imageRepository}/${spec.iptablesManager.framework === "nft" ? "iptables-manager-nft" : "iptables-manager"}`,
    ],
    ...spec.cloudHub.dnsNames.map((d, i): [string, string] => [`cloudCore.modules.cloudHub.dnsNames[${i}]`, d]),
    ...(e.kind === "NodePort"
      ? ([
          ["cloudCore.service.cloudhubNodePort", e.nodePorts.cloudhub],
          ["cloudCore.service.cloudhubQuicNodePort", e.nodePorts.quic],
          ["cloudCore.service.cloudhubHttpsNodePort", e.nodePorts.https],
          ["cloudCore.service.cloudstreamNodePort", e.nodePorts.stream],
          ["cloudCore.service.tunnelNodePort", e.nodePorts.tunnel],
        ] as [string, number][])
      : []),
  ];
  return values.map(([k, v]) => `${k}=${String(v)}`);
}

/**
 * keadm mode: keadm of the host's arch, then `keadm init` on the control-plane host (first run) or
 * `keadm upgrade cloud` (options changed), as the seed does; a marker holds the hash of the options applied.
 */
export function keadmInitSteps(props: KubeEdgeCloudProps, host: Host): HostStep[] {
  const { spec } = props;
  const kubeconfig = spec.kubeconfigPath;
  // the rendered flags, each a quoted word; their hash is the marker (unchanged text, unchanged hash)
  const flags = [
    sh`${`--advertise-address=${spec.cloudHub.advertiseAddress.join(",")}`}`,
    sh`${`--kubeedge-version=${spec.version.replace(/^v/, "")}`}`,
    sh`${`--kube-config=${kubeconfig}`}`,
    ...keadmSetValues(props).map((s) => sh`--set ${s}`),
  ].join(" ");
  const hash = createHash("sha256").update(flags).digest("hex");
  const script = [
    sh`export KUBECONFIG=${kubeconfig}`,
    sh`if [ "$(cat ${MARKER} 2>/dev/null || true)" != ${hash} ]; then`,
    "  if /usr/local/bin/k3s kubectl -n kubeedge get deployment cloudcore >/dev/null 2>&1; then",
    sh`    /usr/local/bin/keadm upgrade cloud ${raw(flags)}`,
    "  else",
    sh`    /usr/local/bin/keadm init ${raw(flags)}`,
    "  fi",
    sh`  mkdir -p "$(dirname ${MARKER})"`,
    sh`  echo ${hash} >${MARKER}`,
    "  ec_changed",
    "fi",
    "ec_retry 60 5 /usr/local/bin/k3s kubectl -n kubeedge rollout status deployment/cloudcore --timeout=10s >/dev/null",
    // the token Secret appears once cloudcore started its token manager (#4103)
    "ec_retry 60 5 /usr/local/bin/k3s kubectl -n kubeedge get secret tokensecret >/dev/null",
  ].join("\n");
  const install = installStep(props, host);
  return [
    // no runtime step on the server: K3s brings containerd; only keadm is needed
    hostStep({
      host: host.name,
      name: KEADM_STEPS.install,
      component: KUBEEDGE_COMPONENT,
      script: install.script,
      deleteScript: install.deleteScript,
    }),
    hostStep({
      host: host.name,
      name: KEADM_STEPS.init,
      component: KUBEEDGE_COMPONENT,
      script,
      dependsOn: [stepId(host.name, KEADM_STEPS.install)],
      deleteScript: [
        sh`if [ -x /usr/local/bin/keadm ]; then /usr/local/bin/keadm reset cloud --force ${`--kube-config=${kubeconfig}`} || ec_log "keadm reset cloud failed"; fi`,
        sh`ec_rm ${MARKER}`,
      ].join("\n"),
    }),
  ];
}
