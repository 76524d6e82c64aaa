import { z } from "zod";

/**
 * Directories a step must never own, chown, wipe, format or mount over: the filesystem hierarchy itself
 * (FHS 3.0 top-level directories and the /usr and /var directories packages and the init system live in).
 */
export const SYSTEM_DIRECTORIES: readonly string[] = [
  "/",
  "/bin",
  "/boot",
  "/dev",
  "/etc",
  "/home",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/media",
  "/mnt",
  "/opt",
  "/proc",
  "/root",
  "/run",
  "/sbin",
  "/srv",
  "/sys",
  "/tmp",
  "/usr",
  "/usr/bin",
  "/usr/include",
  "/usr/lib",
  "/usr/lib64",
  "/usr/libexec",
  "/usr/local",
  "/usr/local/bin",
  "/usr/local/lib",
  "/usr/local/sbin",
  "/usr/sbin",
  "/usr/share",
  "/usr/src",
  "/var",
  "/var/backups",
  "/var/cache",
  "/var/lib",
  "/var/local",
  "/var/lock",
  "/var/log",
  "/var/mail",
  "/var/opt",
  "/var/run",
  "/var/spool",
  "/var/tmp",
  "/etc/systemd",
  "/etc/systemd/system",
];

/** Virtual or boot filesystems: nothing below them is data a step may own. */
const VIRTUAL_TREES = ["/proc", "/sys", "/dev", "/boot", "/run"];

/** Characters a path segment may hold: letters, digits and `. _ - + @ % , = :` (no spaces, quotes or shell syntax). */
const SEGMENT = /^[A-Za-z0-9._+@%,=:-]+$/;

/**
 * Why `v` is not an absolute, normalized path (undefined when it is): starts with `/`, no empty, `.` or `..`
 * segments, no trailing `/`, only {@link SEGMENT} characters, at most 4096 bytes (PATH_MAX).
 */
export function pathProblem(v: string): string | undefined {
  if (!v.startsWith("/")) return "must be an absolute path (starting with /)";
  if (v.length > 4096) return "is longer than 4096 characters (PATH_MAX)";
  if (v === "/") return undefined;
  const segs = v.slice(1).split("/");
  if (segs.includes("..")) return 'must not contain ".." segments';
  if (segs.includes(".")) return 'must not contain "." segments';
  if (segs.some((s) => s === "")) return 'must be normalized (no "//" and no trailing "/")';
  const bad = segs.find((s) => !SEGMENT.test(s));
  if (bad !== undefined) return "may only contain A-Z a-z 0-9 and . _ - + @ % , = : between slashes";
  return undefined;
}

/** Why a directory the library owns (creates, chowns, wipes on delete, mounts over) may not be `v`. */
export function ownedPathProblem(v: string): string | undefined {
  const p = pathProblem(v);
  if (p) return p;
  if (SYSTEM_DIRECTORIES.includes(v))
    return `is the system directory ${v}; edgecloud owns, chowns and removes this directory, so it must be a directory of its own below one (e.g. ${v === "/" ? "/srv" : v}/edgecloud-…)`;
  const tree = VIRTUAL_TREES.find((t) => v.startsWith(`${t}/`));
  if (tree) return `is below ${tree}, which holds no data of its own (kernel, boot or runtime filesystem)`;
  return undefined;
}

/** An absolute normalized path of a file or directory the library only reads (a kubeconfig, a pre-staged tarball). */
export const absolutePath = z.string().superRefine((v, ctx) => {
  const p = pathProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});

/**
 * A directory the library creates, owns, chowns, removes on delete or mounts over: an {@link absolutePath} that is
 * none of {@link SYSTEM_DIRECTORIES} nor below /proc, /sys, /dev, /boot or /run.
 */
export const ownedPath = z.string().superRefine((v, ctx) => {
  const p = ownedPathProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});

/** A block device: `/dev/<name>` or `/dev/disk/by-id/<name>`, normalized. */
export const blockDevice = z.string().superRefine((v, ctx) => {
  const p = pathProblem(v);
  if (p || !/^\/dev\/[A-Za-z0-9][A-Za-z0-9._/:+-]*$/.test(v))
    ctx.addIssue({ code: "custom", message: "must be a block device path such as /dev/vdb or /dev/disk/by-id/..." });
});

/** A single file or directory name: no `/`, not `.` or `..`, no leading `-`, safe characters only. */
export function nameSegmentProblem(v: string): string | undefined {
  if (v === "" || v === "." || v === "..") return "must be a file name (not empty, . or ..)";
  if (v.startsWith("-")) return 'must not start with "-"';
  if (!SEGMENT.test(v)) return "may only contain A-Z a-z 0-9 and . _ - + @ % , = :";
  return undefined;
}

/** A relative path that stays inside its base: segments as {@link nameSegmentProblem}, no `..`. */
export function relativePathProblem(v: string): string | undefined {
  if (v.startsWith("/")) return "must be a relative path";
  for (const s of v.split("/")) {
    const p = nameSegmentProblem(s);
    if (p) return s === ".." ? 'must not contain ".." segments' : `segment ${JSON.stringify(s)} ${p}`;
  }
  return undefined;
}
