import { Host, internalAddress } from "../../../lib/hosts/host";
import { raw, sh } from "../../../lib/steps/sh";
import { HostStep, StepFile, hostStep } from "../../../lib/steps/host-step";
import { EtcdPki } from "../material";
import { EtcdSpec } from "../spec";
import { COMPONENT } from "./component";
import {
  ETCDCTL_WRAPPER,
  ETCD_ENV_FILE,
  ETCD_PKI_DIR,
  ETCD_CLUSTER_ENV_FILE,
  ETCD_STATE_ENV_FILE,
  ETCD_UNIT,
  ETCD_STAGE_DIR,
  etcdBinDir,
  etcdPkiFile,
  etcdStagedDir,
} from "./paths";
import { joinHostPort } from "../../../lib/validation/net";
import { envFile, unitValue } from "../../../lib/steps/writers";
import { rollGateWaitFunction } from "./roll-gate";

export interface EtcdMemberProps {
  readonly clusterName: string;
  readonly member: Host;
  readonly members: readonly Host[];
  readonly etcd: EtcdSpec;
  readonly pki: EtcdPki;
  readonly dependsOn: readonly string[];
}

export const peerUrl = (h: Host, etcd: EtcdSpec) => `https://${joinHostPort(internalAddress(h), etcd.peerPort)}`;
export const clientUrl = (h: Host, etcd: EtcdSpec) => `https://${joinHostPort(internalAddress(h), etcd.clientPort)}`;

/** The member's environment file: TLS everywhere, client and peer certificate auth on. */
export function renderEtcdEnv(p: EtcdMemberProps): string {
  const { member: h, etcd } = p;
  const env: [string, string | number][] = [
    ["ETCD_NAME", h.name],
    ["ETCD_DATA_DIR", etcd.dataDir],
    ["ETCD_LISTEN_CLIENT_URLS", `${clientUrl(h, etcd)},https://127.0.0.1:${etcd.clientPort}`],
    ["ETCD_ADVERTISE_CLIENT_URLS", clientUrl(h, etcd)],
    ["ETCD_LISTEN_PEER_URLS", peerUrl(h, etcd)],
    ["ETCD_INITIAL_ADVERTISE_PEER_URLS", peerUrl(h, etcd)],
    ["ETCD_INITIAL_CLUSTER_TOKEN", `${p.clusterName}-etcd`],
    ["ETCD_TRUSTED_CA_FILE", etcdPkiFile.ca],
    ["ETCD_CERT_FILE", etcdPkiFile.serverCert],
    ["ETCD_KEY_FILE", etcdPkiFile.serverKey],
    ["ETCD_CLIENT_CERT_AUTH", "true"],
    ["ETCD_PEER_TRUSTED_CA_FILE", etcdPkiFile.ca],
    ["ETCD_PEER_CERT_FILE", etcdPkiFile.peerCert],
    ["ETCD_PEER_KEY_FILE", etcdPkiFile.peerKey],
    ["ETCD_PEER_CLIENT_CERT_AUTH", "true"],
    ["ETCD_AUTO_COMPACTION_MODE", "periodic"],
    ["ETCD_AUTO_COMPACTION_RETENTION", "8h"],
    ["ETCD_QUOTA_BACKEND_BYTES", etcd.quotaBackendBytes],
    ["ETCD_EXPERIMENTAL_INITIAL_CORRUPT_CHECK", "true"],
  ];
  return envFile(Object.fromEntries(env));
}

/** The environment's members as `ETCD_INITIAL_CLUSTER` (read at bootstrap only; a joining member gets etcd's own list). */
export function renderEtcdClusterEnv(p: Pick<EtcdMemberProps, "members" | "etcd">): string {
  return envFile({ ETCD_INITIAL_CLUSTER: p.members.map((m) => `${m.name}=${peerUrl(m, p.etcd)}`).join(",") });
}

