import * as pulumi from "@pulumi/pulumi";

export interface RandomSecretArgs {
  /** Random bytes before hex encoding. @default 32 */
  readonly bytes?: number;
}

const randomSecretProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: { bytes: number }) {
    // required by name: Pulumi serializes this function into the dynamic provider's own process
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { randomBytes } = require("crypto") as typeof import("crypto");
    return {
      id: randomBytes(8).toString("hex"),
      outs: { bytes: inputs.bytes, value: randomBytes(inputs.bytes).toString("hex") },
    };
  },
  async diff(_id: string, olds: { bytes: number }, news: { bytes: number }) {
    return { changes: olds.bytes !== news.bytes, replaces: olds.bytes !== news.bytes ? ["bytes"] : [] };
  },
};

/**
 * A random hex secret generated once and kept in state (encrypted): tokens, RPC and HTTP secrets.
 * In-process (a dynamic resource), so no extra provider plugin is needed.
 */
export class RandomSecret extends pulumi.dynamic.Resource {
  declare readonly value: pulumi.Output<string>;

  constructor(name: string, args: RandomSecretArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super(
      randomSecretProvider,
      name,
      { bytes: args.bytes ?? 32, value: undefined },
      { ...opts, additionalSecretOutputs: ["value"] },
      "edgecloud",
      "RandomSecret",
    );
  }
}
