import { Host } from "../../../lib/hosts/host";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { sh } from "../../../lib/steps/sh";
import { K3S_DATASTORE_FILES } from "../k3s/paths";
import { COMPONENT } from "./component";

/**
 * Runs on a K3s server with exactly the CA and client certificate its K3s config names: checks every member's
 * /health over TLS, waits until a majority is healthy, names the members that are not. No K3s server starts
 * before it passes.
 */
export function etcdHealthGateStep(server: Host, endpoints: readonly string[], dependsOn: readonly string[]): HostStep {
  const quorum = Math.floor(endpoints.length / 2) + 1;
  const script = sh`endpoints=(${endpoints})
check() {
  healthy=0
  down=()
  for ep in "\${endpoints[@]}"; do
    if curl -fsS --max-time 5 --cacert ${K3S_DATASTORE_FILES.ca} --cert ${K3S_DATASTORE_FILES.cert} --key ${K3S_DATASTORE_FILES.key} "$ep/health" 2>/dev/null | grep -q '"health":"true"'; then
      healthy=$((healthy + 1))
    else
      down+=("$ep")
    fi
  done
  [ "$healthy" -ge ${quorum} ]
}
if ! ec_retry 90 2 check; then
  ec_log "etcd has $healthy of \${#endpoints[@]} members healthy (quorum ${quorum}); not healthy: \${down[*]}"
  exit 1
fi
if [ "\${#down[@]}" -gt 0 ]; then ec_log "etcd quorum healthy; members down: \${down[*]}"; fi`;
  return hostStep({ host: server.name, name: "etcd-health-gate", component: COMPONENT, script, dependsOn });
}
