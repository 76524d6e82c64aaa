import { createHash } from "crypto";

/** A file a host step places on its host. Content is plain text; secret files are delivered only through stdin. */
export interface StepFile {
  /** Absolute path on the host. */
  readonly path: string;
  /** Octal mode, e.g. "0600". */
  readonly mode: string;
  /** @default "root:root" */
  readonly owner?: string;
  readonly content: string;
  /** True for keys, tokens, passwords: forces mode 0600 and marks the step's payload secret. */
  readonly secret: boolean;
}

/**
 * One unit of work on one host: a bash script plus the files it places, the steps it waits for, and its inverse.
 * An executor (Pulumi's command provider, the lab's SSH runner) sends `renderStepBundle(step)` to `bash -s` on the
 * host over stdin — never argv — and reads the `edgecloud-step: changed=N` line the bundle prints last.
 */
export interface HostStep {
  /** `<host>/<name>`, unique in a plan. */
  readonly id: string;
  readonly host: string;
  /** kebab-case, e.g. `etcd-install`. */
  readonly name: string;
  /** The component that owns the step, e.g. `k3s-ha-cluster`. */
  readonly component: string;
  /** Bash body; `renderStepBundle` adds the prelude (set -euo pipefail, helpers, files). */
  readonly script: string;
  readonly files: readonly StepFile[];
  /** Ids of steps that must finish first (on any host). */
  readonly dependsOn: readonly string[];
  /** Bash body that undoes the step (run on delete). Must be idempotent too and must not need secrets. */
  readonly deleteScript: string;
  /** sha256 over script, files and deleteScript: the trigger that makes an executor re-run the step. */
  readonly hash: string;
  /** True when any file is secret. */
  readonly secret: boolean;
}

export interface HostStepInput {
  readonly host: string;
  readonly name: string;
  readonly component: string;
  readonly script: string;
  readonly files?: readonly StepFile[];
  readonly dependsOn?: readonly string[];
  readonly deleteScript?: string;
}

/** Builds a step, computing its id, hash and secrecy. Secret files are forced to mode 0600. */
export function hostStep(input: HostStepInput): HostStep {
  const files = (input.files ?? []).map((f) => (f.secret ? { ...f, mode: "0600" } : f));
  const deleteScript = input.deleteScript ?? "";
  const hash = createHash("sha256")
    .update(JSON.stringify({ s: input.script, f: files, d: deleteScript }))
    .digest("hex");
  return {
    id: stepId(input.host, input.name),
    host: input.host,
    name: input.name,
    component: input.component,
    script: input.script,
    files,
    dependsOn: [...new Set(input.dependsOn ?? [])],
    deleteScript,
    hash,
    secret: files.some((f) => f.secret),
  };
}

export function stepId(host: string, name: string): string {
  return `${host}/${name}`;
}
