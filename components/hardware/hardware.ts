import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../lib/hosts/host";
import { applyObjects, clusterProvider, validObjects } from "../../lib/pulumi/manifests";
import { hardwareObjects } from "./objects";

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
  static readonly TYPE = "edgecloud:hardware:HardwareFeatures";
  /** `<Kind>/<name>` of every object applied. */
  readonly objects: pulumi.Output<string[]>;

  constructor(name: string, args: HardwareFeaturesArgs, opts?: pulumi.ComponentResourceOptions) {
    const objects = validObjects(hardwareObjects(args.hosts));
    super(HardwareFeatures.TYPE, name, {}, opts);
    const provider = clusterProvider(`${name}-provider`, args.kubeconfig, this);
    applyObjects(`${name}-objects`, objects, { parent: this, provider, dependsOn: [...(args.dependsOn ?? [])] });
    this.objects = pulumi.output(objects.map((o) => `${o.kind}/${o.metadata.name}`));
    this.registerOutputs({ objects: this.objects });
  }
}
