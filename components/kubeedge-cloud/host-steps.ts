import { HostStep } from "../../lib/steps/host-step";
import { edgeNodeSteps } from "./edge-node-steps";
import { cloudFirewallSteps } from "./firewall-steps";
import { KEADM_STEPS, keadmInitSteps } from "./keadm-init-steps";
import { KubeEdgeCloudProps } from "./spec";

/**
 * Every host step of a KubeEdgeCloud, as one plan: keadm init (keadm mode), the cloud firewall, then each edge node's
 * runtime → install → join, the joins waiting for the firewall and keadm init. (In manifests mode cloudcore itself
 * is a chart, not a step.)
 */
export function kubeEdgeHostSteps(props: KubeEdgeCloudProps, token: string): HostStep[] {
  const keadm = props.spec.mode === "keadm" && props.keadmHost ? keadmInitSteps(props, props.keadmHost) : [];
  const firewall = cloudFirewallSteps(props);
  const after = [...firewall.map((s) => s.id), ...keadm.filter((s) => s.name === KEADM_STEPS.init).map((s) => s.id)];
  return [...keadm, ...firewall, ...edgeNodeSteps(props, token, after)];
}
