import { readFileSync } from "fs";
import { basename, extname, join, resolve } from "path";
import { parseDocument } from "yaml";
import { z } from "zod";
import { checkK3sHaCluster } from "../components/k3s-ha-cluster/validate";
import { K3sHaClusterProps } from "../components/k3s-ha-cluster/spec";
import { Host } from "../lib/hosts/host";
import { validateHosts } from "../lib/hosts/validate-hosts";
import { IssueCollector, ValidationError, ValidationIssue, parseInto } from "../lib/validation/issues";
import { DroneCiPlan } from "../components/drone-ci/spec";
import { EdgeXStackProps } from "../components/edgex-stack/spec";
import { KubeEdgeCloudProps } from "../components/kubeedge-cloud/spec";
import { NfsProvisionerProps } from "../components/nfs-provisioner/spec";
import { RegistryPlan } from "../components/registry/spec";
import { COMPOSITION } from "./composition";
import { RancherImport } from "./rancher-import";
import { findSecretRefs, resolveSecretRefs, secretEnvVar } from "./secret-refs";
import { wireEnvironment } from "./wiring";
import { checkPortClashes } from "./port-clashes";

/**
 * An environment file: the hosts plus one optional section per component. The top level is strict (an unknown
 * section is an error); each section is validated by its component's own check function, and every problem of
 * every section is reported together. The sections are the components' ({@link COMPOSITION}), in its order.
 */
export const EnvironmentFileSchema = z.strictObject({
  /** Environment and cluster name (a DNS label of at most 42 characters): stack names, certificate names. */
  name: z.string(),
  /** @default - none */
  description: z.string().optional(),
  /** Every machine of the environment; roles say what runs where. */
  hosts: z.unknown(),
  ...(Object.fromEntries(
    COMPOSITION.flatMap((c) => (c.section === undefined ? [] : [[c.section, z.unknown().optional()]])),
  ) as Record<string, z.ZodOptional<z.ZodUnknown>>),
  /**
   * Accept secrets written inline in the file (a lab or a throw-away environment); otherwise each one is refused,
   * naming its field, and must be a `{ secret: <name> }` reference. @default - refused
   */
  allowInlineSecrets: z
    .literal(true, { message: "must be true (the opt-in for plaintext secrets in the file); remove it otherwise" })
    .optional(),
});

/** An environment file's top level, as written (each section is validated by its component). */
export interface EnvironmentFile {
  /** Environment and cluster name (a DNS label of at most 42 characters): stack names, certificate names. */
  readonly name: string;
  /** @default - none */
  readonly description?: string;
  /** Every machine of the environment; roles say what runs where. */
  readonly hosts: unknown;
  /** {@link K3sHaClusterSpecSchema}. @default - K3s v1.31.4+k3s1 on the hosts with roles etcd/server/agent */
  readonly k3s?: unknown;
  /** {@link NfsProvisionerSpecSchema}: an NFS server and the default StorageClass on it. @default - no NFS */
  readonly nfs?: unknown;
  /** {@link RegistrySpecSchema}: a container registry every node pulls from. @default - no registry */
  readonly registry?: unknown;
  /** {@link DroneCiSpecSchema}: Drone CI (+ optional Gogs/Gitea) in the cluster. @default - no Drone */
  readonly drone?: unknown;
  /** {@link KubeEdgeCloudSpecSchema}: cloudcore and the hosts with the role "edge" joined to it. @default - no KubeEdge */
  readonly kubeedge?: unknown;
  /** {@link EdgeXStackSpecSchema}: EdgeX Foundry on the edge nodes. @default - no EdgeX */
  readonly edgex?: unknown;
  /** Import the cluster into a central Rancher (multi-site). @default - not imported */
  readonly rancher?: unknown;
  /** Accept secrets written inline in the file. @default - refused */
  readonly allowInlineSecrets?: true;
  /** A section of a component added to COMPOSITION. */
  readonly [section: string]: unknown;
}

/** A validated environment: every section checked, plain values, ready for the renderers or the stack program. */
export interface Environment {
  readonly name: string;
  readonly description?: string;
  readonly hosts: readonly Host[];
  readonly cluster: K3sHaClusterProps;
  /** @default - no NFS */
  readonly nfs?: NfsProvisionerProps;
  /** @default - no registry */
  readonly registry?: RegistryPlan;
  /** @default - no Drone */
  readonly drone?: DroneCiPlan;
  /** @default - no KubeEdge */
  readonly kubeedge?: KubeEdgeCloudProps;
  /** @default - no EdgeX */
  readonly edgex?: EdgeXStackProps;
  /** @default - not imported into Rancher */
  readonly rancher?: RancherImport;
}

