/** A mapping (not an array or null) as a record, or undefined: for reading raw, unvalidated input. */
export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
