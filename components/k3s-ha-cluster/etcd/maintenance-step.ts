import { Host } from "../../../lib/hosts/host";
import { sh } from "../../../lib/steps/sh";
import { HostStep, hostStep } from "../../../lib/steps/host-step";
import { EtcdSnapshotS3, EtcdSpec } from "../spec";
import { EtcdS3Credentials } from "../material";
import { COMPONENT } from "./component";
import { ETCDCTL_WRAPPER, ETCD_LIB_DIR, ETCD_S3_CURLRC } from "./paths";
import { curlConfigString, unitValue } from "../../../lib/steps/writers";
import { raw } from "../../../lib/steps/sh";

const units = [
  "edgecloud-etcd-snapshot.service",
  "edgecloud-etcd-snapshot.timer",
  "edgecloud-etcd-maintain.service",
  "edgecloud-etcd-maintain.timer",
];

/** Seconds between members' defragmentation runs. */
export const DEFRAG_STAGGER_SECONDS = 600;

/** Where a member's snapshots go in the bucket: `<base>/<prefix><member>/` (path-style or virtual-host). */
export function etcdS3KeyBase(s3: EtcdSnapshotS3, member: string): string {
  const u = new URL(s3.endpoint);
  const path = u.pathname.replace(/\/+$/, "");
  const base =
    s3.addressing === "virtual-host"
      ? `${u.protocol}//${s3.bucket}.${u.host}${path}`
      : `${u.protocol}//${u.host}${path}/${s3.bucket}`;
  return `${base}/${s3.prefix}${member}/`;
}

/** The curl config file holding the S3 credentials (`user = "<id>:<secret>"`). */
export function renderEtcdS3Curlrc(c: EtcdS3Credentials): string {
  return `# edgecloud: the credentials of k3s.etcd.snapshot.s3 (read by curl -K, never on its command line)\nuser = ${curlConfigString(`${c.accessKeyId}:${c.secretAccessKey}`)}\n`;
}

/**
 * Snapshot timer with retention, and periodic defragmentation + alarm check, on one member. With
 * `snapshot.s3` (and its credentials, from the material) every timer snapshot is also uploaded.
 */
export function etcdMaintenanceStep(
  member: Host,
  etcd: EtcdSpec,
  dependsOn: readonly string[],
  memberIndex = 0,
  s3Credentials?: EtcdS3Credentials,
): HostStep {
  const snap = etcd.snapshot;
  const s3 = snap.s3 && s3Credentials ? snap.s3 : undefined;
  // AWS Signature V4 by curl (--aws-sigv4, curl >= 7.75.0); the payload's sha256 in x-amz-content-sha256, which S3
  // requires of a signed PUT; the credentials from the 0600 config file (-K), so no process argv carries them
  const upload = s3
    ? sh`
# upload to the S3-compatible bucket (k3s.etcd.snapshot.s3); the local copy stays
url=${etcdS3KeyBase(s3, member.name)}$(basename "$f")
sha=$(sha256sum "$f" | cut -d' ' -f1)
curl --fail --silent --show-error --retry 3 --config ${ETCD_S3_CURLRC} --aws-sigv4 ${`aws:amz:${s3.region}:s3`} -H "x-amz-content-sha256: $sha" --upload-file "$f" "$url" -o /dev/null
echo "uploaded $f to $url"
`
    : "";
  const snapshotScript = sh`#!/bin/bash
# Snapshot this member's etcd and keep the newest ${snap.retention}.
set -euo pipefail
umask 077
mkdir -p ${snap.dir}
f=${snap.dir}/snapshot-$(date -u +%Y%m%dT%H%M%SZ).db
${ETCDCTL_WRAPPER} ${`--endpoints=https://127.0.0.1:${etcd.clientPort}`} snapshot save "$f.part" >/dev/null
mv -f "$f.part" "$f"
find ${snap.dir} -maxdepth 1 -name 'snapshot-*.db' -printf '%f\\n' | sort -r | tail -n +${snap.retention + 1} | while read -r old; do rm -f ${snap.dir}/"$old"; done
${raw(upload)}`;
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
  if (s3) files.push({ path: ETCD_S3_CURLRC, mode: "0600", content: renderEtcdS3Curlrc(s3Credentials!), secret: true });
  // the uploader must sign: curl lists --aws-sigv4 from 7.75.0 on (grep reads all of the help: no SIGPIPE under pipefail)
  const curlCheck = s3
    ? sh`if ! command -v curl >/dev/null || ! curl --help all 2>/dev/null | grep -- '--aws-sigv4' >/dev/null; then
  ec_log ${`k3s.etcd.snapshot.s3 needs curl >= 7.75.0 (--aws-sigv4) on ${member.name}; it has:`} "$(curl --version 2>/dev/null | head -n 1 || echo none)"
  exit 1
fi
`
    : "";
  const script = sh`${raw(curlCheck)}if ec_any_changed ${files.slice(2).map((f) => f.path)}; then systemctl daemon-reload; fi
for t in ${units[1]} ${units[3]}; do
  if ! systemctl is-enabled --quiet "$t" 2>/dev/null; then systemctl enable --quiet "$t"; ec_changed; fi
  if ! systemctl is-active --quiet "$t"; then systemctl start "$t"; ec_changed; fi
done`;
  const deleteScript = sh`for u in ${units}; do ec_unit_remove "$u"; done
ec_rm ${`${ETCD_LIB_DIR}/etcd-snapshot.sh`} ${`${ETCD_LIB_DIR}/etcd-maintain.sh`} ${ETCD_S3_CURLRC}
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
