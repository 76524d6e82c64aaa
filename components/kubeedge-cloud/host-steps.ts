import { HostStep } from "../../lib/steps/host-step";
import { edgeNodeSteps } from "./edge-node-steps";
import { cloudFirewallSteps } from "./firewall-steps";
import { KEADM_STEPS, keadmInitSteps } from "./keadm-init-steps";
import { KubeEdgeCloudProps } from "./spec";
import { streamCertHost, streamCertStep } from "./stream-cert-step";
import { tokenWaitHost, tokenWaitStep } from "./token-wait-step";

/**
 * Every host step of a KubeEdgeCloud, as one plan: keadm init (keadm mode) or the token wait (manifests mode, after
 * the chart is applied), the cloud firewall, then each edge node's runtime → install → join, the joins waiting for
 * all of them.
 */
export function kubeEdgeHostSteps(props: KubeEdgeCloudProps, token: string): HostStep[] {
  const keadm = props.spec.mode === "keadm" && props.keadmHost ? keadmInitSteps(props, props.keadmHost) : [];
  const waitHost = tokenWaitHost(props);
  const wait = waitHost ? [tokenWaitStep(props, waitHost)] : [];
  const streamHost = streamCertHost(props);
  const stream = streamHost ? [streamCertStep(props, streamHost)] : [];
  const firewall = cloudFirewallSteps(props);
  const after = [
    ...firewall.map((s) => s.id),
    ...keadm.filter((s) => s.name === KEADM_STEPS.init).map((s) => s.id),
    ...wait.map((s) => s.id),
  ];
  return [...keadm, ...stream, ...wait, ...firewall, ...edgeNodeSteps(props, token, after)];
}
