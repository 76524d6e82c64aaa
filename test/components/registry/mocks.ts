import * as pulumi from "@pulumi/pulumi";
import { recorded } from "../../support/pulumi-mocks";

/**
 * The shared mocks (test/support/pulumi-mocks.ts) fill in the outputs of in-process dynamic resources only for the
 * type `pulumi-nodejs:dynamic:Resource`, but RandomSecret, CertificateAuthority and Certificate register as
 * `pulumi-nodejs:dynamic/edgecloud:<Type>`, so their outputs stay undefined. Until the shared file is fixed, these
 * mocks do the same as the shared ones for every `pulumi-nodejs:dynamic*` type and record into the shared list.
 */
export function setupServiceMocks(): void {
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const state: Record<string, any> = { ...args.inputs };
        if (args.type.startsWith("pulumi-nodejs:dynamic")) {
          for (const k of ["value", "certPem", "keyPem", "notAfter"]) {
            if (state[k] === undefined || state[k] === null || state[k] === "") {
              state[k] = k === "notAfter" ? "2036-01-01T00:00:00.000Z" : `MOCK-${k}-${args.name}`;
            }
          }
        }
        if (args.type === "command:remote:Command") {
          state.stdout = "edgecloud-step: changed=0\n";
          state.stderr = "";
        }
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs, id: `${args.name}-id` });
        return { id: `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    "edgecloud",
    "test",
    false,
  );
}
