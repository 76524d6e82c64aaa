import type { z } from "zod";

/**
 * Every string-valued field of a zod schema, as a path: `.field`, `[]` for list items, `{}` for record values,
 * `{key}` for record keys, `<kind=value>` for the variant of a discriminated union that holds the field.
 */
export function stringFields(schema: z.ZodType, base = ""): string[] {
  const out = new Set<string>();
  walk(schema, base, out, 0);
  return [...out].sort();
}

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  in?: z.ZodType;
  out?: z.ZodType;
}

function def(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** The value of a variant's discriminator literal. */
function literal(o: z.ZodType, key: string): string {
  let d = def(o);
  while (!d.shape && (d.innerType || d.in)) d = def((d.innerType ?? d.in)!);
  let l = def(d.shape![key]!) as Def & { values?: unknown[] };
  while (!l.values && l.innerType) l = def(l.innerType) as Def & { values?: unknown[] };
  return String(l.values?.[0]);
}

function walk(s: z.ZodType, path: string, out: Set<string>, depth: number): void {
  if (depth > 30) return;
  const d = def(s);
  switch (d.type) {
    case "string":
      out.add(path);
      return;
    case "object":
      for (const [k, v] of Object.entries(d.shape!)) walk(v, `${path}.${k}`, out, depth + 1);
      return;
    case "array":
      walk(d.element!, `${path}[]`, out, depth + 1);
      return;
    case "record":
      if (def(d.keyType!).type === "string") out.add(`${path}{key}`);
      walk(d.valueType!, `${path}{}`, out, depth + 1);
      return;
    case "optional":
    case "default":
    case "prefault":
    case "nullable":
    case "readonly":
    case "catch":
      walk(d.innerType!, path, out, depth + 1);
      return;
    case "pipe":
      walk(d.in!, path, out, depth + 1);
      return;
    case "union":
      if (d.discriminator) {
        for (const o of d.options!) {
          walk(o, `${path}<${d.discriminator}=${literal(o, d.discriminator)}>`, out, depth + 1);
        }
      } else for (const o of d.options!) walk(o, path, out, depth + 1);
      return;
    default:
      return; // numbers, booleans, literals, enums, custom (Outputs): not free strings
  }
}
