import type * as pulumi from "@pulumi/pulumi";
import type { RegistryCiAccess } from "../components/registry/ci-user";
import type { K3sRegistries } from "../lib/k3s/registries";
import type { HostStepExecutor } from "../lib/pulumi/host-step-commands";
import type { KubeObject } from "../lib/manifests/kube-object";
import type { HostStep } from "../lib/steps/host-step";
import type { ProvisioningLimits } from "../lib/steps/provisioning";
import type { K3sHaClusterProps } from "../components/k3s-ha-cluster/spec";
import type { Host } from "../lib/hosts/host";
import type { IssueCollector } from "../lib/validation/issues";
import type { DistArtifact } from "./dist-artifact";
import type { Environment } from "./environment";
import type { EnvironmentMaterial } from "./material";

/**
 * The points in an environment's rollout other components wait for. The K3s cluster marks the first two, the NFS
 * provisioner `storage` (the cluster's start when there is no NFS), KubeEdge `edge-nodes`. A component waits for a
 * phase, never for another component's step by name.
 */
export type Phase = "servers-started" | "package-repos" | "storage" | "edge-nodes";

/**
 * What components hand each other: the registry's K3s registries.yaml (every node's mirror, credentials, CA) and its
 * CI pusher's access, the cluster's kubeconfig. `V` wraps each value: plain for synth, a Pulumi Output for the stack.
 */
export interface Wires<V extends Wrap> {
  readonly registries: V["registries"];
  readonly ciAccess: V["ciAccess"];
  readonly kubeconfig: V["kubeconfig"];
}
export interface Wrap {
  readonly registries: unknown;
  readonly ciAccess: unknown;
  readonly kubeconfig: unknown;
}
export type WireName = keyof Wires<Wrap>;

/** Synth's wires: plain values (the kubeconfig exists only once the cluster runs). */
export interface PlainWires extends Wrap {
  readonly registries: K3sRegistries;
  readonly ciAccess: RegistryCiAccess;
  readonly kubeconfig: never;
}
/** The stack's wires: secret Outputs. */
export interface OutputWires extends Wrap {
  readonly registries: pulumi.Output<K3sRegistries>;
  readonly ciAccess: pulumi.Output<RegistryCiAccess>;
  readonly kubeconfig: pulumi.Output<string>;
}

/** Synth's options a component reads (a subset of SynthOptions). */
export interface RenderOptions {
  readonly kubeedgeToken?: string;
  readonly rancherManifestUrl?: string;
}

/** What a component's renderer sees: the validated environment, synth's material, the wires and the phases. */
export interface RenderContext {
  readonly env: Environment;
  readonly material: EnvironmentMaterial;
  readonly opts: RenderOptions;
  /** A wire another component provides; undefined when that component is absent (or does not provide it). */
  wire<W extends WireName>(name: W): PlainWires[W] | undefined;
  /** The step ids that mark the phases (the K3s cluster's steps are rendered first). */
  after(phases: readonly Phase[]): string[];
}

/**
 * What a component renders: host steps, manifests, artifacts (files for the user that no host step places, e.g. an
 * edge pool's join bundle), notes for the reader, and the phases it marks (step ids).
 */
export interface Rendered {
  readonly steps?: readonly HostStep[];
  readonly manifests?: readonly KubeObject[];
  readonly artifacts?: readonly DistArtifact[];
  readonly notes?: readonly string[];
  readonly phases?: Partial<Record<Phase, readonly string[]>>;
}

/** What a component's Pulumi half sees. */
export interface DeployContext {
  /** The environment component's name: children are `${name}-<component>`. */
  readonly name: string;
  readonly env: Environment;
  /** The environment's sections as written (wired, secret references resolved to secret Outputs). */
  readonly raw: Readonly<Record<string, unknown>>;
  readonly executor?: HostStepExecutor;
  /** How many host steps run at once (every component with host steps gets the same limits). */
  readonly provisioning?: ProvisioningLimits;
  readonly parent: pulumi.Resource;
  readonly rancherManifestUrl?: pulumi.Input<string>;
  /** A wire another component provides (resolved when it deploys, whatever the order); undefined when absent. */
  wire<W extends WireName>(name: W): OutputWires[W] | undefined;
  /** The resources that mark the phases (resolved when their component deploys, whatever the order). */
  after(phases: readonly Phase[]): pulumi.Resource[];
}

/** What a component's Pulumi half returns: the component, the wires and the phases it provides. */
export interface Deployed<C> {
  readonly component: C;
  readonly wires?: Partial<{ [W in WireName]: OutputWires[W] }>;
  readonly phases?: Partial<Record<Phase, readonly pulumi.Resource[]>>;
}

