import { sh } from "../../../lib/steps/sh";
import { EtcdSpec } from "../spec";

/**
 * `ec_gate_wait CMD...`: the roll gate's wait (`k3s.etcd.rollGate`). Runs CMD every `intervalSeconds` until it
 * succeeds; gives up (status 1) when another try would start after `timeoutSeconds`. A try is not cut short, so the
 * wait can end up to one try's own time (the gate's `--command-timeout=5s`) after the timeout. Defined in the step
 * that uses it (not in the prelude, whose change would re-run every step of every environment).
 */
export function rollGateWaitFunction(etcd: Pick<EtcdSpec, "rollGate">): string {
  const { timeoutSeconds, intervalSeconds } = etcd.rollGate;
  return sh`# the roll gate (k3s.etcd.rollGate): CMD every ${intervalSeconds} s, for at most ${timeoutSeconds} s
ec_gate_wait() {
  local end=$((SECONDS + ${timeoutSeconds}))
  while ! "$@"; do
    if [ $((SECONDS + ${intervalSeconds})) -gt "$end" ]; then return 1; fi
    sleep ${intervalSeconds}
  done
}
`;
}
