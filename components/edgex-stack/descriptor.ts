import type { ComponentDescriptor } from "../../stacks/component-descriptor";
import { edgeXObjects } from "./chart";
import type { EdgeXStack } from "./edgex-stack";

export const EDGEX_COMPONENT = "edgex-stack";

/** EdgeX Foundry on the edge nodes (or agents), once they have joined and `storage` is there. */
export const edgeXComponent: ComponentDescriptor<EdgeXStack> = {
  id: EDGEX_COMPONENT,
  present: (env) => env.edgex !== undefined,
  describe: ({ edgex }) =>
    `rendering EdgeX ${edgex!.spec.release} (${edgex!.spec.placement}, ${edgex!.arches.join("/")})`,
  render: ({ env }) => ({ manifests: edgeXObjects(env.edgex!) }),
  deploy({ name, raw, parent, wire, after }) {
    const { EdgeXStack } = require("./edgex-stack") as typeof import("./edgex-stack");
    const component = new EdgeXStack(
      `${name}-edgex`,
      { spec: raw.edgex as never, kubeconfig: wire("kubeconfig")!, dependsOn: after(["edge-nodes", "storage"]) },
      { parent },
    );
    return { component };
  },
};
