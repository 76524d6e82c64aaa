import { serversStartedStepId } from "../components/k3s-ha-cluster/anchors";
import { renderK3sHaClusterSteps } from "../components/k3s-ha-cluster/plan";
import { clusterTopology } from "../components/k3s-ha-cluster/topology";
import { kubeVipChart } from "../components/k3s-ha-cluster/registration/kube-vip-chart";
import { DroneCiChart } from "../components/drone-ci/chart";
import { pipelineSecretNames } from "../components/drone-ci/pipeline-access";
import { registryCiAccess } from "../components/registry/ci-user";
import { edgeXObjects } from "../components/edgex-stack/chart";
import { cloudCoreObjects } from "../components/kubeedge-cloud/cloudcore-chart";
import { KUBEEDGE_COMPONENT, TOKEN_PLACEHOLDER } from "../components/kubeedge-cloud/edge-node-steps";
import { kubeEdgeHostSteps } from "../components/kubeedge-cloud/host-steps";
import { HARDWARE_COMPONENT, hardwareObjects } from "../components/hardware/objects";
import { NfsProvisionerChart } from "../components/nfs-provisioner/chart";
import { nfsClientSteps } from "../components/nfs-provisioner/client-steps";
import { NFS_COMPONENT, nfsServerSteps } from "../components/nfs-provisioner/server-steps";
import { RegistryChart } from "../components/registry/chart";
import { registryHostSteps } from "../components/registry/host-steps";
import { registryK3sRegistries } from "../components/registry/k3s-registries";
import { mergeRegistries } from "../lib/k3s/registries";
import { chartObjects, newApp } from "../lib/manifests/chart";
import { KubeObject } from "../lib/manifests/kube-object";
import { collectObjectIssues } from "../lib/manifests/validate";
import { HostStep } from "../lib/steps/host-step";
import { StepPlan, makePlan } from "../lib/steps/plan";
import { IssueCollector } from "../lib/validation/issues";
import { Environment } from "./environment";
import { EnvironmentMaterial, environmentMaterial } from "./material";
import { RANCHER_COMPONENT, rancherImportStep } from "./rancher-import";
import { EnvironmentTopology, environmentTopology } from "./topology";