/**
 * The member's unit. Sandboxed (systemd.exec(5)): etcd runs as `etcd` with no capabilities and no way to gain any,
 * sees the file system read-only except its data directory (`ProtectSystem=strict` + `ReadWritePaths`), no home
 * directories, a private /tmp and /dev, no kernel tunables, modules, logs, clock or cgroups to change, only
 * IPv4/IPv6 sockets (clients and peers) and Unix sockets (sd_notify for `Type=notify`, journald), and the
 * `@system-service` system calls minus `@privileged` and `@resources`. etcd listens on unprivileged ports (2379,
 * 2380) and reads its certificates through its group. `Nice=` and `LimitNOFILE=` are applied by systemd before the
 * sandbox. Shown running in the lab (the etcd lab tests run this unit on Debian's etcd 3.4).
 */
export function renderEtcdUnit(etcd: EtcdSpec): string {
  return `[Unit]
Description=etcd key-value store (edgecloud, TLS only)
Documentation=https://etcd.io/docs/
After=network-online.target
Wants=network-online.target

[Service]
Type=notify
User=etcd
EnvironmentFile=${ETCD_ENV_FILE}
EnvironmentFile=-${ETCD_CLUSTER_ENV_FILE}
EnvironmentFile=-${ETCD_STATE_ENV_FILE}
ExecStart=${etcdBinDir(etcd)}/etcd
Restart=always
RestartSec=5s
TimeoutStartSec=300
LimitNOFILE=65536
Nice=-10
UMask=0077
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ReadWritePaths=${unitValue(etcd.dataDir)}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateMounts=yes
DevicePolicy=closed
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RemoveIPC=yes
KeyringMode=private
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
`;
}

/** `edgecloud-etcdctl`: etcdctl with the member endpoints and the admin client certificate. */
export function renderEtcdctlWrapper(members: readonly Host[], etcd: EtcdSpec): string {
  return sh`#!/bin/sh
# etcdctl against the edgecloud etcd cluster over TLS with the admin client certificate.
# The member endpoints are only the default: a caller's --endpoints replaces them (etcdctl itself would append).
ep=${`--endpoints=${members.map((m) => clientUrl(m, etcd)).join(",")}`}
for a in "$@"; do case "$a" in --endpoints | --endpoints=*) ep= ;; esac; done
exec ${`${etcdBinDir(etcd)}/etcdctl`} \${ep:+"$ep"} ${`--cacert=${etcdPkiFile.ca}`} ${`--cert=${etcdPkiFile.adminCert}`} ${`--key=${etcdPkiFile.adminKey}`} "$@"
`;
}

/**
 * Certificates, environment, unit and start of one member. First start is non-blocking so members bootstrap
 * together; a later change restarts this member only and waits until it is healthy again (members are chained,
 * so at most one restarts at a time). A member whose data directory is gone rejoins as a new member.
 */
