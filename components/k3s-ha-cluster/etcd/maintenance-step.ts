import { Host } from "../../../lib/hosts/host";
import { sh } from "../../../lib/steps/sh";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { EtcdSpec } from "../spec";
import { COMPONENT } from "./component";
import { ETCDCTL_WRAPPER, ETCD_LIB_DIR } from "./paths";
import { unitValue } from "../../../lib/steps/writers";

const units = [
  "edgecloud-etcd-snapshot.service",
  "edgecloud-etcd-snapshot.timer",
  "edgecloud-etcd-maintain.service",
  "edgecloud-etcd-maintain.timer",
];

/** Seconds between members' defragmentation runs. */
export const DEFRAG_STAGGER_SECONDS = 600;

/** Snapshot timer with retention, and periodic defragmentation + alarm check, on one member. */
export function etcdMaintenanceStep(
  member: Host,
  etcd: EtcdSpec,
  dependsOn: readonly string[],
  memberIndex = 0,
): HostStep {
  const snap = etcd.snapshot;
  const snapshotScript = sh`#!/bin/bash
# Snapshot this member's etcd and keep the newest ${snap.retention}.
set -euo pipefail
umask 077
mkdir -p ${snap.dir}
f=${snap.dir}/snapshot-$(date -u +%Y%m%dT%H%M%SZ).db
${ETCDCTL_WRAPPER} ${`--endpoints=https://127.0.0.1:${etcd.clientPort}`} snapshot save "$f.part" >/dev/null
mv -f "$f.part" "$f"
find ${snap.dir} -maxdepth 1 -name 'snapshot-*.db' -printf '%f\\n' | sort -r | tail -n +${snap.retention + 1} | while read -r old; do rm -f ${snap.dir}/"$old"; done
`;
  const maintainScript = sh`#!/bin/bash
# Defragment this member and report active alarms (NOSPACE, CORRUPT).
set -euo pipefail
ep=${`https://127.0.0.1:${etcd.clientPort}`}
# defrag blocks a member while it runs: members take turns, ${DEFRAG_STAGGER_SECONDS / 60} minutes apart (this is member ${memberIndex + 1})
sleep ${memberIndex * DEFRAG_STAGGER_SECONDS}
${ETCDCTL_WRAPPER} --endpoints="$ep" defrag --command-timeout=60s
alarms=$(${ETCDCTL_WRAPPER} --endpoints="$ep" alarm list)
if [ -n "$alarms" ]; then echo "etcd alarms: $alarms" >&2; exit 1; fi
`;
  const service = (desc: string, exec: string) => `[Unit]
Description=${desc}
After=edgecloud-etcd.service
# Requisite, not Requires: a member an operator stopped is not started again by a timer
Requisite=edgecloud-etcd.service

[Service]
Type=oneshot
TimeoutStartSec=infinity
ExecStart=${exec}
`;
  const timer = (desc: string, cal: string) => `[Unit]
Description=${desc}

[Timer]
OnCalendar=${unitValue(cal)}
RandomizedDelaySec=5min
Persistent=true

[Install]
WantedBy=timers.target
`;
  const files = [
    { path: `${ETCD_LIB_DIR}/etcd-snapshot.sh`, mode: "0755", content: snapshotScript, secret: false },
    { path: `${ETCD_LIB_DIR}/etcd-maintain.sh`, mode: "0755", content: maintainScript, secret: false },
    {
      path: `/etc/systemd/system/${units[0]}`,
      mode: "0644",
      content: service("etcd snapshot (edgecloud)", `${ETCD_LIB_DIR}/etcd-snapshot.sh`),
      secret: false,
    },
    {
      path: `/etc/systemd/system/${units[1]}`,
      mode: "0644",
      content: timer("etcd snapshot schedule (edgecloud)", snap.schedule),
      secret: false,
    },
    {
      path: `/etc/systemd/system/${units[2]}`,
      mode: "0644",
      content: service("etcd defrag and alarm check (edgecloud)", `${ETCD_LIB_DIR}/etcd-maintain.sh`),
      secret: false,
    },
    {
      path: `/etc/systemd/system/${units[3]}`,
      mode: "0644",
      content: timer("etcd maintenance schedule (edgecloud)", etcd.maintenanceSchedule),
      secret: false,
    },
  ];
  const script = sh`if ec_any_changed ${files.slice(2).map((f) => f.path)}; then systemctl daemon-reload; fi
for t in ${units[1]} ${units[3]}; do
  if ! systemctl is-enabled --quiet "$t" 2>/dev/null; then systemctl enable --quiet "$t"; ec_changed; fi
  if ! systemctl is-active --quiet "$t"; then systemctl start "$t"; ec_changed; fi
done`;
  const deleteScript = sh`for u in ${units}; do ec_unit_remove "$u"; done
ec_rm ${`${ETCD_LIB_DIR}/etcd-snapshot.sh`} ${`${ETCD_LIB_DIR}/etcd-maintain.sh`}
# snapshots in ${snap.dir} are kept on purpose: they are the way back after an uninstall
ec_rmdir_empty ${ETCD_LIB_DIR}`;
  return hostStep({
    host: member.name,
    name: "etcd-maintenance",
    component: COMPONENT,
    script,
    files,
    deleteScript,
    dependsOn,
  });
}