/**
 * What the environment's sections take from each other before validation, so that a wired value is validated like
 * one the user wrote. Each is filled only where the user left the field unset.
 */
export interface SectionWires {
  /** The NFS StorageClass: the in-cluster registry's, Drone's and EdgeX's PVCs. @default - no NFS section */
  readonly storageClass?: string;
  /** The cluster's K3s version: KubeEdge's and EdgeX's compatibility checks. */
  readonly kubernetesVersion: string;
  /** The pod network: the in-cluster registry's NetworkPolicy admits it (NodePort pulls arrive masqueraded). */
  readonly clusterCidr: string;
  /** The pod interface MTU of the cluster's CNI: Drone's Docker-in-Docker runner. */
  readonly podMtu: number;
  /** The architectures of the hosts with the role "edge": EdgeX's DaemonSets. */
  readonly edgeArches: readonly string[];
}

/** What a section's check sees besides its section. */
export interface CheckContext {
  readonly issues: IssueCollector;
  /** The hosts, validated (their problems are reported by the cluster's check). */
  readonly hosts: readonly Host[];
  /** The validated cluster. @default - undefined when the cluster's section has problems */
  readonly cluster?: K3sHaClusterProps;
  /** The environment's sections as parsed (wired). */
  readonly file: Readonly<Record<string, unknown>>;
}

/** A port one role of the environment listens on, on some hosts or (a NodePort) on every K3s node. */
export interface Listener {
  readonly port: number;
  readonly proto: "tcp" | "udp";
  /** The field that sets it (or the component's fixed port). */
  readonly field: string;
  /** Host names it binds on. @default - every K3s node (a NodePort) */
  readonly hosts?: readonly string[];
}

/**
 * One component of an environment, declared once; synth ({@link synthesizeWith}) and the Pulumi stack
 * ({@link EdgecloudEnvironment}) walk the same list ({@link COMPOSITION}). The Pulumi half is loaded only when the
 * stack deploys, so synth runs without Pulumi.
 */
export interface ComponentDescriptor<C = unknown> {
  /** The component's name: its manifests' key in synth's output and dist/, its progress lines. */
  readonly id: string;
  /** Its section in the environment file (validated by its own check). @default - none (the component needs none) */
  readonly section?: string;
  /** The section wires this component provides, read from the raw (unvalidated) environment. */
  sectionWires?(raw: Readonly<Record<string, unknown>>): Partial<SectionWires>;
  /** Its raw section with what it takes from the others filled in (only fields the user left unset). */
  wireSection?(section: Readonly<Record<string, unknown>>, wires: SectionWires): Record<string, unknown>;
  /** Its section's fields that hold secrets (relative to the section): in a file they must be secret references. */
  readonly secretFields?: readonly RegExp[];
  /**
   * Validates its section (already wired) into the validated environment's `field`, reporting every problem into
   * `ctx.issues` with paths from the section's name; called only when the section is present.
   */
  check?(section: unknown, ctx: CheckContext): unknown;
  /** Checks the environment makes when the section is absent (e.g. hosts that need it). */
  checkAbsent?(ctx: CheckContext): void;
  /** Where the validated section goes in {@link Environment}. @default - the section's name */
  readonly field?: string;
  /** The ports it listens on, for the environment's clash check. */
  listeners?(env: Environment): readonly Listener[];
  /** Whether the environment has this component (its section is present, a host declares what it needs…). */
  present(env: Environment): boolean;
  /** The wires this component provides in this environment (known before anything renders or deploys). */
  provides?(env: Environment): readonly WireName[];
  /** The phases this component marks in this environment. */
  marks?(env: Environment): readonly Phase[];
  /**
   * Synth: its secret material (generated, or placeholders of the right shape), from the same requests its Pulumi
   * half generates from. The stack keeps its own in state.
   */
  material?(env: Environment, kind: EnvironmentMaterial["kind"]): Promise<Partial<Omit<EnvironmentMaterial, "kind">>>;
  /** Synth: the wires' plain values, from the environment and synth's material (before anything renders). */
  wires?(env: Environment, material: EnvironmentMaterial): Partial<PlainWires>;
  /** One progress line (what is rendered, where). */
  describe(env: Environment): string;
  /** Synth: host steps, manifests and notes (pure). */
  render(ctx: RenderContext): Rendered;
  /** The stack: the component's Pulumi resources. */
  deploy(ctx: DeployContext): Deployed<C>;
}
