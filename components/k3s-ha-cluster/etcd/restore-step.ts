import { Host } from "../../../lib/hosts/host";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { sh } from "../../../lib/steps/sh";
import { EtcdSpec } from "../spec";
import { COMPONENT } from "./component";
import { peerUrl } from "./member-step";
import { ETCD_UNIT, etcdBinDir } from "./paths";

export interface EtcdRestoreProps {
  readonly clusterName: string;
  readonly member: Host;
  readonly members: readonly Host[];
  readonly etcd: EtcdSpec;
  readonly dependsOn: readonly string[];
}

/**
 * `k3s.etcd.restore` on one member: stop it, move its data aside, restore the named snapshot into its data directory
 * as a member of a new cluster of the environment's members (every member step waits for every member's restore, so
 * no member starts before all are restored). Facts: etcd-io/etcd v3.5.17 etcdutl/etcdutl/snapshot_command.go
 * (`snapshot restore` with `--name`, `--initial-cluster`, `--initial-cluster-token`, `--initial-advertise-peer-urls`,
 * `--data-dir`; the restored data carries a new cluster id and the membership given); 3.4 has the same command in
 * etcdctl (ETCDCTL_API=3), which Debian's etcd-client ships instead of etcdutl.
 */
export function etcdRestoreStep(p: EtcdRestoreProps): HostStep | undefined {
  const r = p.etcd.restore;
  if (!r) return undefined;
  const { member: h, etcd } = p;
  const bin = etcdBinDir(etcd);
  const script = sh`restore_id=${r.id}
snapshot=${r.snapshot}
data=${etcd.dataDir}
member_name=${h.name}
if [ "$(ec_applied_get etcd-restore)" != "$restore_id" ]; then
  [ -f "$snapshot" ] || { ec_log "restore $restore_id: snapshot $snapshot is not on $member_name (copy it to every member)"; exit 1; }
  echo ${`${r.sha256}  `}"$snapshot" | sha256sum -c --quiet || { ec_log "restore $restore_id: $snapshot on $member_name does not match k3s.etcd.restore.sha256"; exit 1; }
  systemctl stop ${ETCD_UNIT} 2>/dev/null || true
  work=$(mktemp -d "$data.restore.XXXXXX")
  if [ -x ${`${bin}/etcdutl`} ]; then tool=(${`${bin}/etcdutl`}); else tool=(env ETCDCTL_API=3 ${`${bin}/etcdctl`}); fi
  "\${tool[@]}" snapshot restore "$snapshot" --name "$member_name" ${`--initial-cluster=${p.members.map((m) => `${m.name}=${peerUrl(m, etcd)}`).join(",")}`} ${`--initial-cluster-token=${p.clusterName}-etcd`} ${`--initial-advertise-peer-urls=${peerUrl(h, etcd)}`} --data-dir "$work/data" >/dev/null 2>&1 || { ec_log "restore $restore_id: snapshot restore failed on $member_name"; rm -rf "$work"; exit 1; }
  if [ -e "$data" ]; then
    aside="$data.edgecloud-pre-restore-$restore_id-$(date -u +%Y%m%dT%H%M%SZ)"
    mv "$data" "$aside"
    ec_log "restore $restore_id: $member_name's data moved aside to $aside"
  fi
  mv "$work/data" "$data"
  rm -rf "$work"
  chown -R etcd:etcd "$data"
  chmod 0700 "$data"
  ec_applied_set etcd-restore "$restore_id"
  ec_log "restore $restore_id: $member_name restored from $snapshot"
  ec_changed
fi`;
  return hostStep({
    host: h.name,
    name: "etcd-restore",
    component: COMPONENT,
    script,
    deleteScript: "ec_rm /var/lib/edgecloud/applied/etcd-restore",
    dependsOn: p.dependsOn,
  });
}
