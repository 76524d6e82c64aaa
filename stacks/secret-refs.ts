import { randomBytes } from "crypto";

/**
 * Secrets in environment files are references, never values: `password: { secret: registry-admin-password }`.
 * The stack program resolves a reference to secret stack config (`pulumi config set --secret
 * edgecloud:registry-admin-password …`); synth resolves it to `EDGECLOUD_SECRET_REGISTRY_ADMIN_PASSWORD` when set,
 * else to a value generated for the run.
 */
export interface SecretRef {
  readonly secret: string;
}

export function isSecretRef(v: unknown): v is SecretRef {
  return (
    v !== null &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    typeof (v as SecretRef).secret === "string"
  );
}

/** Replaces every `{ secret: name }` in a parsed environment (deep copy); `resolve` is called once per distinct name. */
export function resolveSecretRefs(raw: unknown, resolve: (name: string) => unknown): unknown {
  const cache = new Map<string, unknown>();
  const walk = (v: unknown): unknown => {
    if (isSecretRef(v)) {
      if (!cache.has(v.secret)) cache.set(v.secret, resolve(v.secret));
      return cache.get(v.secret);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(raw);
}

/** Every secret name an environment refers to, in order of appearance. */
export function secretRefNames(raw: unknown): string[] {
  const names = new Set<string>();
  resolveSecretRefs(raw, (n) => (names.add(n), undefined));
  return [...names];
}

/** `registry-admin-password` → `EDGECLOUD_SECRET_REGISTRY_ADMIN_PASSWORD`. */
export function secretEnvVar(name: string): string {
  return `EDGECLOUD_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * The synth resolver: `EDGECLOUD_SECRET_<NAME>` when set, else a random value for this run (its name recorded in
 * `generated`); with `placeholder`, the fixed string `<secret:name>`.
 */
export function synthSecretResolver(
  kind: "generated" | "placeholder",
  generated: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): (name: string) => string {
  return (name) => {
    if (kind === "placeholder") return `<secret:${name}>`;
    const given = env[secretEnvVar(name)];
    if (given !== undefined && given !== "") return given;
    generated.push(name);
    return randomBytes(18).toString("base64url");
  };
}

/** Every reference with the field path it sits at (`registry.auth.users[0].password`). */
export function findSecretRefs(raw: unknown, path = ""): { path: string; name: string }[] {
  if (isSecretRef(raw)) return [{ path, name: raw.secret }];
  if (Array.isArray(raw)) return raw.flatMap((v, i) => findSecretRefs(v, `${path}[${i}]`));
  if (raw !== null && typeof raw === "object")
    return Object.entries(raw).flatMap(([k, v]) => findSecretRefs(v, path ? `${path}.${k}` : k));
  return [];
}
