import { encodeBase64, hashSync } from "bcryptjs";
import { createHash } from "crypto";
import { RegistryUser } from "./spec";

/** bcrypt cost of htpasswd entries. */
export const HTPASSWD_BCRYPT_COST = 10;

/**
 * An htpasswd file with bcrypt entries (the only scheme distribution accepts). The salt is derived from `seed`
 * (a secret, e.g. the registry's HTTP secret) and the user's name and password, so the same input renders the
 * same file: no diff and no restart on every run, while a changed password gets a new salt.
 */
export function renderHtpasswd(users: readonly RegistryUser[], seed: string): string {
  return users.map((u) => `${u.username}:${hashSync(u.password, deterministicSalt(seed, u))}\n`).join("");
}

function deterministicSalt(seed: string, u: RegistryUser): string {
  const digest = createHash("sha256")
    .update(JSON.stringify([seed, u.username, u.password]))
    .digest();
  return `$2b$${String(HTPASSWD_BCRYPT_COST).padStart(2, "0")}$${encodeBase64(digest.subarray(0, 16), 16)}`;
}
