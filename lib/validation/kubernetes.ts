import { z } from "zod";

// Kubernetes apimachinery (v1.32) pkg/util/validation/validation.go: IsQualifiedName, IsValidLabelValue,
// IsDNS1123Label, IsDNS1123Subdomain; taint effects from k8s.io/api core/v1 types.go TaintEffect.

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** RFC 1123 DNS label (lowercase, at most 63): names of namespaces, services, hosts. */
export function isDns1123Label(v: string): boolean {
  return v.length <= 63 && DNS1123_LABEL.test(v);
}

/** RFC 1123 DNS subdomain (lowercase labels joined by `.`, at most 253). */
export function isDns1123Subdomain(v: string): boolean {
  return v.length <= 253 && v.split(".").every(isDns1123Label);
}

/** Why `v` is not a qualified name (`[prefix/]name`, the form of label, annotation and taint keys). */
export function qualifiedNameProblem(v: string): string | undefined {
  const parts = v.split("/");
  if (parts.length > 2) return "must be [prefix/]name with at most one /";
  const name = parts[parts.length - 1];
  if (parts.length === 2 && !isDns1123Subdomain(parts[0]))
    return "has a prefix that is not a lowercase DNS subdomain (at most 253 characters)";
  if (name.length === 0 || name.length > 63 || !NAME.test(name))
    return "must have a name part of at most 63 characters A-Z a-z 0-9 - _ . that starts and ends alphanumeric";
  return undefined;
}

/** Why `v` is not a label value (empty, or at most 63 characters A-Z a-z 0-9 - _ . alphanumeric at both ends). */
export function labelValueProblem(v: string): string | undefined {
  if (v === "") return undefined;
  if (v.length > 63 || !NAME.test(v))
    return "must be empty or at most 63 characters A-Z a-z 0-9 - _ . that start and end alphanumeric";
  return undefined;
}

/** A lowercase DNS label (at most 63). */
export const dnsLabel = z
  .string()
  .refine(isDns1123Label, "must be a lowercase DNS label (a-z, 0-9, '-', at most 63 characters)");

/** A lowercase DNS subdomain (at most 253). */
export const dnsSubdomain = z
  .string()
  .refine(isDns1123Subdomain, "must be a lowercase DNS name (labels of a-z, 0-9, '-' joined by '.')");

/** A label, annotation or taint key. */
export const qualifiedName = z.string().superRefine((v, ctx) => {
  const p = qualifiedNameProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});

/** A label value. */
export const labelValue = z.string().superRefine((v, ctx) => {
  const p = labelValueProblem(v);
  if (p) ctx.addIssue({ code: "custom", message: p });
});

/** Labels: qualified-name keys, label values. A bad key is reported under the key's own path. */
export const labels = z.record(z.string(), labelValue).superRefine((o, ctx) => {
  for (const k of Object.keys(o)) {
    const p = qualifiedNameProblem(k);
    if (p) ctx.addIssue({ code: "custom", path: [k], input: k, message: `is not a valid label key: ${p}` });
  }
});

export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

/** `key[=value]:Effect` (the `kubectl taint` and K3s `--node-taint` form). */
export const taint = z.string().superRefine((v, ctx) => {
  const m = /^([^=:]+)(?:=([^:]*))?:([A-Za-z]+)$/.exec(v);
  const problem = !m
    ? "must be key[=value]:NoSchedule|PreferNoSchedule|NoExecute"
    : (qualifiedNameProblem(m[1]) ??
      (m[2] !== undefined ? labelValueProblem(m[2]) : undefined) ??
      ((TAINT_EFFECTS as readonly string[]).includes(m[3])
        ? undefined
        : `has the effect ${m[3]}; allowed: ${TAINT_EFFECTS.join(", ")}`));
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/**
 * A container image reference `[registry[:port]/]path[:tag][@sha256:digest]` (distribution/reference grammar,
 * lowercase repository path).
 */
export const imageReference = z
  .string()
  .regex(
    /^(?:(?:(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]+(?::\d{1,5})?|[A-Za-z0-9-]+:\d{1,5}|localhost(?::\d{1,5})?)\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/,
    "must be an image reference such as ghcr.io/kube-vip/kube-vip:v0.8.9",
  );

/** An image repository without tag or digest (`docker.io/library/registry`). */
export const imageRepository = z
  .string()
  .regex(
    /^(?:(?:(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]+(?::\d{1,5})?|[A-Za-z0-9-]+:\d{1,5}|localhost(?::\d{1,5})?)\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/,
    "must be an image repository without tag such as docker.io/library/registry",
  );

/** A Linux network interface name (IFNAMSIZ 16: at most 15 characters, no `/`, whitespace or `:`). */
export const interfaceName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, "must be a network interface name such as eth0 (at most 15 characters)");
