import { EtcdSpec } from "../spec";

export const ETCD_UNIT = "edgecloud-etcd.service";
export const ETCD_PKI_DIR = "/etc/etcd/pki";
export const ETCD_ENV_FILE = "/etc/etcd/edgecloud-etcd.env";
export const ETCD_STATE_ENV_FILE = "/etc/etcd/edgecloud-etcd.state.env";
/**
 * `ETCD_INITIAL_CLUSTER` of the environment's members, apart from the restart fingerprint: etcd reads it only when a
 * member bootstraps (no data directory), so adding or removing members restarts none of the running ones.
 */
export const ETCD_CLUSTER_ENV_FILE = "/etc/etcd/edgecloud-etcd.cluster.env";
export const ETCDCTL_WRAPPER = "/usr/local/sbin/edgecloud-etcdctl";
/** The S3 credentials of `k3s.etcd.snapshot.s3` as a curl config file (`curl -K`), 0600 root. */
export const ETCD_S3_CURLRC = "/etc/etcd/edgecloud-etcd-s3.curlrc";
export const ETCD_LIB_DIR = "/usr/local/lib/edgecloud";

/** Where etcd-install stages each release's verified binaries (`<dir>/v3.5.17/etcd`), apart from the running one. */
export const ETCD_STAGE_DIR = "/usr/local/lib/edgecloud/etcd";

/** The staged binaries of the spec's version (release and prestaged installs). */
export function etcdStagedDir(etcd: EtcdSpec): string {
  return `${ETCD_STAGE_DIR}/${etcd.version}`;
}

/** Where the etcd binaries live for an install method. */
export function etcdBinDir(etcd: EtcdSpec): string {
  return etcd.install.kind === "distro" ? "/usr/bin" : "/usr/local/bin";
}

export const etcdPkiFile = {
  ca: `${ETCD_PKI_DIR}/ca.crt`,
  serverCert: `${ETCD_PKI_DIR}/server.crt`,
  serverKey: `${ETCD_PKI_DIR}/server.key`,
  peerCert: `${ETCD_PKI_DIR}/peer.crt`,
  peerKey: `${ETCD_PKI_DIR}/peer.key`,
  adminCert: `${ETCD_PKI_DIR}/admin.crt`,
  adminKey: `${ETCD_PKI_DIR}/admin.key`,
} as const;
