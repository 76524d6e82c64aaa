import { Host } from "../../../lib/hosts/host";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { raw, sh } from "../../../lib/steps/sh";
import { rollGateWaitFunction } from "./roll-gate";
import { EtcdSpec } from "../spec";
import { COMPONENT } from "./component";
import { ETCDCTL_WRAPPER, ETCD_UNIT } from "./paths";

/**
 * An operation (not part of provisioning): restart the members one at a time; each waits until it is healthy
 * and the whole cluster has quorum before the next one goes down.
 */
export function etcdRollingRestartSteps(members: readonly Host[], etcd: EtcdSpec): HostStep[] {
  const steps: HostStep[] = [];
  for (const m of members) {
    const script = sh`${raw(rollGateWaitFunction(etcd))}ec_gate_wait ${ETCDCTL_WRAPPER} --command-timeout=5s endpoint health >/dev/null
systemctl restart ${ETCD_UNIT}
ec_gate_wait ${ETCDCTL_WRAPPER} ${`--endpoints=https://127.0.0.1:${etcd.clientPort}`} --command-timeout=5s endpoint health >/dev/null
ec_gate_wait ${ETCDCTL_WRAPPER} --command-timeout=5s endpoint health >/dev/null
ec_changed`;
    steps.push(
      hostStep({
        host: m.name,
        name: "etcd-restart",
        component: COMPONENT,
        script,
        dependsOn: steps.length ? [steps[steps.length - 1]!.id] : [],
      }),
    );
  }
  return steps;
}
