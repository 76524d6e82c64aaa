import { hasRole, Host } from "../../lib/hosts/host";
import { HostStep, hostStep } from "../../lib/steps/host-step";
import { sh } from "../../lib/steps/sh";
import { KUBEEDGE_COMPONENT } from "./edge-node-steps";
import { KubeEdgeCloudProps, TOKEN_SECRET } from "./spec";

export const TOKEN_WAIT_STEP = "kubeedge-token-wait";

/** The server the token wait runs on (manifests mode): the first cloud host with the role "server". */
export function tokenWaitHost(props: KubeEdgeCloudProps): Host | undefined {
  return props.spec.mode === "manifests" ? props.cloudHosts.find((h) => hasRole(h, "server")) : undefined;
}

/**
 * Manifests mode: waits on a server until cloudcore has created `kubeedge/tokensecret` (it does so after it
 * started, #4103), so the token read that follows never races it. Reads nothing secret; changes nothing.
 */
export function tokenWaitStep(props: KubeEdgeCloudProps, host: Host): HostStep {
  return hostStep({
    host: host.name,
    name: TOKEN_WAIT_STEP,
    component: KUBEEDGE_COMPONENT,
    script: [
      sh`export KUBECONFIG=${props.spec.kubeconfigPath}`,
      sh`if ! ec_retry 60 5 /usr/local/bin/k3s kubectl -n ${TOKEN_SECRET.namespace} get secret ${TOKEN_SECRET.name} >/dev/null 2>&1; then`,
      sh`  ec_log ${`cloudcore has not created ${TOKEN_SECRET.namespace}/${TOKEN_SECRET.name} after 5 minutes; check: k3s kubectl -n ${TOKEN_SECRET.namespace} logs deployment/cloudcore`}`,
      "  exit 1",
      "fi",
    ].join("\n"),
  });
}
