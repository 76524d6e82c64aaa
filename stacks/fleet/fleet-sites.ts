import { existsSync, readdirSync, statSync } from "fs";
import { basename, extname, isAbsolute, join, resolve } from "path";
import { ValidationError, ValidationIssue } from "../../lib/validation/issues";
import { environmentsDir, loadEnvironment } from "../environment";
import { synthSecretResolver } from "../secret-refs";

/** What a fleet run does to every site's stack. */
export const FLEET_OPERATIONS = ["preview", "up", "refresh", "destroy"] as const;
export type FleetOperation = (typeof FLEET_OPERATIONS)[number];

/** How many sites run at once: each site is one `pulumi` engine plus one Node.js program (≈ 0.3–0.5 GB). */
export const FLEET_PARALLEL = { min: 1, max: 32, default: 4 } as const;

/** One site: one environment file, one stack of this project. */
export interface FleetSite {
  /** The stack name: the bundled environment's name, or the file's name without its extension. */
  readonly name: string;
  /** The environment file (absolute). */
  readonly file: string;
  /**
   * A bundled environment (`environments/<name>.yaml`): its stack needs no `edgecloud:environment`, the program
   * defaults to the stack name. Any other file is set as the stack's `edgecloud:environment`.
   */
  readonly bundled: boolean;
}

const ENV_EXTENSIONS = [".yaml", ".yml", ".json"];

// pulumi/pulumi v3.259.0 sdk/go/common/tokens/stack_name.go ParseStackName: `^[A-Za-z0-9_.-]*`, not empty,
// at most 100 characters
const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** The bundled environments' names (`environments/*.yaml`), sorted. */
export function bundledEnvironments(dir = environmentsDir()): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => f.slice(0, -".yaml".length))
    .sort();
}

export interface ResolveSitesOptions {
  /** Where relative paths are resolved. */
  readonly cwd: string;
  /** @default - bundledEnvironments() */
  readonly bundled?: readonly string[];
  /** @default - environmentsDir() */
  readonly environmentsDir?: string;
}

/**
 * The sites named by a `--sites` value: comma-separated entries, each a bundled environment name (`*` matches any
 * run of name characters: `multi-site-*`), an environment file (a path, or a name ending in .yaml/.yml/.json), or a
 * directory (every environment file directly in it, by name). Returns the sites in order, or every problem found.
 */
export function resolveFleetSites(
  spec: string,
  opts: ResolveSitesOptions,
): { readonly sites: readonly FleetSite[]; readonly issues: readonly ValidationIssue[] } {
  const envDir = opts.environmentsDir ?? environmentsDir();
  const bundled = opts.bundled ?? bundledEnvironments(envDir);
  const issues: ValidationIssue[] = [];
  const sites: FleetSite[] = [];
  const bundledList = `bundled: ${bundled.join(", ")}; or give an environment file or a directory of them`;
  const add = (entry: string, file: string, isBundled: boolean): void => {
    const name = isBundled ? basename(file, ".yaml") : basename(file, extname(file));
    if (!STACK_NAME.test(name)) {
      issues.push({
        path: "--sites",
        value: entry,
        message: `file ${file}: "${name}" is not a Pulumi stack name (letters, digits, '-', '_', '.'; 1 to 100 characters); rename the file`,
      });
      return;
    }
    const twice = sites.find((s) => s.name === name);
    if (twice) {
      if (twice.file !== file)
        issues.push({
          path: "--sites",
          value: entry,
          message: `site "${name}" comes twice (${twice.file} and ${file}); each site is its own stack: names must be unique`,
        });
      return;
    }
    sites.push({ name, file, bundled: isBundled });
  };
  const entries = spec
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (entries.length === 0) issues.push({ path: "--sites", value: spec, message: `names no site; ${bundledList}` });
  for (const entry of entries) {
    const path = isAbsolute(entry) ? entry : resolve(opts.cwd, entry);
    const looksLikePath = /[/\\]/.test(entry) || ENV_EXTENSIONS.includes(extname(entry)) || entry.startsWith(".");
    if (existsSync(path) && statSync(path).isDirectory()) {
      const files = readdirSync(path)
        .filter((f) => ENV_EXTENSIONS.includes(extname(f)) && statSync(join(path, f)).isFile())
        .sort();
      if (files.length === 0)
        issues.push({
          path: "--sites",
          value: entry,
          message: `directory ${path} holds no environment file (${ENV_EXTENSIONS.map((x) => `*${x}`).join(", ")})`,
        });
      for (const f of files) add(entry, join(path, f), false);
    } else if (looksLikePath) {
      if (!existsSync(path)) issues.push({ path: "--sites", value: entry, message: `${path} does not exist` });
      else add(entry, path, false);
    } else if (entry.includes("*")) {
      const re = new RegExp(`^${entry.split("*").map(escapeRegExp).join("[a-z0-9-]*")}$`);
      const matched = bundled.filter((b) => re.test(b));
      if (matched.length === 0)
        issues.push({ path: "--sites", value: entry, message: `matches no bundled environment; ${bundledList}` });
      for (const m of matched) add(entry, join(envDir, `${m}.yaml`), true);
    } else if (bundled.includes(entry)) {
      add(entry, join(envDir, `${entry}.yaml`), true);
    } else {
      issues.push({ path: "--sites", value: entry, message: `is not a bundled environment; ${bundledList}` });
    }
  }
  return { sites, issues };
}

