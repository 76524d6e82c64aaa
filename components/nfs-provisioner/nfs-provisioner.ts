import type * as k8s from "@pulumi/kubernetes";
import { ProvisioningLimits, provisioningLimits } from "../../lib/steps/provisioning";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../lib/hosts/host";
import { chartObjects, newApp } from "../../lib/manifests";
import { HostStepExecutor, hostStepCommands, StepResource } from "../../lib/pulumi/host-step-commands";
import { applyObjects, clusterProvider, validObjects } from "../../lib/pulumi/manifests";
import { makePlan } from "../../lib/steps/plan";
import { IssueCollector } from "../../lib/validation/issues";
import { NfsProvisionerChart } from "./chart";
import { nfsClientSteps } from "./client-steps";
import { nfsServerSteps } from "./server-steps";
import { NfsProvisionerProps, NfsProvisionerSpecInput, validateNfsProvisioner } from "./spec";

export interface NfsProvisionerArgs {
  /** Server (a host or an external one), provisioner, StorageClass. */
  readonly spec: NfsProvisionerSpecInput;
  /** The environment's hosts: the NFS server host and every K3s node (each gets the NFS client). */
  readonly hosts: readonly Host[];
  /** Kubeconfig of the cluster (a secret). */
  readonly kubeconfig: pulumi.Input<string>;
  /** Resources to wait for, e.g. the K3sHaCluster. @default [] */
  readonly dependsOn?: readonly pulumi.Resource[];
  /**
   * What runs the host steps: `"command"` (Pulumi's command provider, needs the `pulumi-resource-command` plugin)
   * or `"in-process"` (`HostStepRun`: SSH from the program itself, no plugin). See K3sHaClusterArgs.executor.
   * @default "command"
   */
  readonly executor?: HostStepExecutor;
  /**
   * How many host steps run at once: over every host, per host, hosts at once (validated; see
   * docs/provisioning.md). The in-process executor enforces it; the command executor is bounded by
   * `pulumi up --parallel N` alone.
   * @default - 32 steps at once, 4 per host
   */
  readonly provisioning?: ProvisioningLimits;
}

/**
 * NFS-backed dynamic provisioning: the NFS server on its host (or an external one), the NFS client on every K3s
 * node, csi-driver-nfs (default) or nfs-subdir-external-provisioner, and a StorageClass — by default the cluster's
 * default class, so the Registry's and DroneCi's PVCs land on NFS.
 */
export class NfsProvisioner extends pulumi.ComponentResource {
  static readonly TYPE = "edgecloud:storage:NfsProvisioner";
  readonly storageClassName: string;
  /** One resource per host step, by step id (`<host>/nfs-server`, `<host>/nfs-client`). */
  readonly steps: ReadonlyMap<string, StepResource>;
  readonly objects: k8s.yaml.v2.ConfigGroup;

  constructor(name: string, args: NfsProvisionerArgs, opts?: pulumi.ComponentResourceOptions) {
    const props = validateNfsProvisionerArgs(args);
    const objects = validObjects(chartObjects(new NfsProvisionerChart(newApp(), "nfs", props)));
    const plan = makePlan([...nfsServerSteps(props), ...nfsClientSteps(props)]);
    provisioningLimits(args.provisioning); // throws a ValidationError naming each problem, before any resource
    super(NfsProvisioner.TYPE, name, {}, opts);
    this.storageClassName = props.spec.storageClass.name;
    this.steps = hostStepCommands(
      { structure: plan.steps },
      {
        parent: this,
        prefix: name,
        hosts: args.hosts,
        dependsOn: args.dependsOn,
        executor: args.executor,
        provisioning: args.provisioning,
      },
    );
    const provider = clusterProvider(`${name}-provider`, args.kubeconfig, this);
    this.objects = applyObjects(`${name}-objects`, objects, {
      parent: this,
      provider,
      dependsOn: [...this.steps.values(), ...(args.dependsOn ?? [])],
    });
    this.registerOutputs({ storageClassName: this.storageClassName });
  }
}

/** Validates the args before any resource exists; throws one ValidationError listing every problem. */
export function validateNfsProvisionerArgs(args: NfsProvisionerArgs): NfsProvisionerProps {
  const issues = new IssueCollector();
  const props = validateNfsProvisioner(args.spec, args.hosts, issues, "nfs");
  issues.throwIfAny("invalid NfsProvisioner");
  return props!;
}