/** The sections an environment may have, in the order they are validated and rendered. */
export const ENVIRONMENT_SECTIONS = Object.keys(EnvironmentFileSchema.shape).filter(
  (k) => !["name", "description", "hosts", "allowInlineSecrets"].includes(k),
);

/** The hosts' fields that hold secrets; each component names its own (its descriptor's `secretFields`). */
const HOST_SECRET_FIELDS = [
  /^hosts\[\d+\]\.ssh\.(privateKey|sudoPassword)$/,
  /^hosts\[\d+\]\.ssh\.jumpHost\.privateKey$/,
];

/** Whether a field (its path in the file) holds a secret: in a file it must be a `{ secret: <name> }` reference. */
function isSecretField(path: string): boolean {
  if (HOST_SECRET_FIELDS.some((r) => r.test(path))) return true;
  const dot = path.indexOf(".");
  if (dot < 0) return false;
  const [section, rest] = [path.slice(0, dot), path.slice(dot + 1)];
  return COMPOSITION.some((c) => c.section === section && (c.secretFields ?? []).some((r) => r.test(rest)));
}

/** Secrets written as plain strings in a parsed file (before references are resolved). */
export function findInlineSecrets(raw: unknown): { path: string }[] {
  const found: { path: string }[] = [];
  const walk = (v: unknown, path: string) => {
    if (typeof v === "string") {
      if (isSecretField(path)) found.push({ path });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v !== null && typeof v === "object")
      for (const [k, x] of Object.entries(v)) walk(x, path === "" ? k : `${path}.${k}`);
  };
  walk(raw, "");
  return found;
}

/**
 * Refuses secrets written inline in a parsed environment file (before its references are resolved), naming each
 * field, unless the file says `allowInlineSecrets: true`. Every path that reads a file runs it: {@link loadEnvironment}
 * (the CLI) and the Pulumi program's `stackEnvironment`.
 */
export function refuseInlineSecrets(raw: unknown, file: string): void {
  const inline =
    (raw as { allowInlineSecrets?: unknown } | null)?.allowInlineSecrets === true ? [] : findInlineSecrets(raw);
  if (inline.length > 0)
    throw new ValidationError(
      inline.map((i) => ({
        path: i.path,
        value: undefined,
        message:
          "is a plaintext secret inline in the file; write { secret: <name> } and set it with pulumi config set --secret (or EDGECLOUD_SECRET_<NAME> for synth), or set allowInlineSecrets: true at the top of the file if you mean it",
      })),
      `environment ${file}`,
    );
}

/**
 * Validates an environment (parsed YAML or an object): the top-level shape, the hosts, and every component section
 * with that component's own checks. Throws one {@link ValidationError} with every problem found.
 *
 * Inline secrets are not refused here: an object from code carries its secrets already resolved (a Pulumi secret
 * Output, or a string from the program's own secret store), indistinguishable from one written in plaintext. Files
 * are checked where they are read ({@link refuseInlineSecrets}).
 */
export function validateEnvironment(raw: unknown, source?: string): Environment {
  const issues = new IssueCollector();
  const env = checkEnvironment(raw, issues);
  throwIssues(issues.issues, `environment${source ? ` ${source}` : ""}`);
  return env!;
}

/** {@link validateEnvironment} into a collector; returns undefined when there is any problem. */
export function checkEnvironment(raw: unknown, issues: IssueCollector): Environment | undefined {
  const before = issues.issues.length;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    issues.add("environment", raw, "must be a mapping with name, hosts and component sections");
    return undefined;
  }
  // A reference nobody resolved is named once, then validated as a placeholder string.
  const refs = findSecretRefs(raw);
  for (const r of refs) {
    issues.add(
      r.path,
      undefined,
      `refers to secret "${r.name}", which is not resolved: set ${secretEnvVar(r.name)} for synth, or pulumi config set --secret edgecloud:${r.name}`,
    );
  }
  const obj = wireEnvironment(
    (refs.length > 0 ? resolveSecretRefs(raw, (n) => `<secret:${n}>`) : raw) as Record<string, unknown>,
  );
  // Unknown sections are reported, and the known ones still validated, so one run shows every problem.
  const known = Object.keys(EnvironmentFileSchema.shape);
  const unknown = Object.keys(obj).filter((k) => !known.includes(k));
  for (const k of unknown) issues.add(k, undefined, `is not an environment section; allowed: ${known.join(", ")}`);
  const file = parseInto(
    EnvironmentFileSchema,
    Object.fromEntries(Object.entries(obj).filter(([k]) => known.includes(k))),
    issues,
  );
  if (!file) return undefined;
  // The hosts are validated (and reported) by the cluster check; the other sections get whatever parsed.
  const hosts = validateHosts(file.hosts, new IssueCollector());
  if (Array.isArray(file.hosts) && file.hosts.length === 0)
    issues.add("hosts", undefined, 'is empty; an environment needs at least one host with the role "server"');
  const cluster = checkK3sHaCluster(
    { name: file.name, hosts: file.hosts, spec: (file as EnvironmentFile).k3s },
    issues,
  );
  // every other section by its component's own check, in the composition's order
  const ctx = { issues, hosts, file: file as Record<string, unknown>, ...(cluster ? { cluster } : {}) };
  const sections: Record<string, unknown> = {};
  for (const c of COMPOSITION) {
    if (c.section === undefined || c.check === undefined) continue;
    const section = (file as Record<string, unknown>)[c.section];
    if (section === undefined) c.checkAbsent?.(ctx);
    else sections[c.field ?? c.section] = c.check(section, ctx);
  }
  if (issues.issues.length > before || !cluster) return undefined;
  const environment = {
    name: file.name,
    ...(file.description ? { description: file.description } : {}),
    hosts: cluster.hosts,
    cluster,
    ...Object.fromEntries(Object.entries(sections).filter(([, v]) => v !== undefined)),
  } as Environment;
  checkPortClashes(environment, issues);
  return issues.issues.length > before ? undefined : environment;
}