/** `--parallel`: an integer in FLEET_PARALLEL's range. */
export function fleetParallel(raw: string | number | undefined): {
  readonly parallel: number;
  readonly issues: readonly ValidationIssue[];
} {
  if (raw === undefined) return { parallel: FLEET_PARALLEL.default, issues: [] };
  const n = typeof raw === "number" ? raw : /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (Number.isInteger(n) && n >= FLEET_PARALLEL.min && n <= FLEET_PARALLEL.max) return { parallel: n, issues: [] };
  return {
    parallel: FLEET_PARALLEL.default,
    issues: [
      {
        path: "--parallel",
        value: raw,
        message: `must be a whole number from ${FLEET_PARALLEL.min} to ${FLEET_PARALLEL.max} (sites run at once; each is one pulumi engine and one Node.js program)`,
      },
    ],
  };
}

/** The stack config keys that hold secrets (docs/stacks.md): never given as plain `--config`. */
const SECRET_KEYS = ["edgecloud:sshPrivateKey", "edgecloud:rancherManifestUrl"];
// a namespaced config key as `pulumi config set` takes it: `<namespace>:<name>`
const CONFIG_KEY = /^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$/;

/** A `key=value` pair (`--config`, `--secret-file`), split at the first `=`. */
function keyValue(flag: string, raw: string, issues: ValidationIssue[]): [string, string] | undefined {
  const at = raw.indexOf("=");
  const key = at < 0 ? raw : raw.slice(0, at);
  const value = at < 0 ? "" : raw.slice(at + 1);
  if (!CONFIG_KEY.test(key)) {
    issues.push({
      path: flag,
      value: raw,
      message: "must be <namespace>:<key>=<value>, e.g. edgecloud:executor=in-process",
    });
    return undefined;
  }
  if (value === "") {
    issues.push({ path: flag, value: raw, message: `gives no value for ${key}` });
    return undefined;
  }
  return [key, value];
}

/**
 * `--config key=value` (plain stack config set on every site's stack). `edgecloud:environment` is the fleet's own
 * (set per site) and the secret keys are refused: a secret passed in argv shows in the process list.
 */
export function fleetConfig(raw: readonly string[]): {
  readonly config: Readonly<Record<string, string>>;
  readonly issues: readonly ValidationIssue[];
} {
  const issues: ValidationIssue[] = [];
  const config: Record<string, string> = {};
  for (const r of raw) {
    const kv = keyValue("--config", r, issues);
    if (!kv) continue;
    const [key, value] = kv;
    if (key === "edgecloud:environment")
      issues.push({
        path: "--config",
        value: key,
        message: "is set per site by the fleet (the site's environment file)",
      });
    else if (SECRET_KEYS.includes(key))
      issues.push({
        path: "--config",
        value: key,
        message: `is secret: give it with --secret-file ${key}=<file> (read from the file, passed to pulumi on stdin)`,
      });
    else config[key] = value;
  }
  return { config, issues };
}

/**
 * `--secret-file key=path`: secret stack config read from a file per site; `{site}` in the path is the site's name
 * (`--secret-file edgecloud:rancherManifestUrl=secrets/{site}.url`). Every site's file must exist.
 */
export function fleetSecretFiles(
  raw: readonly string[],
  sites: readonly FleetSite[],
  cwd: string,
): { readonly secretFiles: Readonly<Record<string, string>>; readonly issues: readonly ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const secretFiles: Record<string, string> = {};
  for (const r of raw) {
    const kv = keyValue("--secret-file", r, issues);
    if (!kv) continue;
    const [key, pattern] = kv;
    if (key === "edgecloud:environment") {
      issues.push({ path: "--secret-file", value: key, message: "is set per site by the fleet, and is not secret" });
      continue;
    }
    const template = isAbsolute(pattern) ? pattern : resolve(cwd, pattern);
    for (const s of sites) {
      const file = siteSecretFile(template, s.name);
      if (!existsSync(file) || !statSync(file).isFile())
        issues.push({ path: "--secret-file", value: r, message: `site "${s.name}": ${file} is not a file` });
    }
    secretFiles[key] = template;
  }
  return { secretFiles, issues };
}

/** The secret file of one site: `{site}` replaced by its name. */
export function siteSecretFile(template: string, site: string): string {
  return template.split("{site}").join(site);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Every site's environment validated as `edgecloud validate` does (secret references stand in as placeholders: their
 * values are the stacks' config), each problem prefixed with the site: nothing runs while one is wrong.
 */
export function validateSiteEnvironments(sites: readonly FleetSite[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const s of sites) {
    try {
      loadEnvironment(s.file, { secrets: synthSecretResolver("placeholder") });
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      for (const i of e.issues) issues.push({ ...i, path: `site "${s.name}": ${i.path}` });
    }
  }
  return issues;
}
