import { z } from "zod";
import { ipVersion, isDnsName } from "./net";

/** RFC 3986 characters a URL may hold as written (no spaces, quotes, backslashes, control characters or `<>{}|^\``). */
const URL_CHARS = /^[A-Za-z0-9._~:/?#[\]@!$&()*+,;=%-]+$/;

/**
 * Why `v` is not an acceptable download or API URL (undefined when it is): `https://` (or `http://` when
 * `allowHttp`), a host that is an IP address or DNS name, no user:password part, RFC 3986 characters only.
 */
export function urlProblem(v: string, allowHttp: boolean): string | undefined {
  const allowed = allowHttp ? "https:// or http://" : "https://";
  if (!URL_CHARS.test(v)) return `must be a URL (${allowed}) of RFC 3986 characters (no spaces, quotes or backslashes)`;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return `must be a URL such as https://example.com/path`;
  }
  if (u.protocol === "http:" && !allowHttp)
    return "uses plain http://, which anyone on the path can tamper with; use https://";
  if (u.protocol !== "https:" && u.protocol !== "http:") return `has the scheme ${u.protocol}; allowed: ${allowed}`;
  if (!v.toLowerCase().startsWith(`${u.protocol}//`)) return `must start with ${u.protocol}//`;
  if (u.username || u.password) return "must not carry credentials (user:password@); give them as a secret field";
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (ipVersion(host) === 0 && !isDnsName(host)) return "has a host that is neither an IP address nor a DNS name";
  return undefined;
}

/** An `https://` URL. */
export const httpsUrl = z.string().superRefine((v, ctx) => {
  const p = urlProblem(v, false);
  if (p) ctx.addIssue({ code: "custom", message: p });
});

/**
 * An `http://` or `https://` URL; use it only for a field whose object has a typed `insecure: true` opt-in and
 * check that with {@link requireHttpsUnlessInsecure}.
 */
export const httpOrHttpsUrl = z.string().superRefine((v, ctx) => {
  const p = urlProblem(v, true);
  if (p) ctx.addIssue({ code: "custom", message: p });
});

/** The typed opt-in for plain http: present only as `insecure: true`. */
export const insecureFlag = z
  .literal(true, { message: "must be true (it is the opt-in for plain http://); remove it otherwise" })
  .optional();

/**
 * A zod refinement for an object with a URL field and an optional `insecure: true`: `http://` only with the opt-in.
 */
export function requireHttpsUnlessInsecure<T extends { readonly insecure?: true }>(
  field: keyof T & string,
): (o: T, ctx: z.RefinementCtx) => void {
  return (o, ctx) => {
    const v = o[field];
    if (typeof v === "string" && v.toLowerCase().startsWith("http://") && o.insecure !== true)
      ctx.addIssue({
        code: "custom",
        path: [field],
        input: v,
        message: "uses plain http://, which anyone on the path can tamper with; use https://, or set insecure: true",
      });
  };
}
