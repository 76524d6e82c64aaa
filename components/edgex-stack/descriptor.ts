import type { ComponentDescriptor } from "../../stacks/component-descriptor";
import { asRecord } from "../../lib/validation/as-record";
import { edgeXObjects } from "./chart";
import type { EdgeXStack } from "./edgex-stack";
import { checkEdgeXStackSection } from "./validate";
import { hasRole } from "../../lib/hosts/host";

export const EDGEX_COMPONENT = "edgex-stack";

/** EdgeX Foundry on the edge nodes (or agents), once they have joined and `storage` is there. */
export const edgeXComponent: ComponentDescriptor<EdgeXStack> = {
  id: EDGEX_COMPONENT,
  section: "edgex",
  // checked against the cluster's K3s version; one DaemonSet per edge architecture; PVCs on the NFS class
  wireSection(edgex, { kubernetesVersion, edgeArches, storageClass }) {
    const e: Record<string, unknown> = { ...edgex };
    if (e.kubernetesVersion === undefined) e.kubernetesVersion = kubernetesVersion;
    if (e.arches === undefined && edgeArches.length > 0) e.arches = [...edgeArches];
    const persistence = asRecord(e.persistence);
    if (storageClass && persistence?.kind === "pvc" && persistence.storageClassName === undefined)
      e.persistence = { ...persistence, storageClassName: storageClass };
    if (storageClass && e.placement === "per-service" && e.security !== false && e.secretsVolume === undefined)
      e.secretsVolume = { storageClassName: storageClass };
    return e;
  },
  check(section, { hosts, issues, file }) {
    const props = checkEdgeXStackSection(hosts, section, issues);
    if (file.kubeedge === undefined && !hosts.some((h) => hasRole(h, "agent")))
      issues.add("edgex", undefined, "needs edge nodes (a kubeedge section) or agents to run on");
    return props;
  },
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
