import { KubeObject } from "../lib/manifests/kube-object";
import { collectObjectIssues } from "../lib/manifests/validate";
import { HostStep } from "../lib/steps/host-step";
import { StepPlan, makePlan } from "../lib/steps/plan";
import { IssueCollector } from "../lib/validation/issues";
import type { PlainWires } from "./component-descriptor";
import { DistArtifact, artifactProblem } from "./dist-artifact";
import { COMPOSITION, PhaseBook } from "./composition";
import { Environment } from "./environment";
import { EnvironmentMaterial, environmentMaterial } from "./material";
import { EnvironmentTopology, environmentTopology } from "./topology";

export { K3S_COMPONENT } from "../components/k3s-ha-cluster/descriptor";
export { EDGEX_COMPONENT } from "../components/edgex-stack/descriptor";

export interface SynthOptions {
  /**
   * `generated`: a random token and real certificates, made in-process (what `edgecloud synth` writes; never
   * commit it). `placeholder`: fixed `<token>`/`<ca.crt>` strings, deterministic (snapshots, benchmarks).
   * @default "generated"
   */
  readonly material?: "generated" | "placeholder";
  /** Called with a line per phase (the CLI prints them). @default - silent */
  readonly onProgress?: (message: string) => void;
  /** Validate every object against the Kubernetes schema (strict) and the CRDs rendered with it. @default true */
  readonly validateManifests?: boolean;
  /**
   * The KubeEdge join token written into the edge nodes' edgecore config. It only exists once cloudcore runs
   * (Secret kubeedge/tokensecret), so synth normally leaves a placeholder.
   * @default - EDGECLOUD_KUBEEDGE_TOKEN, else "<kubeedge-join-token>"
   */
  readonly kubeedgeToken?: string;
  /** Rancher registration manifest URL (secret). @default - EDGECLOUD_RANCHER_MANIFEST_URL, else the environment's, else a placeholder */
  readonly rancherManifestUrl?: string;
}

/** Everything an environment turns into, without touching a host or a cluster. */
export interface SynthOutput {
  readonly environment: Environment;
  /** Every host step, in a dependency-respecting order. */
  readonly plan: StepPlan;
  /** Host name → its steps, in plan order (the order the numbered scripts run in). */
  readonly hosts: Readonly<Record<string, readonly HostStep[]>>;
  /** Component → the Kubernetes objects it applies (or K3s auto-deploys), validated. */
  readonly manifests: Readonly<Record<string, readonly KubeObject[]>>;
  /** Files for the user that no host step places (edge pools' join bundles), in component order. */
  readonly artifacts: readonly DistArtifact[];
  readonly topology: EnvironmentTopology;
  /** Things the reader must know (placeholders left in, secrets in the output). */
  readonly notes: readonly string[];
}

/**
 * Renders an environment: every component's host steps, wired across components, and every component's manifests,
 * validated strictly. Pure apart from generating material (randomness) when asked to.
 */
export async function synthesize(env: Environment, opts: SynthOptions = {}): Promise<SynthOutput> {
  const progress = opts.onProgress ?? (() => undefined);
  const kind = opts.material ?? "generated";
  progress(`material: ${kind === "generated" ? "generating token and certificates" : "placeholders"}`);
  const material = await environmentMaterial(env, kind);
  return synthesizeWith(env, material, opts);
}

/** {@link synthesize} with material already at hand (synchronous: the benchmark times this). */
export function synthesizeWith(env: Environment, material: EnvironmentMaterial, opts: SynthOptions = {}): SynthOutput {
  const progress = opts.onProgress ?? (() => undefined);
  const notes: string[] = [];
  const steps: HostStep[] = [];
  const manifests: Record<string, KubeObject[]> = {};
  const artifacts: DistArtifact[] = [];
  // one walk of the composition: the wires first (plain values from the material), then each component in order
  const present = COMPOSITION.filter((c) => c.present(env));
  const wires: Partial<PlainWires> = {};
  for (const c of present) Object.assign(wires, c.wires?.(env, material));
  const phases = new PhaseBook<string>(present, env);
  for (const c of present) {
    progress(`${c.id}: ${c.describe(env)}`);
    const r = c.render({
      env,
      material,
      opts,
      wire: (name) => wires[name],
      after: (ps) => phases.resolve(ps, c.id),
    });
    steps.push(...(r.steps ?? []));
    if (r.manifests !== undefined) manifests[c.id] = [...r.manifests];
    for (const a of r.artifacts ?? []) {
      const problem = artifactProblem(a);
      if (problem !== undefined) throw new Error(`${c.id}: ${problem}`);
      if (artifacts.some((o) => o.path === a.path)) throw new Error(`${c.id}: artifact "${a.path}" is rendered twice`);
      artifacts.push(a);
    }
    notes.push(...(r.notes ?? []));
    phases.mark(r.phases);
  }

  progress(`plan: ordering ${steps.length} steps`);
  const plan = makePlan(steps);
  const hosts: Record<string, HostStep[]> = Object.fromEntries(env.hosts.map((h) => [h.name, [] as HostStep[]]));
  for (const s of plan.steps) (hosts[s.host] ??= []).push(s);

  if (opts.validateManifests ?? true) {
    const all = Object.values(manifests).flat();
    progress(`manifests: validating ${all.length} objects (Kubernetes v1.32, strict)`);
    const issues = new IssueCollector();
    collectObjectIssues(issues, all);
    issues.throwIfAny(`environment "${env.name}": invalid Kubernetes objects`);
  }
  if (material.kind === "generated")
    notes.push(
      "the host scripts carry the generated token, keys and passwords: the output is written 0700/0600; never commit it",
    );
  return { environment: env, plan, hosts, manifests, artifacts, topology: environmentTopology(env), notes };
}
