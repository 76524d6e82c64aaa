import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type AnySchemaObject, type ValidateFunction } from "ajv";

/** The Kubernetes release whose OpenAPI schema is bundled (see `scripts/gen-k8s-schema.ts`). */
export const KUBERNETES_SCHEMA_VERSION = "v1.32";

/** Where the generated schema lives; the package build must copy it next to the compiled `.js`. */
export const K8S_SCHEMA_FILE = join(__dirname, "schema", "k8s-v1.32.json");

const SCHEMA_ID = "k8s";
const QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity";
/** ObjectMeta as an ajv reference; custom resources are checked against it too. */
export const OBJECT_META_REF = `${SCHEMA_ID}#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`;

interface GeneratedSchema {
  readonly kubernetesVersion: string;
  readonly scopes: Readonly<Record<string, "Namespaced" | "Cluster">>;
  readonly definitions: Readonly<Record<string, RawSchema>>;
}

interface RawSchema {
  readonly type?: string;
  readonly format?: string;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly items?: RawSchema;
  readonly properties?: Readonly<Record<string, RawSchema>>;
  readonly additionalProperties?: RawSchema | boolean;
  readonly $ref?: string;
  readonly "x-kubernetes-group-version-kind"?: readonly { group: string; version: string; kind: string }[];
  readonly "x-kubernetes-int-or-string"?: boolean;
}

/** What the bundled schema knows about a built-in kind. */
export interface BuiltinKind {
  /** e.g. `io.k8s.api.apps.v1.Deployment` */
  readonly definition: string;
  /** @default - undefined for kinds that are not REST resources (e.g. `Status`, `DeleteOptions`) */
  readonly scope?: "Namespaced" | "Cluster";
}

// `1`, `0.5`, `500m`, `128Mi`, `1e3`, `+1.5G`: resource.Quantity's grammar
const QUANTITY_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[mkMGTPE]|[eE][+-]?\d+)?$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** The bundled schema compiled on demand: one ajv instance, one validator per definition, built when first needed. */
export class K8sSchema {
  readonly ajv: Ajv;
  private readonly kinds = new Map<string, BuiltinKind>();
  private readonly servedAs = new Map<string, string[]>();
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(generated: GeneratedSchema) {
    this.ajv = new Ajv({
      allErrors: true,
      strict: false,
      allowUnionTypes: true,
      validateSchema: false,
      unicodeRegExp: false,
    });
    this.ajv.addFormat("quantity", { type: "string", validate: (s: string) => QUANTITY_RE.test(s) });
    this.ajv.addFormat("byte", { type: "string", validate: (s: string) => BASE64_RE.test(s) });
    this.ajv.addFormat("date-time", { type: "string", validate: (s: string) => DATE_TIME_RE.test(s) });
    this.ajv.addFormat("int32", { type: "number", validate: (n: number) => n >= -2147483648 && n <= 2147483647 });
    const definitions: Record<string, AnySchemaObject> = {};
    for (const [name, raw] of Object.entries(generated.definitions)) {
      definitions[name] = name === QUANTITY ? { type: ["string", "number"], format: "quantity" } : strictBuiltin(raw);
      for (const gvk of raw["x-kubernetes-group-version-kind"] ?? []) {
        const apiVersion = gvk.group === "" ? gvk.version : `${gvk.group}/${gvk.version}`;
        const key = `${apiVersion}/${gvk.kind}`;
        if (this.kinds.has(key)) continue;
        this.kinds.set(key, { definition: name, scope: generated.scopes[key] });
        if (generated.scopes[key] !== undefined)
          this.servedAs.set(gvk.kind, [...(this.servedAs.get(gvk.kind) ?? []), apiVersion]);
      }
    }
    this.ajv.addSchema({ $id: SCHEMA_ID, definitions });
  }

  /** The built-in kind for `apiVersion` + `kind`, or undefined when Kubernetes v1.32 has no such kind. */
  kind(apiVersion: string, kind: string): BuiltinKind | undefined {
    return this.kinds.get(`${apiVersion}/${kind}`);
  }

  /** The apiVersions under which Kubernetes serves a built-in resource kind, e.g. `["apps/v1"]` for Deployment. */
  apiVersionsOf(kind: string): readonly string[] {
    return this.servedAs.get(kind) ?? [];
  }

  /** The (cached) validator of a definition, e.g. `io.k8s.api.apps.v1.Deployment`. */
  validator(definition: string): ValidateFunction {
    let v = this.validators.get(definition);
    if (v === undefined) {
      v = this.ajv.getSchema(`${SCHEMA_ID}#/definitions/${definition}`);
      if (v === undefined)
        throw new Error(`no definition ${definition} in the Kubernetes ${KUBERNETES_SCHEMA_VERSION} schema`);
      this.validators.set(definition, v);
    }
    return v;
  }
}

let loaded: K8sSchema | undefined;

/** The bundled Kubernetes schema, read from disk on first use. */
export function k8sSchema(): K8sSchema {
  loaded ??= new K8sSchema(JSON.parse(readFileSync(K8S_SCHEMA_FILE, "utf8")) as GeneratedSchema);
  return loaded;
}

/**
 * What Kubernetes v1.32 knows about `apiVersion` + `kind` (its schema definition and whether it is namespaced), or
 * undefined when it is not a built-in kind.
 */
export function builtinKind(apiVersion: string, kind: string): BuiltinKind | undefined {
  return k8sSchema().kind(apiVersion, kind);
}

/**
 * A built-in definition as strict JSON Schema: an object with `properties` and no `additionalProperties` rejects
 * other fields; int-or-string accepts an integer or a string; Go-only formats (int64, double) are dropped.
 */
function strictBuiltin(raw: RawSchema): AnySchemaObject {
  if (raw.$ref !== undefined) return { $ref: raw.$ref };
  if (raw["x-kubernetes-int-or-string"] === true || raw.format === "int-or-string")
    return { type: ["integer", "string"] };
  const out: AnySchemaObject = {};
  if (raw.type !== undefined) out.type = raw.type;
  if (raw.format === "byte" || raw.format === "date-time" || raw.format === "int32") out.format = raw.format;
  if (raw.enum !== undefined) out.enum = raw.enum;
  if (raw.required !== undefined) out.required = raw.required;
  if (raw.items !== undefined) out.items = strictBuiltin(raw.items);
  if (raw.properties !== undefined) {
    const properties: Record<string, AnySchemaObject> = {};
    for (const [name, p] of Object.entries(raw.properties)) properties[name] = strictBuiltin(p);
    out.properties = properties;
  }
  if (raw.additionalProperties !== undefined) {
    out.additionalProperties =
      typeof raw.additionalProperties === "boolean"
        ? raw.additionalProperties
        : strictBuiltin(raw.additionalProperties);
  } else if (raw.properties !== undefined) {
    out.additionalProperties = false;
  }
  return out;
}
