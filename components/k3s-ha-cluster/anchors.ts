import { stepId } from "../../lib/steps/host-step";
import { ClusterTopology } from "./topology";

/**
 * The cluster's anchors: the steps other components wait for, named here once. Nothing outside this component
 * matches a step name; stacks ask for an anchor (synth: its step id; Pulumi: `K3sHaCluster.serversStarted` and
 * `K3sHaCluster.packageRepos`).
 */
export const K3S_START_STEP = "k3s-start";
/** A host's package repositories (CentOS 7's vault/mirror repo): other components install packages after it. */
export const PACKAGE_REPOS_STEP = "package-repos";

/** Every server serves the API: the last server's start (servers start one after another). */
export function serversStartedStepId(topo: ClusterTopology): string {
  return stepId(topo.servers[topo.servers.length - 1]!.name, K3S_START_STEP);
}

/** The ids of the hosts' package-repository steps among `ids` (present only on hosts that need one). */
export function packageReposStepIds(ids: Iterable<string>): string[] {
  return [...ids].filter((id) => id.endsWith(`/${PACKAGE_REPOS_STEP}`));
}
