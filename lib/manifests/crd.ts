import type { AnySchemaObject } from "ajv";
import { OBJECT_META_REF } from "./k8s-schema";

/** One version of a kind defined by a CustomResourceDefinition. */
export interface CustomKindVersion {
  /** `widgets.example.com` */
  readonly crd: string;
  readonly group: string;
  readonly kind: string;
  readonly version: string;
  readonly served: boolean;
  readonly scope: "Namespaced" | "Cluster";
  /** `spec.versions[].schema.openAPIV3Schema` @default - no schema: only `metadata` is checked */
  readonly schema?: Readonly<Record<string, unknown>>;
}

/** Every version of every kind the given CustomResourceDefinitions define, keyed by `<group>/<kind>`. */
export function customKinds(crds: readonly unknown[]): Map<string, CustomKindVersion[]> {
  const byKind = new Map<string, CustomKindVersion[]>();
  for (const crd of crds) {
    const c = crd as {
      metadata?: { name?: unknown };
      spec?: { group?: unknown; scope?: unknown; names?: { kind?: unknown }; versions?: unknown };
    };
    const group = c?.spec?.group;
    const kind = c?.spec?.names?.kind;
    const versions = c?.spec?.versions;
    // a malformed CRD defines nothing; its own validation reports why
    if (typeof group !== "string" || typeof kind !== "string" || !Array.isArray(versions)) continue;
    const key = `${group}/${kind}`;
    const list = byKind.get(key) ?? [];
    for (const v of versions as { name?: unknown; served?: unknown; schema?: { openAPIV3Schema?: unknown } }[]) {
      if (typeof v?.name !== "string") continue;
      const schema = v.schema?.openAPIV3Schema;
      list.push({
        crd: typeof c.metadata?.name === "string" ? c.metadata.name : `${kind}.${group}`,
        group,
        kind,
        version: v.name,
        served: v.served === true,
        scope: c.spec?.scope === "Cluster" ? "Cluster" : "Namespaced",
        schema: schema !== null && typeof schema === "object" ? (schema as Record<string, unknown>) : undefined,
      });
    }
    byKind.set(key, list);
  }
  return byKind;
}

type Structural = Readonly<Record<string, unknown>>;

const PASSED_THROUGH = [
  "enum",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
  "multipleOf",
  "required",
] as const;
const FORMATS = new Set(["byte", "date-time", "int32"]);

/**
 * A CRD version's `openAPIV3Schema` as strict JSON Schema, the way the API server reads it: an object with
 * `properties` rejects other fields unless `x-kubernetes-preserve-unknown-fields`; `x-kubernetes-int-or-string`
 * accepts an integer or a string; `nullable` admits null; `metadata` is always ObjectMeta.
 */
export function strictCustomSchema(openAPIV3Schema: Structural): AnySchemaObject {
  const root = convert(openAPIV3Schema, false);
  const properties = { ...(root.properties as Record<string, AnySchemaObject> | undefined) };
  properties.apiVersion = { type: "string" };
  properties.kind = { type: "string" };
  properties.metadata = { $ref: OBJECT_META_REF };
  const out: AnySchemaObject = { ...root, type: "object", properties };
  if (openAPIV3Schema["x-kubernetes-preserve-unknown-fields"] !== true) out.additionalProperties = false;
  return out;
}

/** `inJunctor`: inside allOf/anyOf/oneOf/not, which may only restate fields, so they add no strictness themselves. */
function convert(s: Structural, inJunctor: boolean): AnySchemaObject {
  const out: AnySchemaObject = {};
  const nullable = s.nullable === true;
  if (s["x-kubernetes-int-or-string"] === true) {
    out.type = nullable ? ["integer", "string", "null"] : ["integer", "string"];
  } else if (typeof s.type === "string") {
    out.type = nullable ? [s.type, "null"] : s.type;
  }
  for (const k of PASSED_THROUGH) if (s[k] !== undefined) out[k] = s[k];
  if (nullable && Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  if (typeof s.format === "string" && FORMATS.has(s.format)) out.format = s.format;
  // OpenAPI 3.0 booleans → JSON Schema draft-07 numbers
  if (s.exclusiveMinimum === true && typeof s.minimum === "number") {
    out.exclusiveMinimum = s.minimum;
    delete out.minimum;
  }
  if (s.exclusiveMaximum === true && typeof s.maximum === "number") {
    out.exclusiveMaximum = s.maximum;
    delete out.maximum;
  }
  for (const j of ["allOf", "anyOf", "oneOf"] as const) {
    if (Array.isArray(s[j])) out[j] = (s[j] as Structural[]).map((b) => convert(b, true));
  }
  if (s.not !== null && typeof s.not === "object") out.not = convert(s.not as Structural, true);
  if (s.items !== null && typeof s.items === "object" && !Array.isArray(s.items))
    out.items = convert(s.items as Structural, inJunctor);

  const properties: Record<string, AnySchemaObject> = {};
  if (s.properties !== null && typeof s.properties === "object") {
    for (const [name, p] of Object.entries(s.properties as Record<string, Structural>))
      properties[name] = convert(p, inJunctor);
  }
  if (s["x-kubernetes-embedded-resource"] === true) {
    properties.apiVersion ??= { type: "string" };
    properties.kind ??= { type: "string" };
    properties.metadata = { $ref: OBJECT_META_REF };
  }
  if (Object.keys(properties).length > 0) out.properties = properties;

  if (typeof s.additionalProperties === "boolean") {
    out.additionalProperties = s.additionalProperties;
  } else if (s.additionalProperties !== null && typeof s.additionalProperties === "object") {
    out.additionalProperties = convert(s.additionalProperties as Structural, inJunctor);
  } else if (!inJunctor && s.type === "object" && s["x-kubernetes-preserve-unknown-fields"] !== true) {
    // a structural object without properties and without preserve-unknown-fields keeps no fields at all
    out.additionalProperties = false;
  }
  return out;
}