export const K3S_COMPONENT = "k3s-ha-cluster";
export const EDGEX_COMPONENT = "edgex-stack";

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
  // Other components' steps go after the cluster's, so each host's numbered scripts start with its pre-flight.
  const later: HostStep[] = [];
  const manifests: Record<string, KubeObject[]> = {};
  const reg = env.cluster.spec.registrationAddress;
  if (reg?.kind === "kube-vip")
    manifests[K3S_COMPONENT] = chartObjects(kubeVipChart({ vip: reg.vip, interface: reg.interface, image: reg.image }));

  if (env.nfs) {
    progress(
      `${NFS_COMPONENT}: rendering (server ${env.nfs.serverAddress}:${env.nfs.exportPath}, StorageClass "${env.nfs.spec.storageClass.name}")`,
    );
    later.push(...nfsServerSteps(env.nfs), ...nfsClientSteps(env.nfs));
    manifests[NFS_COMPONENT] = chartObjects(new NfsProvisionerChart(newApp(), "nfs", env.nfs));
  }

  // RuntimeClasses and device plugins for the hosts' capabilities (GPU, Kata, SR-IOV)
  const hardware = hardwareObjects(env.hosts);
  if (hardware.length) {
    progress(`${HARDWARE_COMPONENT}: rendering ${hardware.length} objects for the hosts' capabilities`);
    manifests[HARDWARE_COMPONENT] = hardware;
  }

  // Cross-component wiring happens here, on plain props: the registry reaches every node's registries.yaml.
  const registry = material.registry;
  const cluster = registry
    ? { ...env.cluster, registries: mergeRegistries(env.cluster.registries, registryK3sRegistries(registry)) }
    : env.cluster;
  if (registry) {
    progress(`registry: rendering (${registry.spec.mode.kind} mode, endpoint ${registry.endpoint})`);
    if (registry.spec.mode.kind === "in-cluster")
      manifests.registry = chartObjects(new RegistryChart(newApp(), "registry", registry));
    else later.push(...registryHostSteps(registry));
  }

  if (material.drone) {
    const d = material.drone;
    progress(`drone-ci: rendering (${d.spec.provider.kind} at ${d.providerServer}, ${d.spec.runner.kind} runner)`);
    // pipelines push as the registry's CI user, trusting its CA
    const ci = registry ? registryCiAccess(registry) : undefined;
    const drone = ci ? { ...d, pipelineRegistry: ci } : d;
    manifests["drone-ci"] = chartObjects(new DroneCiChart(newApp(), "drone", drone));
    if (ci)
      notes.push(
        `pipelines push to ${ci.endpoint}/<repository>:<tag> as "${ci.username}"; their secrets: ${pipelineSecretNames(drone).join(", ")} (docs/ci-pipeline.md)`,
      );
  }

  // the same registry for the edge nodes' containerd
  const ke = env.kubeedge && registry ? { ...env.kubeedge, registries: registryK3sRegistries(registry) } : env.kubeedge;
  if (ke) {
    progress(
      `${KUBEEDGE_COMPONENT}: rendering cloudcore (${ke.spec.mode}) and ${ke.edgeHosts.length} edge node(s) joining ${ke.join.cloudcoreIpPort}`,
    );
    // the stream certificate Secret is made on a server by K3s's CA (host step kubeedge-stream-cert)
    if (ke.spec.mode === "manifests") manifests[KUBEEDGE_COMPONENT] = cloudCoreObjects(ke);
    const token = opts.kubeedgeToken ?? process.env.EDGECLOUD_KUBEEDGE_TOKEN;
    if (token === undefined && ke.edgeHosts.length > 0)
      notes.push(
        `kubeedge: the edge nodes' join steps hold ${TOKEN_PLACEHOLDER}; the token exists once cloudcore runs (kubectl -n kubeedge get secret tokensecret), then set EDGECLOUD_KUBEEDGE_TOKEN and synth again`,
      );
    // keadm init (keadm mode), the token wait, cloud firewall ports, then the edge joins — as the component does
    later.push(...kubeEdgeHostSteps(ke, token ?? TOKEN_PLACEHOLDER));
  }
  if (env.edgex) {
    progress(
      `${EDGEX_COMPONENT}: rendering EdgeX ${env.edgex.spec.release} (${env.edgex.spec.placement}, ${env.edgex.arches.join("/")})`,
    );
    manifests[EDGEX_COMPONENT] = edgeXObjects(env.edgex);
  }

  progress(`${K3S_COMPONENT}: rendering host steps`);
  const topo = clusterTopology(cluster);
  steps.push(...renderK3sHaClusterSteps(cluster, material.cluster), ...later);
  const lastServerStart = serversStartedStepId(topo);

  if (env.rancher) {
    progress(`${RANCHER_COMPONENT}: rendering the registration step`);
    const url = opts.rancherManifestUrl ?? process.env.EDGECLOUD_RANCHER_MANIFEST_URL ?? env.rancher.manifestUrl;
    if (url === undefined)
      notes.push(
        `rancher: no registration manifest URL given; the rancher-import step holds a placeholder (set EDGECLOUD_RANCHER_MANIFEST_URL, or pulumi config set --secret edgecloud:rancherManifestUrl)`,
      );
    steps.push(
      rancherImportStep(topo.servers[0]!, env.rancher, url ?? `${env.rancher.server}/v3/import/PLACEHOLDER.yaml`, [
        lastServerStart,
      ]),
    );
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
  return { environment: env, plan, hosts, manifests, topology: environmentTopology(env), notes };
}
