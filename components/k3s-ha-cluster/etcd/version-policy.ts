/**
 * Which etcd version changes a running cluster may take. The facts, read at the pinned tag:
 *
 * - etcd.io/docs/v3.6/upgrades/upgrading-etcd "Upgrade policy": only two upgrade cases are supported — a patch upgrade
 *   within a minor, and a minor upgrade one minor at a time; "Upgrades that skip a minor version are not supported".
 * - etcd-io/etcd v3.5.17 server/etcdserver/api/membership/downgrade.go `mustDetectDowngrade`: a server whose
 *   major.minor is lower than the cluster version exits ("invalid downgrade; server version is lower than determined
 *   cluster version") unless the cluster's downgrade API was enabled first — edgecloud does not drive that API, so
 *   every downgrade is refused (a patch downgrade is not an upgrade case the policy lists either).
 * - etcd-io/etcd v3.5.17 server/etcdserver/cluster_util.go `allowedVersionRange`/`isCompatibleWithCluster`: a member
 *   joins a cluster whose version lies in [MinClusterVersion, its own major.minor]; a mixed cluster runs at the
 *   lowest member's version (etcd.io/docs/v3.5/upgrades/upgrade_3_5 "one by one, stop the etcd v3.4 processes and
 *   replace them with etcd v3.5 processes").
 */

/** A parsed etcd version (`v3.5.17` or `3.5.17`). */
export interface EtcdVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

export function parseEtcdVersion(v: string): EtcdVersion | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(v.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

const fmt = (v: EtcdVersion) => `${v.major}.${v.minor}.${v.patch}`;
const cmp = (a: EtcdVersion, b: EtcdVersion) => a.major - b.major || a.minor - b.minor || a.patch - b.patch;

/** The rule a change from `running` to `wanted` breaks, or undefined when etcd supports it. */
export function etcdVersionChangeRule(running: EtcdVersion, wanted: EtcdVersion): string | undefined {
  if (cmp(wanted, running) < 0)
    return `is a downgrade from ${fmt(running)}; etcd supports patch upgrades and minor upgrades only (etcd.io upgrade policy), and a member below the cluster's minor version refuses to start ("invalid downgrade")`;
  if (wanted.major !== running.major)
    return `changes the major version from ${fmt(running)}; etcd upgrades one minor version at a time within v3`;
  if (wanted.minor > running.minor + 1)
    return `skips a minor version: from ${fmt(running)} upgrade to the latest v${running.major}.${running.minor + 1}.x first; etcd upgrades one minor version at a time ("Upgrades that skip a minor version are not supported")`;
  return undefined;
}

/** A member's running version as the pre-flight reads it (`none`: no edgecloud etcd runs there yet). */
export interface RunningEtcd {
  readonly host: string;
  readonly version: string;
}

/**
 * Problems of moving the running members to `wanted` (field path first, value, the rule): one message per distinct
 * running version, naming the members that run it. Members not running (`none`) and unparsable versions are skipped.
 */
export function checkEtcdVersionChange(
  running: readonly RunningEtcd[],
  wanted: string,
  field = "k3s.etcd.version",
): string[] {
  const w = parseEtcdVersion(wanted);
  if (!w) return [];
  const byVersion = new Map<string, string[]>();
  for (const r of running) {
    if (!parseEtcdVersion(r.version)) continue;
    byVersion.set(r.version, [...(byVersion.get(r.version) ?? []), r.host]);
  }
  const out: string[] = [];
  for (const [v, hosts] of byVersion) {
    const rule = etcdVersionChangeRule(parseEtcdVersion(v)!, w);
    if (rule) out.push(`${field} "v${fmt(w)}" ${rule} (running on ${hosts.join(", ")})`);
  }
  return out;
}

/**
 * A membership change from a running cluster of `running` members to `size` members in one environment change. The
 * members leave one at a time (`member remove` first, each member's delete step), so the cluster keeps a quorum of
 * its current size only while at least that many members remain: etcd-io/etcd v3.5.17 server/etcdserver/server.go
 * `mayRemoveMember` refuses a removal that leaves fewer started members than the new quorum (strict reconfig check,
 * on by default: server/embed/config.go DefaultStrictReconfigCheck), so a bigger cut fails half-way. Refused
 * unless `k3s.etcd.force` names `below-quorum`. `running` 0: no cluster runs yet (nothing to check).
 */
export function checkEtcdMembershipChange(
  running: number,
  size: number,
  force: readonly string[],
  field = "k3s.etcd.force",
): string | undefined {
  if (running === 0 || size >= running || force.includes("below-quorum")) return undefined;
  const quorum = Math.floor(running / 2) + 1;
  if (size >= quorum) return undefined;
  return `hosts: ${size} etcd member${size === 1 ? "" : "s"} would remain of the ${running} running; removing more than a minority in one change loses quorum (${running} members need ${quorum}): remove at most ${running - quorum} per change, or set ${field}: ["below-quorum"]`;
}