/** Throws the issues (duplicates removed: several sections validate the same hosts) as one ValidationError. */
function throwIssues(list: readonly ValidationIssue[], context: string): void {
  if (list.length === 0) return;
  const seen = new Set<string>();
  const unique = list.filter((i) => {
    const k = `${i.path}\0${i.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
  throw new ValidationError(unique, context);
}

/** Where the bundled example environments live (`environments/` next to `stacks/`, in the repo and in the package). */
export function environmentsDir(): string {
  return resolve(__dirname, basename(resolve(__dirname, "..")) === "build" ? "../.." : "..", "environments");
}

/** The file of a bundled environment: `default` → `environments/default.yaml`. */
export function environmentFile(name: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new ValidationError(
      [
        {
          path: "--env",
          value: name,
          message: "must be the name of a file in environments/ (lowercase letters, digits, '-')",
        },
      ],
      "environment",
    );
  }
  return join(environmentsDir(), `${name}.yaml`);
}

export interface LoadEnvironmentOptions {
  /**
   * Resolves `{ secret: <name> }` references.
   * @default - leaves them in place (a reference is not a valid value: validation names each one)
   */
  readonly secrets?: (name: string) => unknown;
}

/**
 * Reads a YAML (or JSON) environment file, resolves its secret references and validates it; syntax errors and
 * schema problems come out as one ValidationError.
 */
export function loadEnvironment(file: string, opts: LoadEnvironmentOptions = {}): Environment {
  const raw = readEnvironmentFile(file);
  refuseInlineSecrets(raw, file);
  return validateEnvironment(opts.secrets ? resolveSecretRefs(raw, opts.secrets) : raw, file);
}

/** Parses the file without validating it. */
export function readEnvironmentFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ValidationError(
      [
        {
          path: file,
          value: undefined,
          message: code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? String(e)})`,
        },
      ],
      "environment",
    );
  }
  const refuse = (message: string): never => {
    throw new ValidationError([{ path: file, value: undefined, message }], "environment");
  };
  if (extname(file) === ".json") {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      refuse(`is not valid JSON: ${oneLine(e)}`);
    }
    return checkNesting(v, refuse);
  }
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    return refuse(`cannot be parsed: ${oneLine(e)}`);
  }
  if (doc.errors.length > 0) {
    throw new ValidationError(
      doc.errors.map((e) => ({
        path: `${file}:${e.linePos?.[0].line ?? "?"}:${e.linePos?.[0].col ?? "?"}`,
        value: undefined,
        message: /Maximum call stack/.test(e.message)
          ? `nests deeper than the parser follows; an environment file is a few levels deep`
          : e.message.split("\n")[0]!.replace(/:$/, ""),
      })),
      "environment",
    );
  }
  let value: unknown;
  try {
    // yaml's default maxAliasCount (100) stops alias bombs ("billion laughs") with an error instead of expanding them.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return refuse(`cannot be read: ${oneLine(e)}`);
  }
  return checkNesting(value, refuse);
}

/** An environment is a few levels deep; anything deeper than this is refused before any recursive walk sees it. */
export const MAX_NESTING = 32;

function checkNesting(value: unknown, refuse: (message: string) => never): unknown {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > MAX_NESTING)
      refuse(`nests deeper than ${MAX_NESTING} levels; an environment file is a few levels deep`);
    for (const c of Object.values(v as object)) stack.push([c, depth + 1]);
  }
  return value;
}

function oneLine(e: unknown): string {
  const m = e instanceof RangeError && /call stack/i.test(e.message) ? "nests too deeply" : (e as Error)?.message;
  return String(m ?? e)
    .split("\n")[0]!
    .replace(/:$/, "");
}
