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
