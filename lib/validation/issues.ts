import type { z } from "zod";

/** One problem with the input: where, what was given, what is allowed. */
export interface ValidationIssue {
  /** e.g. `hosts[2].name` */
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
}

/** Thrown once with every problem found; nothing has been created when it is thrown. */
export class ValidationError extends Error {
  constructor(
    readonly issues: readonly ValidationIssue[],
    context = "invalid configuration",
  ) {
    super(
      `${context}: ${issues.length} problem${issues.length === 1 ? "" : "s"}\n${issues.map((i) => `  - ${formatIssue(i)}`).join("\n")}`,
    );
    this.name = "ValidationError";
  }
}

export function formatIssue(i: ValidationIssue): string {
  return i.value === undefined ? `${i.path}: ${i.message}` : `${i.path} ${renderValue(i.value)} ${i.message}`;
}

function renderValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v !== null && typeof v === "object") {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  }
  return String(v);
}

/** Joins path segments the way users write them: `hosts[2].ssh.port`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((acc, s) => {
    if (typeof s === "number") return `${acc}[${s}]`;
    const k = String(s);
    return acc === "" ? k : `${acc}.${k}`;
  }, "");
}

/** Collects issues across all checks, then throws them together. */
export class IssueCollector {
  private readonly list: ValidationIssue[] = [];

  add(path: string, value: unknown, message: string): void {
    this.list.push({ path, value, message });
  }

  get issues(): readonly ValidationIssue[] {
    return this.list;
  }

  get ok(): boolean {
    return this.list.length === 0;
  }

  throwIfAny(context?: string): void {
    if (this.list.length > 0) throw new ValidationError(this.list, context);
  }
}

/**
 * Parses `input` with a zod schema; on failure records each zod issue (path, the value found there, what is
 * allowed) under `base` and returns undefined.
 */
export function parseInto<S extends z.ZodType>(
  schema: S,
  input: unknown,
  issues: IssueCollector,
  base = "",
): z.output<S> | undefined {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  for (const zi of r.error.issues) {
    const segs = [...(base ? [base] : []), ...zi.path];
    const value = valueAt(input, zi.path);
    issues.add(
      formatPath(segs as PropertyKey[]),
      zi.code === "unrecognized_keys" ? undefined : value,
      describeZodIssue(zi, value),
    );
  }
  return undefined;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** The type of a parsed YAML/JSON value as a user reads it: string, number, boolean, null, list, mapping. */
export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return typeof v === "bigint" ? "number" : typeof v;
}

function expectedName(expected: string): string {
  return expected === "object" ? "a mapping" : expected === "array" ? "a list" : expected;
}

function describeZodIssue(zi: z.core.$ZodIssue, value: unknown): string {
  switch (zi.code) {
    case "invalid_value":
      if (!zi.message.startsWith("Invalid")) return zi.message;
      return `is not allowed; allowed: ${zi.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_type":
      return value === undefined
        ? `is required (${expectedName(zi.expected)})`
        : `must be ${expectedName(zi.expected)}, not ${typeName(value)}`;
    case "unrecognized_keys":
      return `unknown field${zi.keys.length > 1 ? "s" : ""} ${zi.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    case "invalid_union":
      return `matches none of the allowed shapes${zi.message ? ` (${zi.message})` : ""}`;
    case "too_small":
      return `must be ${zi.inclusive === false ? ">" : ">="} ${String(zi.minimum)}${zi.origin === "string" ? " characters" : zi.origin === "array" ? " items" : ""}`;
    case "too_big":
      return `must be ${zi.inclusive === false ? "<" : "<="} ${String(zi.maximum)}${zi.origin === "string" ? " characters" : zi.origin === "array" ? " items" : ""}`;
    default:
      return zi.message;
  }
}
