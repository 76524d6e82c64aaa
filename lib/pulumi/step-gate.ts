import * as pulumi from "@pulumi/pulumi";

interface StepGateState {
  verdict: string;
}

// Serialized into the dynamic-provider process like every dynamic provider here: nothing but `require` by name.
const stepGateProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: StepGateState) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { randomBytes } = require("crypto") as typeof import("crypto");
    return { id: randomBytes(8).toString("hex"), outs: { verdict: inputs.verdict } };
  },
  async diff(_id: string, olds: StepGateState, news: StepGateState) {
    return { changes: olds.verdict !== news.verdict, replaces: [], deleteBeforeReplace: false };
  },
  async update(_id: string, _olds: StepGateState, news: StepGateState) {
    return { outs: { verdict: news.verdict } };
  },
};

export interface StepGateArgs {
  /**
   * The verdict of a check over many resources (e.g. every host's pre-flight): resolves to a short fixed string when
   * the check passes, rejects when it fails. Only this resource depends on what the check reads.
   */
  readonly verdict: pulumi.Input<string>;
}

/**
 * One resource that stands for a check over many others (the cross-host pre-flight): it depends on everything the
 * verdict reads, and whatever must wait for the check depends on it alone. That keeps the dependency graph linear:
 * N steps waiting on N checks cost N + N dependency entries through the gate, not N × N. When the verdict rejects,
 * the gate is not created and nothing that waits on it is either.
 */
export class StepGate extends pulumi.dynamic.Resource {
  /** The verdict (e.g. `pre-flight passed`), known once every checked resource is. */
  declare readonly verdict: pulumi.Output<string>;

  constructor(name: string, args: StepGateArgs, opts?: pulumi.CustomResourceOptions) {
    super(stepGateProvider, name, { verdict: args.verdict }, opts, "edgecloud", "StepGate");
  }
}
