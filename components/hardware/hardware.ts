import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../lib/hosts/host";
import { applyObjects, clusterProvider } from "../../lib/pulumi/manifests";
import { hardwareObjects } from "./objects";

export const HARDWARE_FEATURES_TYPE = "edgecloud:hardware:HardwareFeatures";

export interface HardwareFeaturesArgs {
  /** The environment's validated hosts: their capabilities decide what is applied. */
  readonly hosts: readonly Host[];
  /** The cluster's kubeconfig (a secret). */
  readonly kubeconfig: pulumi.Input<string>;
  /** What must exist first (the last server's start). @default [] */
  readonly dependsOn?: readonly pulumi.Resource[];
}

/** RuntimeClasses and device plugins for the hosts' capabilities ({@link hardwareObjects}), as one ConfigGroup. */
export class HardwareFeatures extends pulumi.ComponentResource {
  /** `<Kind>/<name>` of every object applied. */
  readonly objects: pulumi.Output<string[]>;

  constructor(name: string, args: HardwareFeaturesArgs, opts?: pulumi.ComponentResourceOptions) {
    super(HARDWARE_FEATURES_TYPE, name, {}, opts);
    const objects = hardwareObjects(args.hosts);
    const provider = clusterProvider(`${name}-provider`, args.kubeconfig, this);
    applyObjects(`${name}-objects`, objects, { parent: this, provider, dependsOn: [...(args.dependsOn ?? [])] });
    this.objects = pulumi.output(objects.map((o) => `${o.kind}/${o.metadata.name}`));
    this.registerOutputs({ objects: this.objects });
  }
}
