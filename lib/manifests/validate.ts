import type { ErrorObject, ValidateFunction } from "ajv";
import { IssueCollector, ValidationError, type ValidationIssue } from "../validation/issues";
import { customKinds, strictCustomSchema, type CustomKindVersion } from "./crd";
import { k8sSchema, KUBERNETES_SCHEMA_VERSION, type K8sSchema } from "./k8s-schema";
import { apiGroup, apiVersionOnly, objectId, type KubeObject } from "./kube-object";

export interface ValidateObjectsOptions {
  /**
   * CustomResourceDefinitions already in the cluster (e.g. installed by another component). CRDs among the objects
   * themselves are always used.
   * @default - only the CRDs among the objects
   */
  readonly crds?: readonly KubeObject[];
}

const CRD_API_VERSION = "apiextensions.k8s.io/v1";

/**
 * Validates objects the way `kubectl apply --validate=strict` does, without a cluster: each object against the
 * Kubernetes v1.32 OpenAPI schema of its kind, or against the `openAPIV3Schema` of the CRD version that defines it.
 * An unknown field, a wrong type, a missing required field, an unknown kind or an unserved CRD version is an issue;
 * so are two objects with the same kind, namespace and name. Returns every issue; an empty array means valid.
 *
 * Issue paths read `<Kind>/<namespace>/<name> spec.template.spec.containers[0].bogus`.
 */
export function validateObjects(objects: readonly KubeObject[], opts: ValidateObjectsOptions = {}): ValidationIssue[] {
  const issues = new IssueCollector();
  collectObjectIssues(issues, objects, opts);
  return [...issues.issues];
}

/** {@link validateObjects}, then throws one {@link ValidationError} listing every issue. */
export function assertValidObjects(objects: readonly KubeObject[], opts: ValidateObjectsOptions = {}): void {
  const issues = validateObjects(objects, opts);
  if (issues.length > 0) throw new ValidationError(issues, "invalid Kubernetes objects");
}

/** {@link validateObjects} into an existing collector, to report manifest problems together with config problems. */
export function collectObjectIssues(
  issues: IssueCollector,
  objects: readonly KubeObject[],
  opts: ValidateObjectsOptions = {},
): void {
  const schema = k8sSchema();
  const crds = [
    ...(opts.crds ?? []),
    ...objects.filter((o) => o?.apiVersion === CRD_API_VERSION && o?.kind === "CustomResourceDefinition"),
  ];
  const custom = customKinds(crds);
  const seen = new Map<string, number>();

  objects.forEach((obj: unknown, index) => {
    const id = objectId(obj, index);
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
      issues.add(id, obj, "must be an object with apiVersion, kind and metadata");
      return;
    }
    const o = obj as Record<string, unknown>;
    let complete = true;
    for (const field of ["apiVersion", "kind"] as const) {
      if (typeof o[field] !== "string" || o[field] === "") {
        issues.add(`${id} ${field}`, o[field], o[field] === undefined ? "is required" : "must be a non-empty string");
        complete = false;
      }
    }
    const meta = o.metadata as Record<string, unknown> | undefined;
    if (meta !== null && typeof meta === "object" && meta.name === undefined && meta.generateName === undefined) {
      issues.add(`${id} metadata.name`, undefined, "is required");
    } else if (meta === undefined) {
      issues.add(`${id} metadata`, undefined, "is required");
    }
    if (!complete) return;
    const apiVersion = o.apiVersion as string;
    const kind = o.kind as string;

    if (meta !== null && typeof meta === "object" && typeof meta.name === "string") {
      const key = `${apiGroup(apiVersion)}/${kind}/${typeof meta.namespace === "string" ? meta.namespace : ""}/${meta.name}`;
      const first = seen.get(key);
      if (first !== undefined)
        issues.add(
          id,
          undefined,
          `is defined twice (objects[${first}] and objects[${index}]); kind, namespace and name must be unique`,
        );
      else seen.set(key, index);
    }

    const validate = resolveValidator(schema, custom, apiVersion, kind, id, issues);
    if (validate === undefined) return;
    const data = withoutNulls(o);
    if (validate(data)) return;
    for (const issue of toIssues(id, data, validate.errors ?? [])) issues.add(issue.path, issue.value, issue.message);
  });
}

