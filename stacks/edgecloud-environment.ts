import * as pulumi from "@pulumi/pulumi";
import { droneComponent } from "../components/drone-ci/descriptor";
import type { DroneCi } from "../components/drone-ci/drone-ci";
import { edgeXComponent } from "../components/edgex-stack/descriptor";
import type { EdgeXStack } from "../components/edgex-stack/edgex-stack";
import { hardwareComponent } from "../components/hardware/descriptor";
import type { HardwareFeatures } from "../components/hardware/hardware";
import { k3sComponent } from "../components/k3s-ha-cluster/descriptor";
import type { K3sHaCluster } from "../components/k3s-ha-cluster/k3s-ha-cluster";
import { clusterTopology } from "../components/k3s-ha-cluster/topology";
import { kubeEdgeComponent } from "../components/kubeedge-cloud/descriptor";
import type { KubeEdgeCloud } from "../components/kubeedge-cloud/kubeedge-cloud";
import { nfsComponent } from "../components/nfs-provisioner/descriptor";
import type { NfsProvisioner } from "../components/nfs-provisioner/nfs-provisioner";
import { registryComponent } from "../components/registry/descriptor";
import type { Registry } from "../components/registry/registry";
import { HostStepExecutor } from "../lib/pulumi/host-step-commands";
import { ProvisioningLimits, provisioningLimits } from "../lib/steps/provisioning";
import { joinHostPort } from "../lib/validation/net";
import type { ComponentDescriptor, OutputWires, WireName } from "./component-descriptor";
import { COMPOSITION, PhaseBook } from "./composition";
import { Environment, validateEnvironment } from "./environment";
import { wireEnvironment } from "./wiring";

export const ENVIRONMENT_TYPE = "edgecloud:stacks:Environment";

export interface EdgecloudEnvironmentArgs {
  /**
   * The environment as parsed from its file, secret references already resolved (to secret Outputs). Validated
   * as a whole before any resource exists: every problem of every section is reported at once.
   */
  readonly environment: Record<string, unknown>;
  /** Rancher's registration manifest URL (secret) when the environment has a `rancher` section. @default - the environment's `rancher.manifestUrl` */
  readonly rancherManifestUrl?: pulumi.Input<string>;
  /**
   * What runs every component's host steps: `"command"` (Pulumi's command provider plugin) or `"in-process"`
   * (`HostStepRun`, SSH from the program itself, no plugin). @default "command"
   */
  readonly executor?: HostStepExecutor;
  /**
   * How many host steps run at once, for every component with host steps (validated by each; docs/provisioning.md).
   * @default - ProvisioningLimits' defaults
   */
  readonly provisioning?: ProvisioningLimits;
}

/**
 * One environment as a Pulumi component: the K3s cluster plus every component section the environment has, wired
 * together (the registry reaches every node's registries.yaml; in-cluster components get the cluster's kubeconfig
 * and wait for it; an optional import into Rancher after the servers are up).
 */
export class EdgecloudEnvironment extends pulumi.ComponentResource {
  readonly environment: Environment;
  readonly cluster: K3sHaCluster;
  /** @default - undefined without a `registry` section */
  readonly registry?: Registry;
  /** @default - undefined without an `nfs` section */
  readonly nfs?: NfsProvisioner;
  /** @default - undefined without a `drone` section */
  readonly drone?: DroneCi;
  /** @default - undefined without a `kubeedge` section */
  readonly kubeedge?: KubeEdgeCloud;
  /** @default - undefined without an `edgex` section */
  readonly edgex?: EdgeXStack;
  /** @default - undefined when no host declares a GPU, Kata or SR-IOV capability */
  readonly hardware?: HardwareFeatures;
  /** Admin kubeconfig (secret), addressed to the registration address. */
  readonly kubeconfig: pulumi.Output<string>;
  /** What agents and kubectl use: `https://<address>:6443`. */
  readonly apiServer: string;

  constructor(name: string, args: EdgecloudEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    // everything knowable is validated before any resource exists, this component included
    const env = validateEnvironment(args.environment, `"${name}"`);
    if (args.provisioning !== undefined) provisioningLimits(args.provisioning);
    super(ENVIRONMENT_TYPE, name, {}, opts);
    this.environment = env;
    const raw = wireEnvironment(args.environment);

    // one walk of the composition (the same list synth walks): each component constructed in order, handed the wires
    // and phases of the others
    const present = COMPOSITION.filter((c) => c.present(env));
    const providers = new Map<WireName, string>();
    for (const c of present) for (const w of c.provides?.(env) ?? []) providers.set(w, c.id);
    const wires = new Map<WireName, unknown>();
    const pending = new Map<WireName, { promise: Promise<unknown>; resolve: (v: unknown) => void }>();
    const phases = new PhaseBook<pulumi.Resource>(present, env);
    const deployed = new Map<ComponentDescriptor, unknown>();
    for (const c of present) {
      const part = c.deploy({
        name,
        env,
        raw,
        executor: args.executor,
        ...(args.provisioning !== undefined ? { provisioning: args.provisioning } : {}),
        parent: this,
        ...(args.rancherManifestUrl !== undefined ? { rancherManifestUrl: args.rancherManifestUrl } : {}),
        wire: <W extends WireName>(w: W): OutputWires[W] | undefined => {
          if (!providers.has(w)) return undefined;
          if (wires.has(w)) return wires.get(w) as OutputWires[W];
          // provided by a component later in the list: an Output settled when that one is constructed
          if (!pending.has(w)) pending.set(w, deferred());
          const later = pulumi.output(pending.get(w)!.promise as Promise<OutputWires[W]>);
          return pulumi.secret(later.apply((v) => v)) as unknown as OutputWires[W];
        },
        after: (ps) => phases.resolve(ps, c.id),
      });
      deployed.set(c, part.component);
      for (const [w, v] of Object.entries(part.wires ?? {}) as [WireName, unknown][]) {
        wires.set(w, v);
        pending.get(w)?.resolve(v);
      }
      phases.mark(part.phases);
    }
    for (const w of pending.keys())
      if (!wires.has(w)) throw new Error(`${providers.get(w)} said it provides "${w}" but did not`);
    const get = <C>(d: ComponentDescriptor<C>) => deployed.get(d as ComponentDescriptor) as C | undefined;

    this.cluster = get(k3sComponent)!;
    this.registry = get(registryComponent);
    this.nfs = get(nfsComponent);
    this.drone = get(droneComponent);
    this.kubeedge = get(kubeEdgeComponent);
    this.edgex = get(edgeXComponent);
    this.hardware = get(hardwareComponent);
    this.kubeconfig = this.cluster.kubeconfig;
    this.apiServer = `https://${joinHostPort(clusterTopology(env.cluster).registrationAddress, 6443)}`;

    this.registerOutputs({
      kubeconfig: this.kubeconfig,
      apiServer: this.apiServer,
      registryEndpoint: this.registry?.endpoint,
      storageClass: this.nfs?.storageClassName,
      droneUrl: this.drone?.serverUrl,
      cloudcoreAddress: this.kubeedge?.cloudcoreAddress,
    });
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
