import { Host } from "../../../lib/hosts/host";
import { raw, sh } from "../../../lib/steps/sh";
import { joinHostPort } from "../../../lib/validation/net";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { K3S_START_STEP } from "../anchors";
import { COMPONENT } from "../etcd/component";
import { K3S_REGISTRIES_PATH } from "../../../lib/k3s/registries";
import { capabilityRestartFiles } from "../capabilities/steps";
import { K3S_CONFIG_FILE, K3S_DATASTORE_FILES, K3sRole, k3sUnit } from "./paths";

/**
 * Files whose change needs a K3s restart (manifests are re-applied by K3s itself), the binary among them: a new
 * version is placed by k3s-install with INSTALL_K3S_SKIP_START, and only these chained start steps restart K3s, one
 * server at a time (docs.k3s.io/upgrades/manual: upgrade restarts each node, servers first).
 */
const RESTART_ON = [
  "/usr/local/bin/k3s",
  K3S_CONFIG_FILE,
  K3S_REGISTRIES_PATH,
  K3S_DATASTORE_FILES.ca,
  K3S_DATASTORE_FILES.cert,
  K3S_DATASTORE_FILES.key,
];

/**
 * Enables and starts K3s (or restarts it when its configuration differs from the one it runs with), then waits
 * until it is ready:
 * a server until its API answers /readyz, an agent until the kubelet is healthy. Agents first wait for the
 * registration address to answer.
 */
/** Bash: `node_ready NAME` is true when the node's Ready condition is True (server-side kubectl). */
const NODE_READY_FN = `node_ready() {
  [ "$(/usr/local/bin/k3s kubectl get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}`;

function readyTries(timeoutSeconds: number): number {
  return Math.max(1, Math.ceil(timeoutSeconds / 2));
}

export function k3sStartStep(
  host: Host,
  role: K3sRole,
  registrationAddress: string,
  dependsOn: readonly string[],
  nodeReadyTimeoutSeconds = 300,
  /** The K3s version in the spec: part of the step, so a version change runs it again (in order) and it restarts. */
  version?: string,
): HostStep {
  const unit = k3sUnit(role);
  const appliedName = role === "server" ? "k3s" : "k3s-agent";
  const wait =
    role === "server"
      ? raw("ec_retry 90 2 /usr/local/bin/k3s kubectl get --raw=/readyz >/dev/null 2>&1")
      : raw("ec_retry 90 2 curl -fsS --max-time 3 http://127.0.0.1:10248/healthz >/dev/null 2>&1");
  const ping =
    role === "agent"
      ? raw(
          sh`ec_retry 90 2 curl -ksS --max-time 3 -o /dev/null ${`https://${joinHostPort(registrationAddress, 6443)}/ping`}` +
            "\n",
        )
      : raw("");
  const nodeReady =
    role === "server"
      ? raw(sh`
# /readyz answers before the node can run pods: Ready needs the CNI too (flannel, or Calico from the manifests)
${raw(NODE_READY_FN)}
if ! ec_retry ${readyTries(nodeReadyTimeoutSeconds)} 2 node_ready ${host.name}; then
  ec_log ${`node ${host.name} is registered but not Ready after ${nodeReadyTimeoutSeconds} s (no CNI running? k3s kubectl describe node ${host.name})`}
  exit 1
fi`)
      : raw("");
  const versionLine = version ? raw(sh`k3s_version=${version}` + "\n") : raw("");
  const script = sh`${versionLine}${ping}if ! systemctl is-enabled --quiet ${unit} 2>/dev/null; then
  systemctl enable --quiet ${unit}
  ec_changed
fi
want=$(ec_fingerprint ${[...RESTART_ON, ...capabilityRestartFiles(host)]})
if ! systemctl is-active --quiet ${unit}; then
  systemctl start ${unit}
  ec_applied_set ${appliedName} "$want"
  ec_changed
elif [ "$(ec_applied_get ${appliedName})" != "$want" ]; then
  # the configuration or binary differs from the one K3s runs with (a change, a new version, or a cut run's leftover):
  # this node's turn — servers one at a time, each gated below on its API and its node Ready before the next
  systemctl restart ${unit}${version ? raw('\n  ec_log "restarted for K3s $k3s_version"') : raw("")}
  ec_applied_set ${appliedName} "$want"
  ec_changed
fi
if ! ${wait}; then
  ec_log ${`${unit} did not become ready on ${host.name}`}
  exit 1
fi${nodeReady}`;
  const deleteScript = sh`if systemctl is-active --quiet ${unit} 2>/dev/null; then systemctl stop ${unit}; ec_changed; fi
if systemctl is-enabled --quiet ${unit} 2>/dev/null; then systemctl disable --quiet ${unit}; ec_changed; fi
ec_rm ${`/var/lib/edgecloud/applied/${appliedName}`}`;
  return hostStep({ host: host.name, name: K3S_START_STEP, component: COMPONENT, script, deleteScript, dependsOn });
}

/**
 * On the first server, after every agent started: waits until each agent's node is Ready (an agent has no API
 * credentials to check itself). Changes nothing.
 */
export function k3sNodesReadyStep(
  server: Host,
  nodes: readonly string[],
  dependsOn: readonly string[],
  nodeReadyTimeoutSeconds = 300,
): HostStep {
  const script = sh`${raw(NODE_READY_FN)}
for n in ${nodes}; do
  if ! ec_retry ${readyTries(nodeReadyTimeoutSeconds)} 2 node_ready "$n"; then
    ec_log "node $n is not Ready after ${nodeReadyTimeoutSeconds} s (k3s kubectl describe node $n)"
    exit 1
  fi
done`;
  return hostStep({ host: server.name, name: "k3s-nodes-ready", component: COMPONENT, script, dependsOn });
}
