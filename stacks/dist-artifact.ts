/**
 * A file a component hands its user through synth's output, besides host steps and manifests: e.g. an edge pool's
 * join bundle, which no host of the environment runs (the pool's machines fetch it). Written by
 * {@link writeDist} under `dist/<env>/<path>`.
 */
export interface DistArtifact {
  /** Relative to the environment's output directory, `/`-separated, no `.` or `..` segment: `edge-pools/plant-a/user-data`. */
  readonly path: string;
  readonly content: string;
  /** File mode. A secret artifact must be 0600 or stricter (no group or other bit). */
  readonly mode: number;
  /** It holds a credential: counted as secret in the summary. */
  readonly secret: boolean;
}

/** The problem with an artifact's path or mode, or undefined: a component's bug, not the user's input. */
export function artifactProblem(a: DistArtifact): string | undefined {
  const segments = a.path.split("/");
  if (a.path.startsWith("/") || segments.some((s) => s === "" || s === "." || s === ".."))
    return `artifact path "${a.path}" must be relative, without empty, "." or ".." segments`;
  if (a.secret && (a.mode & 0o077) !== 0)
    return `artifact "${a.path}" holds a secret; mode ${a.mode.toString(8)} must have no group or other bit`;
  return undefined;
}