function resolveValidator(
  schema: K8sSchema,
  custom: Map<string, CustomKindVersion[]>,
  apiVersion: string,
  kind: string,
  id: string,
  issues: IssueCollector,
): ValidateFunction | undefined {
  const builtin = schema.kind(apiVersion, kind);
  if (builtin !== undefined) return schema.validator(builtin.definition);

  const versions = custom.get(`${apiGroup(apiVersion)}/${kind}`);
  if (versions === undefined) {
    const served = schema.apiVersionsOf(kind);
    const hint =
      served.length > 0 ? `; Kubernetes ${KUBERNETES_SCHEMA_VERSION} serves ${kind} as ${served.join(", ")}` : "";
    issues.add(
      `${id} apiVersion`,
      apiVersion,
      `has no kind "${kind}" in Kubernetes ${KUBERNETES_SCHEMA_VERSION} and no CustomResourceDefinition defines it${hint}`,
    );
    return undefined;
  }
  const version = apiVersionOnly(apiVersion);
  const v = versions.find((x) => x.version === version);
  if (v === undefined) {
    issues.add(
      `${id} apiVersion`,
      apiVersion,
      `is not a version of CustomResourceDefinition ${versions[0].crd}; it has ${versions.map((x) => x.version).join(", ")}`,
    );
    return undefined;
  }
  if (!v.served) {
    const served = versions.filter((x) => x.served).map((x) => x.version);
    issues.add(
      `${id} apiVersion`,
      apiVersion,
      `is not served by CustomResourceDefinition ${v.crd}; served: ${served.length > 0 ? served.join(", ") : "none"}`,
    );
    return undefined;
  }
  const compiled = customValidator(schema, v);
  if (compiled instanceof Error) {
    issues.add(
      `${id} apiVersion`,
      apiVersion,
      `cannot be checked: the schema of CustomResourceDefinition ${v.crd} version ${v.version} does not compile (${compiled.message})`,
    );
    return undefined;
  }
  return compiled;
}

const customValidators = new Map<string, ValidateFunction | Error>();

/** One compiled validator per distinct CRD schema, shared across calls. */
function customValidator(schema: K8sSchema, v: CustomKindVersion): ValidateFunction | Error {
  const key = JSON.stringify(v.schema ?? null);
  let compiled = customValidators.get(key);
  if (compiled === undefined) {
    try {
      compiled = schema.ajv.compile(
        strictCustomSchema(v.schema ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true }),
      );
    } catch (e) {
      compiled = e instanceof Error ? e : new Error(String(e));
    }
    customValidators.set(key, compiled);
  }
  return compiled;
}

/**
 * ajv errors as issues. The errors of anyOf/oneOf alternatives are folded into the one issue of the anyOf/oneOf
 * they belong to: `spec must match one of: (color is required) or (port is required)`.
 */
