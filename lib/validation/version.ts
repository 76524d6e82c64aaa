import { z } from "zod";

/**
 * A release version checked against the releases the library knows: one of `known`, or — for a newer release the
 * library has no data for yet — the typed escape hatch `{ unlisted: "<version>" }`, which must still match
 * `pattern`. The output is the version string either way.
 */
export function knownVersion(
  known: readonly string[],
  what: string,
  pattern: RegExp,
): z.ZodType<string, string | { unlisted: string }> {
  return z
    .union([z.string(), z.strictObject({ unlisted: z.string() })], {
      message: `must be a ${what} version string or { unlisted: "<version>" }`,
    })
    .superRefine((v, ctx) => {
      if (typeof v === "string") {
        if (!known.includes(v))
          ctx.addIssue({
            code: "custom",
            message: `is not a ${what} release edgecloud knows (${known.join(", ")}); for a newer release write { unlisted: "${pattern.test(v) ? v : "<version>"}" }`,
          });
      } else if (!pattern.test(v.unlisted)) {
        ctx.addIssue({
          code: "custom",
          path: ["unlisted"],
          input: v.unlisted,
          message: `must look like a ${what} release (${pattern.source})`,
        });
      }
    })
    .transform((v) => (typeof v === "string" ? v : v.unlisted)) as unknown as z.ZodType<
    string,
    string | { unlisted: string }
  >;
}
