/** Metadata of a Kubernetes object as rendered into a manifest. */
export interface KubeObjectMeta {
  readonly name: string;
  /** @default - the namespace of the kubeconfig context (usually "default"); absent for cluster-scoped kinds */
  readonly namespace?: string;
  /** @default - no labels */
  readonly labels?: Readonly<Record<string, string>>;
  /** @default - no annotations */
  readonly annotations?: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/** One Kubernetes object (a YAML document of a manifest): `apiVersion`, `kind`, `metadata` and the kind's fields. */
export interface KubeObject {
  /** `v1`, `apps/v1`, `example.com/v1alpha1` */
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: KubeObjectMeta;
  readonly [field: string]: unknown;
}

/**
 * How issues name an object: `<Kind>/<namespace>/<name>`, or `<Kind>/<name>` when it has no namespace.
 * Falls back to `objects[<index>]` for the parts that are missing.
 */
export function objectId(obj: unknown, index: number): string {
  const o = (obj !== null && typeof obj === "object" ? obj : {}) as Record<string, unknown>;
  const meta = (o.metadata !== null && typeof o.metadata === "object" ? o.metadata : {}) as Record<string, unknown>;
  const kind = typeof o.kind === "string" && o.kind !== "" ? o.kind : undefined;
  const name =
    typeof meta.name === "string" && meta.name !== ""
      ? meta.name
      : typeof meta.generateName === "string"
        ? `${meta.generateName}*`
        : undefined;
  if (kind === undefined || name === undefined) return `objects[${index}]${kind === undefined ? "" : ` (${kind})`}`;
  return typeof meta.namespace === "string" && meta.namespace !== ""
    ? `${kind}/${meta.namespace}/${name}`
    : `${kind}/${name}`;
}

/** `apps/v1` → `apps`; `v1` → `` (the core group). */
export function apiGroup(apiVersion: string): string {
  const i = apiVersion.lastIndexOf("/");
  return i < 0 ? "" : apiVersion.slice(0, i);
}

/** `apps/v1` → `v1`. */
export function apiVersionOnly(apiVersion: string): string {
  return apiVersion.slice(apiVersion.lastIndexOf("/") + 1);
}