function toIssues(id: string, data: unknown, errors: readonly ErrorObject[]): ValidationIssue[] {
  const junctions = errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf");
  const inBranch = (e: ErrorObject, j: ErrorObject): boolean => e !== j && e.schemaPath.startsWith(`${j.schemaPath}/`);
  const out: ValidationIssue[] = [];
  for (const e of errors) {
    if (junctions.some((j) => inBranch(e, j))) continue;
    if (e.keyword !== "anyOf" && e.keyword !== "oneOf") {
      out.push(toIssue(id, data, e));
      continue;
    }
    const base = toIssue(id, data, e);
    const branches = new Map<string, string[]>();
    for (const b of errors) {
      if (!inBranch(b, e)) continue;
      const branch = b.schemaPath.slice(e.schemaPath.length + 1).split("/")[0];
      const issue = toIssue(id, data, b);
      const rel = issue.path === base.path ? "" : issue.path.slice(base.path.length).replace(/^[ .]/, "");
      branches.set(branch, [...(branches.get(branch) ?? []), rel === "" ? issue.message : `${rel} ${issue.message}`]);
    }
    const alternatives = [...branches.values()].map((msgs) => `(${msgs.join("; ")})`).join(" or ");
    const passing = e.params.passingSchemas as number[] | null | undefined;
    const message = Array.isArray(passing)
      ? `must match exactly one of its ${e.keyword} alternatives; it matches ${passing.length}`
      : `must match one of: ${alternatives}`;
    out.push({ ...base, message });
  }
  return out;
}

/** One ajv error as an issue: the field path users write, the value found there, what is allowed. */
function toIssue(id: string, data: unknown, e: ErrorObject): ValidationIssue {
  const segments = pointerSegments(data, e.instancePath);
  const at = (segs: readonly (string | number)[]): string => (segs.length === 0 ? id : `${id} ${fieldPath(segs)}`);
  const value = valueAt(data, segments);
  switch (e.keyword) {
    case "additionalProperties": {
      const field = String(e.params.additionalProperty);
      return { path: at([...segments, field]), value: valueAt(value, [field]), message: `unknown field "${field}"` };
    }
    case "required":
      return { path: at([...segments, String(e.params.missingProperty)]), value: undefined, message: "is required" };
    case "type":
      return { path: at(segments), value, message: `must be ${String(e.params.type).split(",").join(" or ")}` };
    case "enum":
      return {
        path: at(segments),
        value,
        message: `is not allowed; allowed: ${(e.params.allowedValues as unknown[]).map((a) => JSON.stringify(a)).join(", ")}`,
      };
    case "format":
      return {
        path: at(segments),
        value,
        message: FORMAT_MESSAGES[String(e.params.format)] ?? e.message ?? "is invalid",
      };
    default:
      return { path: at(segments), value, message: e.message ?? `fails ${e.keyword}` };
  }
}

const FORMAT_MESSAGES: Readonly<Record<string, string>> = {
  quantity: 'must be a quantity such as "500m", "128Mi", "1.5" or 2',
  byte: "must be base64-encoded",
  "date-time": "must be an RFC 3339 date-time",
  int32: "must be a 32-bit integer",
};

/** `/spec/containers/0/name` → `["spec", "containers", 0, "name"]`, numbers only where the data is an array. */
function pointerSegments(data: unknown, pointer: string): (string | number)[] {
  if (pointer === "") return [];
  const out: (string | number)[] = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const seg = Array.isArray(cur) ? Number(key) : key;
    out.push(seg);
    cur = cur !== null && typeof cur === "object" ? (cur as Record<string | number, unknown>)[seg] : undefined;
  }
  return out;
}

function valueAt(data: unknown, segments: readonly (string | number)[]): unknown {
  let cur = data;
  for (const s of segments) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur;
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `spec.containers[0].env`, with keys that are not identifiers quoted: `metadata.labels["app.kubernetes.io/name"]`. */
function fieldPath(segments: readonly (string | number)[]): string {
  let out = "";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (PLAIN_KEY.test(s)) out += out === "" ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/** The API server treats a null field as absent; so does validation. Returns `v` itself when it holds no null field. */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const c = withoutNulls(v[i]);
      if (c !== v[i]) (out ??= v.slice())[i] = c;
    }
    return out ?? v;
  }
  if (v !== null && typeof v === "object") {
    let out: Record<string, unknown> | undefined;
    for (const [k, x] of Object.entries(v)) {
      if (x === null) {
        out ??= { ...(v as Record<string, unknown>) };
        delete out[k];
        continue;
      }
      const c = withoutNulls(x);
      if (c !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = c;
    }
    return out ?? v;
  }
  return v;
}
