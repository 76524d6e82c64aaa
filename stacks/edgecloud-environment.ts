import * as pulumi from "@pulumi/pulumi";
import { K3sHaCluster } from "../components/k3s-ha-cluster/k3s-ha-cluster";
import { clusterTopology } from "../components/k3s-ha-cluster/topology";
import { DroneCi } from "../components/drone-ci/drone-ci";
import { EdgeXStack } from "../components/edgex-stack/edgex-stack";
import { HardwareFeatures } from "../components/hardware/hardware";
import { hardwareObjects } from "../components/hardware/objects";
import { KubeEdgeCloud } from "../components/kubeedge-cloud/kubeedge-cloud";
import { NfsProvisioner } from "../components/nfs-provisioner/nfs-provisioner";
import { Registry } from "../components/registry/registry";
import { HostInput } from "../lib/hosts/host";
import { HostStepExecutor, hostStepCommands } from "../lib/pulumi/host-step-commands";
import { Environment, validateEnvironment } from "./environment";
import { rancherImportStep } from "./rancher-import";
import { wireEnvironment } from "./wiring";
import { joinHostPort } from "../lib/validation/net";

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
    super(ENVIRONMENT_TYPE, name, {}, opts);
    const env = validateEnvironment(args.environment, `"${name}"`);
    this.environment = env;
    const raw = wireEnvironment(args.environment) as {
      hosts: HostInput[];
      k3s?: unknown;
      nfs?: unknown;
      registry?: unknown;
      drone?: unknown;
      kubeedge?: unknown;
      edgex?: unknown;
    };
    const topo = clusterTopology(env.cluster);
    const executor = args.executor;

    // The registry first: every K3s node's registries.yaml (mirror, node user's credentials, CA) comes from it. In
    // cluster mode it also needs the cluster's kubeconfig and the NFS objects, which exist only later: both are
    // handed over as promises, settled below once those resources are constructed.
    const kubeconfigLater = deferred<pulumi.Output<string>>();
    const storageLater = deferred<pulumi.Resource>();
    if (env.registry) {
      const inCluster = env.registry.spec.mode.kind === "in-cluster";
      this.registry = new Registry(
        `${name}-registry`,
        {
          spec: raw.registry as never,
          hosts: env.hosts,
          executor,
          ...(inCluster
            ? {
                kubeconfig: pulumi.secret(pulumi.output(kubeconfigLater.promise).apply((k) => k)),
                dependsOn: [lazyResource(storageLater.promise)],
              }
            : {}),
        },
        { parent: this },
      );
    }

    this.cluster = new K3sHaCluster(
      env.name,
      {
        hosts: raw.hosts,
        spec: raw.k3s as never,
        executor,
        ...(this.registry ? { registries: this.registry.k3sRegistries } : {}),
      },
      { parent: this },
    );
    this.kubeconfig = this.cluster.kubeconfig;
    kubeconfigLater.resolve(this.kubeconfig);
    this.apiServer = `https://${joinHostPort(topo.registrationAddress, 6443)}`;
    const lastServerStart = this.cluster.serversStarted;
    // other components install packages too: on a CentOS 7 host only after its yum points at its packageMirror
    const packageRepos = this.cluster.packageRepos;

    // RuntimeClasses and device plugins once the servers are up (the capability steps ran before K3s started)
    if (hardwareObjects(env.hosts).length > 0)
      this.hardware = new HardwareFeatures(
        `${name}-hardware`,
        { hosts: env.hosts, kubeconfig: this.kubeconfig, dependsOn: [lastServerStart] },
        { parent: this },
      );

    // NFS before the workloads whose PVCs use its StorageClass (wireEnvironment set the class on them).
    if (env.nfs) {
      this.nfs = new NfsProvisioner(
        `${name}-nfs`,
        {
          spec: raw.nfs as never,
          hosts: env.hosts,
          kubeconfig: this.kubeconfig,
          dependsOn: [lastServerStart, ...packageRepos],
          executor,
        },
        { parent: this },
      );
    }
    const storageReady = this.nfs ? [this.nfs.objects] : [lastServerStart];
    storageLater.resolve(storageReady[0]!);

    if (env.drone) {
      this.drone = new DroneCi(
        `${name}-drone`,
        {
          spec: raw.drone as never,
          kubeconfig: this.kubeconfig,
          dependsOn: storageReady,
          ...(this.registry?.ciAccess ? { pipelineRegistry: this.registry.ciAccess } : {}),
        },
        { parent: this },
      );
    }

    // Edge nodes join cloudcore's advertised address; EdgeX (arches and version wired) waits for them.
    if (env.kubeedge) {
      this.kubeedge = new KubeEdgeCloud(
        `${name}-kubeedge`,
        {
          hosts: raw.hosts,
          spec: raw.kubeedge as never,
          kubeconfig: this.kubeconfig,
          clusterReady: [lastServerStart, ...packageRepos],
          executor,
          ...(this.registry ? { registries: this.registry.k3sRegistries } : {}),
        },
        { parent: this },
      );
    }
    if (env.edgex) {
      this.edgex = new EdgeXStack(
        `${name}-edgex`,
        {
          spec: raw.edgex as never,
          kubeconfig: this.kubeconfig,
          after: [...(this.kubeedge ? [this.kubeedge] : []), ...storageReady],
        },
        { parent: this },
      );
    }

    if (env.rancher) {
      const rancher = env.rancher;
      const url = pulumi.secret(pulumi.output(args.rancherManifestUrl ?? rancher.manifestUrl ?? ""));
      const first = topo.servers[0]!;
      const placeholder = rancherImportStep(first, rancher, `${rancher.server}/v3/import/PLACEHOLDER.yaml`, []);
      hostStepCommands(
        {
          structure: [placeholder],
          material: url.apply((u) => {
            if (u === "")
              throw new Error(
                `environment "${env.name}": rancher.manifestUrl is not set; pulumi config set --secret edgecloud:rancherManifestUrl <url>`,
              );
            return u;
          }),
          render: (u) => [rancherImportStep(first, rancher, u, [])],
        },
        { parent: this, prefix: `${name}-rancher`, hosts: [first], dependsOn: [lastServerStart], executor },
      );
    }

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

/**
 * A resource known only later, as a `dependsOn` entry: Pulumi's runtime awaits promises in `dependsOn`
 * (`Input<Resource>`), while component args type the list as resources.
 */
function lazyResource(p: Promise<pulumi.Resource>): pulumi.Resource {
  return p as unknown as pulumi.Resource;
}
