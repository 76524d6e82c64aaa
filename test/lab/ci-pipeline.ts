import { cpSync, readFileSync, rmSync } from "fs";
import { join, resolve } from "path";
import { parseAllDocuments } from "yaml";
import { KubeObject } from "../../lib/manifests/kube-object";
import { ApiServer } from "../engine/kube-apiserver";
import { Lab } from "./lab";
import { RunResult } from "./proc";
import { put } from "./nodes";

/**
 * Issue 19 in the lab: the steps of examples/ci-pipeline/app/.drone.yml run on lab hosts with the secrets the
 * library's Drone runner would serve them — resolved from the objects the library applied, the way the kubelet
 * composes the runner's `DRONE_RUNNER_SECRETS` (`$(VAR)` expansion of its secretKeyRef/configMapKeyRef entries)
 * and parsed the way the runner's envconfig does (pairs on `,`, key and value on `:`).
 *
 * What stands in, and why: Drone itself (server, runner, its docker daemon) — their images are downloads; the
 * runner's substitution pass is done here for the two forms the file uses (`${DRONE_COMMIT_SHA:0:12}`, `$$`), the
 * engine tier runs Drone's own envsubst on the same file (tools/drone-lint); kaniko (a download) — the lab's
 * builder follows the app's Dockerfile (images.ts `buildDockerfileImage`); cluster DNS for
 * `kubernetes.default.svc` (no CoreDNS runs here) — a hosts entry with the `kubernetes` Service's ClusterIP, so
 * the deploy step still reaches the API server through kube-proxy.
 */
export const CI_APP_DIR = resolve(__dirname, "../../examples/ci-pipeline/app");
/** Where Drone's docker runner puts the cloned repository (its default workspace). */
export const DRONE_WORKSPACE = "/drone/src";

export interface PipelineStep {
  readonly name: string;
  readonly image: string;
  readonly environment?: Record<string, string | { from_secret: string }>;
  readonly commands: readonly string[];
}

export function pipelineSteps(): PipelineStep[] {
  const docs = parseAllDocuments(readFileSync(join(CI_APP_DIR, ".drone.yml"), "utf8")).map((d) => d.toJS()) as {
    steps: PipelineStep[];
  }[];
  return docs[0]!.steps;
}

/** The runner's substitution pass for what the file uses: `${DRONE_COMMIT_SHA:0:12}`, and `$$` for a literal `$`. */
export function droneSubstitute(text: string, commitSha: string): string {
  return text.replace(/\$\$|\$\{DRONE_COMMIT_SHA:0:12\}/g, (m) => (m === "$$" ? "$" : commitSha.slice(0, 12)));
}

interface EnvVarLike {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}

/**
 * The secrets the runner serves pipelines: its container's env as the kubelet resolves it (each reference read from
 * the cluster, `$(VAR)` expanded from earlier entries), then `DRONE_RUNNER_SECRETS` split as envconfig does.
 */
export async function runnerSecrets(
  api: ApiServer,
  droneObjects: readonly KubeObject[],
): Promise<Record<string, string>> {
  const deployment = droneObjects.find((o) => o.kind === "Deployment" && o.metadata.name === "drone-runner") as
    (KubeObject & { spec: { template: { spec: { containers: { name: string; env?: EnvVarLike[] }[] } } } }) | undefined;
  if (!deployment) throw new Error("no drone-runner Deployment among the drone-ci manifests");
  const ns = deployment.metadata.namespace!;
  const runner = deployment.spec.template.spec.containers.find((c) => c.name === "runner")!;
  const read = async (kind: "secret" | "configmap", name: string): Promise<Record<string, string>> => {
    // the token controller fills the ServiceAccount token Secret after it is created: wait for its key
    for (let i = 0; ; i++) {
      const r = await api.kubectl(["-n", ns, "get", kind, name, "-o", "json"]);
      const data = r.code === 0 ? ((JSON.parse(r.stdout) as { data?: Record<string, string> }).data ?? {}) : {};
      const values =
        kind === "secret"
          ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]))
          : data;
      if (Object.keys(values).length > 0 || i >= 60) return values;
      await new Promise((res) => setTimeout(res, 1000));
    }
  };
  const resolved: Record<string, string> = {};
  for (const e of runner.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    if (ref) {
      const v = (await read(e.valueFrom?.secretKeyRef ? "secret" : "configmap", ref.name))[ref.key];
      if (v === undefined) throw new Error(`runner env ${e.name}: ${ref.name} has no key ${ref.key}`);
      resolved[e.name] = v;
    } else if (e.value !== undefined) {
      // Kubernetes dependent environment variables: $(VAR) of an earlier entry is replaced, anything else kept
      resolved[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => resolved[v] ?? m);
    }
  }
  const composed = resolved.DRONE_RUNNER_SECRETS;
  if (composed === undefined) throw new Error("the runner serves no DRONE_RUNNER_SECRETS");
  return Object.fromEntries(
    composed.split(",").map((pair) => {
      const kv = pair.split(":");
      if (kv.length !== 2) throw new Error(`DRONE_RUNNER_SECRETS: envconfig refuses the pair "${kv[0]}:…"`);
      return [kv[0]!, kv[1]!];
    }),
  );
}

/** A step's environment as the runner gives it: plain values, and `from_secret` values from `secrets`. */
export function stepEnvironment(
  step: PipelineStep,
  secrets: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(step.environment ?? {})) {
    if (typeof v === "string") env[k] = v;
    else {
      const s = secrets[v.from_secret];
      if (s === undefined) throw new Error(`step ${step.name}: the runner serves no secret ${v.from_secret}`);
      env[k] = s;
    }
  }
  return { ...env, ...overrides };
}

/**
 * Runs step commands on a lab host as the docker runner does (one shell script, `set -e`, in the workspace), with
 * the repository checked out in the workspace and the environment from a root-only file (never in argv or in the
 * script, so no secret reaches a process list or a failure message). The file is removed afterwards.
 */
export async function runStep(
  lab: Lab,
  host: string,
  env: Readonly<Record<string, string>>,
  commands: readonly string[],
  opts: { timeoutMs?: number } = {},
): Promise<RunResult> {
  const root = lab.host(host).root;
  rmSync(join(root, DRONE_WORKSPACE), { recursive: true, force: true });
  cpSync(CI_APP_DIR, join(root, DRONE_WORKSPACE), { recursive: true });
  const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
  const envFile = "/root/.edgecloud-lab-step.env";
  put(
    lab,
    host,
    envFile,
    Object.entries(env)
      .map(([k, v]) => `export ${k}=${q(v)}\n`)
      .join(""),
    0o600,
  );
  try {
    return await lab.exec(
      host,
      [`set -e`, `. ${envFile}`, `rm -f ${envFile}`, `cd ${DRONE_WORKSPACE}`, ...commands].join("\n"),
      {
        timeoutMs: opts.timeoutMs ?? 120_000,
      },
    );
  } finally {
    rmSync(join(root, envFile), { force: true });
  }
}
