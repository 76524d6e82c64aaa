import { z } from "zod";

/**
 * A login name: starts with a letter or `_`, then letters, digits, `_ . -`, at most 32 characters (the
 * shadow-utils useradd limit), optionally ending in `$` (machine accounts). Never starts with `-`.
 */
export const sshUser = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/,
    "must be a user name: a letter or _ first, then A-Z a-z 0-9 _ . - (at most 32 characters)",
  );

// OpenSSH 9.x sshkey.c keytypes[]: the public key types a known_hosts / authorized_keys line may carry.
export const SSH_KEY_TYPES = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
] as const;

/**
 * Why `v` is not one OpenSSH public key line `type base64 [comment]` (the `.pub` file format, undefined when it
 * is): a known type, base64 whose decoded blob names that same type, an optional comment without control characters.
 */
export function publicKeyProblem(v: string): string | undefined {
  const usage =
    "must be one OpenSSH public key line: type base64 [comment], e.g. the content of ssh_host_ed25519_key.pub";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v.replace(/\n$/, ""))) return `${usage} (no newlines or control characters)`;
  const m = /^(\S+) ([A-Za-z0-9+/]+={0,2})(?: ([^\n]*))?\n?$/.exec(v);
  if (!m) return usage;
  if (!(SSH_KEY_TYPES as readonly string[]).includes(m[1]))
    return `has the key type ${m[1]}; allowed: ${SSH_KEY_TYPES.join(", ")}`;
  const blob = Buffer.from(m[2], "base64");
  const len = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (len < 0 || blob.length < 4 + len || blob.subarray(4, 4 + len).toString("latin1") !== m[1])
    return `has a base64 part that is not a ${m[1]} key`;
  return undefined;
}

/** An OpenSSH public key line, comment allowed. */
export const publicKeyLine = z.string().superRefine((v, ctx) => {
  const p = publicKeyProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});

/** `type base64` of a public key line: the comment dropped (what known_hosts matching compares). */
export function publicKeyWithoutComment(line: string): string {
  return line.trim().split(" ").slice(0, 2).join(" ");
}