export function etcdMemberStep(p: EtcdMemberProps): HostStep {
  const { member: h, etcd, pki } = p;
  const certs = pki.members[h.name]!;
  const files: StepFile[] = [
    { path: etcdPkiFile.ca, mode: "0644", content: pki.ca.certPem, secret: false },
    { path: etcdPkiFile.serverCert, mode: "0644", content: certs.server.certPem, secret: false },
    { path: etcdPkiFile.serverKey, mode: "0600", owner: "etcd:etcd", content: certs.server.keyPem, secret: true },
    { path: etcdPkiFile.peerCert, mode: "0644", content: certs.peer.certPem, secret: false },
    { path: etcdPkiFile.peerKey, mode: "0600", owner: "etcd:etcd", content: certs.peer.keyPem, secret: true },
    { path: etcdPkiFile.adminCert, mode: "0644", content: pki.admin.certPem, secret: false },
    { path: etcdPkiFile.adminKey, mode: "0600", content: pki.admin.keyPem, secret: true },
    { path: ETCD_ENV_FILE, mode: "0600", content: renderEtcdEnv(p), secret: false },
    { path: ETCD_CLUSTER_ENV_FILE, mode: "0600", content: renderEtcdClusterEnv(p), secret: false },
    { path: `/etc/systemd/system/${ETCD_UNIT}`, mode: "0644", content: renderEtcdUnit(etcd), secret: false },
    { path: ETCDCTL_WRAPPER, mode: "0755", content: renderEtcdctlWrapper(p.members, etcd), secret: false },
  ];
  const others = p.members.filter((m) => m.name !== h.name).map((m) => clientUrl(m, etcd));
  // the binary too: etcd-install stages a new version's, and only this chained step puts it in place and restarts
  const versioned = etcd.install.kind !== "distro";
  const serverBinary = `${etcdBinDir(etcd)}/etcd`;
  const stagedBinary = versioned ? `${etcdStagedDir(etcd)}/etcd` : serverBinary;
  const restartOn = [
    ...files
      .filter((f) => f.path !== ETCDCTL_WRAPPER && f.path !== ETCD_CLUSTER_ENV_FILE && !f.path.includes("admin"))
      .map((f) => f.path),
    stagedBinary,
  ];
  const local = `--endpoints=https://127.0.0.1:${etcd.clientPort}`;
  const self = p.members.findIndex((m) => m.name === h.name);
  const later = p.members.slice(self + 1).map((m) => m.name);
  const placeBinary = versioned
    ? sh`  if ! cmp -s ${stagedBinary} ${serverBinary}; then
    install -m 0755 ${stagedBinary} ${`${serverBinary}.new`} && mv -f ${`${serverBinary}.new`} ${serverBinary}
    ec_changed
  fi`
    : "  :";
  // a version the members cannot take is refused before anything restarts (version-policy.ts has the rules)
  const versionGuard = versioned
    ? sh`  want_version=${etcd.version.slice(1)}
  for v in $(${ETCDCTL_WRAPPER} --command-timeout=5s endpoint status 2>/dev/null | awk -F', ' '{ print $3 }' | sort -u); do
    v_major=\${v%%.*}; v_minor=\${v#*.}; v_minor=\${v_minor%%.*}
    w_major=\${want_version%%.*}; w_minor=\${want_version#*.}; w_minor=\${w_minor%%.*}
    if [ "$(printf '%s\\n%s\\n' "$v" "$want_version" | sort -V | head -n 1)" != "$v" ]; then
      ec_log "k3s.etcd.version \\"v$want_version\\" is a downgrade from $v (a member runs it); etcd supports patch and minor upgrades only: roll stopped before $member_name"
      exit 1
    fi
    if [ "$w_major" != "$v_major" ] || [ "$w_minor" -gt $((v_minor + 1)) ]; then
      ec_log "k3s.etcd.version \\"v$want_version\\" skips a minor version from $v (a member runs it); etcd upgrades one minor at a time: roll stopped before $member_name"
      exit 1
    fi
  done
`
    : "";
  const prune = versioned
    ? sh`
  # the staged releases of a finished roll
  find ${ETCD_STAGE_DIR} -mindepth 1 -maxdepth 1 ! -name ${etcd.version} -exec rm -rf {} +`
    : "";
  // a restore stops every member (etcd-restore): the member step must run again to start it, so its program names the
  // restore (under Pulumi a step runs only when its program or trigger changes)
  const restored = etcd.restore
    ? sh`# runs again after k3s.etcd.restore ${etcd.restore.id} to start the restored member
`
    : "";
  const script = sh`${raw(rollGateWaitFunction(etcd))}${raw(restored)}ec_dir /etc/etcd 0755 root:root
ec_dir ${ETCD_PKI_DIR} 0750 root:etcd
ec_dir ${etcd.dataDir} 0700 etcd:etcd
data=${etcd.dataDir}
self_peer=${peerUrl(h, etcd)}
member_name=${h.name}
state=
if [ ! -d "$data/member" ]; then
  state=new
  initial=
  others=${others.join(",")}
  joined=
  # the cluster runs without this member when any other member is healthy (health needs a quorum): join it
  for ep in ${others}; do
    if ${ETCDCTL_WRAPPER} --endpoints="$ep" --command-timeout=5s endpoint health >/dev/null 2>&1; then joined=$ep; break; fi
  done
  if [ -n "$joined" ]; then
    # (re)join it as an existing member: \`member add\` before the first start
    state=existing
    listed=$(${ETCDCTL_WRAPPER} --endpoints="$others" member list | awk -F', ' -v u="$self_peer" '$4 == u { print $1 " " ($5 == "" ? "unstarted" : "started") }')
    id=\${listed%% *}
    status=\${listed#* }
    # a member of the initial cluster that never ran is listed with its name but without client URLs
    if [ -n "$id" ] && [ "$status" = started ]; then
      ec_log "member $member_name lost its data; replacing its membership"
      ${ETCDCTL_WRAPPER} --endpoints="$others" member remove "$id" >/dev/null
      listed=""
    fi
    if [ -z "$listed" ]; then
      # right after a remove (or while an added member starts) etcd refuses an add ("unhealthy cluster") for a while
      ec_retry 30 2 ${ETCDCTL_WRAPPER} --endpoints="$others" member add "$member_name" --peer-urls="$self_peer" >/dev/null
      ec_log "member $member_name added to the running cluster"
    fi
    # the membership as etcd has it now, this member included (unstarted, it has no name yet)
    initial=$(${ETCDCTL_WRAPPER} --endpoints="$others" member list | awk -F', ' -v u="$self_peer" -v n="$member_name" '{ print ($4 == u ? n : $3) "=" $4 }' | paste -sd, -)
  fi
  { printf 'ETCD_INITIAL_CLUSTER_STATE=%s\\n' "$state"; if [ -n "$initial" ]; then printf 'ETCD_INITIAL_CLUSTER=%s\\n' "$initial"; fi; } | base64 | ec_put ${ETCD_STATE_ENV_FILE} 0600 root:root
fi
if ec_file_changed ${`/etc/systemd/system/${ETCD_UNIT}`}; then systemctl daemon-reload; fi
if ! systemctl is-enabled --quiet ${ETCD_UNIT} 2>/dev/null; then
  systemctl enable --quiet ${ETCD_UNIT}
  ec_changed
fi
want=$(ec_fingerprint ${restartOn})
if ! systemctl is-active --quiet ${ETCD_UNIT}; then
${raw(placeBinary)}
  if [ "$state" = existing ]; then
    # a member joining a running cluster is up before the next one may be added (etcd refuses an add meanwhile)
    systemctl start ${ETCD_UNIT}
    ec_retry 60 2 ${ETCDCTL_WRAPPER} ${local} endpoint health >/dev/null
  else
    # non-blocking: the first members wait for their peers to reach quorum
    systemctl start --no-block ${ETCD_UNIT}
  fi
  ec_applied_set etcd "$want"
  ec_changed
elif [ "$(ec_applied_get etcd)" != "$want" ]; then
  # the configuration (or binary) differs from the one etcd runs with: this member's turn in the roll. Members are
  # chained: one at a time, each gated on every member's health over TLS; a failed gate stops the roll here.
  if ! ec_gate_wait ${ETCDCTL_WRAPPER} --command-timeout=5s endpoint health >/dev/null 2>&1; then
    ec_log "roll stopped before $member_name: not every member is healthy (k3s.etcd.rollGate.timeoutSeconds ${etcd.rollGate.timeoutSeconds})"
    ${ETCDCTL_WRAPPER} --command-timeout=5s endpoint health >&2 || true
    exit 1
  fi
${raw(versionGuard)}  # a snapshot of this member before it goes down
  mkdir -p ${etcd.snapshot.dir}
  snap=${`${etcd.snapshot.dir}/pre-roll-${h.name}-`}$(date -u +%Y%m%dT%H%M%SZ).db
  ${ETCDCTL_WRAPPER} ${local} snapshot save "$snap.part" >/dev/null
  mv -f "$snap.part" "$snap"
  ec_log "snapshot before restarting $member_name: $snap"
  find ${etcd.snapshot.dir} -maxdepth 1 -name ${`pre-roll-${h.name}-*.db`} -printf '%f\\n' | sort -r | tail -n +4 | while read -r old; do rm -f ${etcd.snapshot.dir}/"$old"; done
  # the leader rolls last: a leader with members still to roll hands leadership to one of them first
  later=(${later})
  if [ "\${#later[@]}" -gt 0 ] && [ "$(${ETCDCTL_WRAPPER} ${local} endpoint status | awk -F', ' '{ print $5 }')" = true ]; then
    for n in "\${later[@]}"; do
      id=$(${ETCDCTL_WRAPPER} member list | awk -F', ' -v n="$n" '$3 == n && $2 == "started" { print $1 }')
      if [ -n "$id" ] && ${ETCDCTL_WRAPPER} ${local} move-leader "$id" >/dev/null; then
        ec_log "leadership moved from $member_name to $n before the restart"
        break
      fi
    done
  fi
${raw(placeBinary)}
  systemctl restart ${ETCD_UNIT}
  if ! ec_gate_wait ${ETCDCTL_WRAPPER} ${local} --command-timeout=5s endpoint health >/dev/null 2>&1; then
    ec_log "roll stopped after $member_name: it is not healthy after its restart (k3s.etcd.rollGate.timeoutSeconds ${etcd.rollGate.timeoutSeconds})"
    journalctl -u ${ETCD_UNIT} -n 20 --no-pager >&2 || true
    exit 1
  fi
  if ! ec_gate_wait ${ETCDCTL_WRAPPER} --command-timeout=5s endpoint health >/dev/null 2>&1; then
    ec_log "roll stopped after $member_name: not every member is healthy again (k3s.etcd.rollGate.timeoutSeconds ${etcd.rollGate.timeoutSeconds})"
    ${ETCDCTL_WRAPPER} --command-timeout=5s endpoint health >&2 || true
    exit 1
  fi
  ec_log "$member_name runs $(${ETCDCTL_WRAPPER} ${local} endpoint status | awk -F', ' '{ print $3 }')"${raw(prune)}
  ec_applied_set etcd "$want"
  ec_changed
fi`;
  const deleteScript = sh`if systemctl is-active --quiet ${ETCD_UNIT} && [ -x ${ETCDCTL_WRAPPER} ]; then
  others=${others.join(",")}
  id=$(${ETCDCTL_WRAPPER} member list 2>/dev/null | awk -F', ' -v u=${peerUrl(h, etcd)} '$4 == u { print $1 }' || true)
  count=$(${ETCDCTL_WRAPPER} member list 2>/dev/null | wc -l || echo 0)
  if [ -n "$id" ] && [ "$count" -gt 1 ] && [ -n "$others" ]; then
    # leave the cluster cleanly so the remaining members keep quorum
    ${ETCDCTL_WRAPPER} --endpoints="$others" member remove "$id" >/dev/null || ec_log ${`could not remove member ${h.name}`}
    ec_changed
  fi
fi
ec_unit_remove ${ETCD_UNIT}
ec_rm ${etcd.dataDir} ${ETCD_PKI_DIR} ${ETCD_ENV_FILE} ${ETCD_CLUSTER_ENV_FILE} ${ETCD_STATE_ENV_FILE} ${ETCDCTL_WRAPPER} /var/lib/edgecloud/applied/etcd
systemctl reset-failed ${ETCD_UNIT} 2>/dev/null || true
ec_rmdir_empty /etc/etcd /var/lib/edgecloud/applied /var/lib/edgecloud`;
  return hostStep({
    host: h.name,
    name: "etcd-member",
    component: COMPONENT,
    script,
    files,
    deleteScript,
    dependsOn: p.dependsOn,
  });
}
