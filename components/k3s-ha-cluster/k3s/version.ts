/** A parsed K3s version such as `v1.31.4+k3s1`. */
export interface K3sVersion {
  readonly raw: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

export const K3S_VERSION_PATTERN = /^v(\d+)\.(\d+)\.(\d+)\+k3s(\d+)$/;

export function parseK3sVersion(v: string): K3sVersion | undefined {
  const m = K3S_VERSION_PATTERN.exec(v);
  return m ? { raw: v, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** True when `v` is at least `major.minor`. */
export function atLeast(v: K3sVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** The default pinned K3s release. */
export const DEFAULT_K3S_VERSION = "v1.31.4+k3s1";
/** The default pinned etcd release (K3s certifies external etcd against v3.5.x). */
export const DEFAULT_ETCD_VERSION = "v3.5.17";

/**
 * K3s releases edgecloud knows (the default and its patch-level siblings of December 2024, the last 1.28 and the
 * last 1.25 patch); anything newer is written `{ unlisted: "v1.33.1+k3s1" }`.
 * // k3s-io/docs docs/cli/etcd-snapshot.md "GA as of December 2024 releases: v1.29.12+k3s1, v1.30.8+k3s1, v1.31.4+k3s1"
 */
export const K3S_RELEASES = [
  "v1.31.4+k3s1",
  "v1.30.8+k3s1",
  "v1.29.12+k3s1",
  "v1.28.15+k3s1",
  "v1.25.16+k3s4",
] as const;

/**
 * etcd releases edgecloud knows (v3.5.x, which K3s certifies for external etcd); newer ones as `{ unlisted }`.
 * // etcd-io/etcd tags v3.5.15 … v3.5.21; scripts/release.sh at v3.5.17 publishes SHA256SUMS next to the tarballs
 */
export const ETCD_RELEASES = ["v3.5.15", "v3.5.16", "v3.5.17", "v3.5.18", "v3.5.19", "v3.5.20", "v3.5.21"] as const;
