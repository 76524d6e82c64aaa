import type { ComponentDescriptor } from "../../stacks/component-descriptor";
import { asRecord } from "../../lib/validation/as-record";
import { chartObjects, newApp } from "../../lib/manifests/chart";
import { DroneCiChart } from "./chart";
import type { DroneCi } from "./drone-ci";
import { droneMaterial } from "./material";
import { pipelineSecretNames } from "./pipeline-access";
import { validateDroneCi } from "./spec";

/** Drone CI (and its Gogs/Gitea) in the cluster, its data on `storage`; pipelines push with the registry's `ciAccess`. */
export const droneComponent: ComponentDescriptor<DroneCi> = {
  id: "drone-ci",
  section: "drone",
  // the server's and Gogs/Gitea's data on the NFS class; the Docker-in-Docker runner at the pod network's MTU
  wireSection(drone, { storageClass, podMtu }) {
    const withClass = (part: unknown) => {
      const r = asRecord(part);
      if (!r) return part;
      const st = asRecord(r.storage) ?? {};
      return st.storageClassName === undefined ? { ...r, storage: { ...st, storageClassName: storageClass } } : r;
    };
    const d: Record<string, unknown> = {
      ...drone,
      ...(storageClass && drone.server !== undefined ? { server: withClass(drone.server) } : {}),
      ...(storageClass && drone.git !== undefined ? { git: withClass(drone.git) } : {}),
    };
    const runner = asRecord(d.runner) ?? (d.runner === undefined ? { kind: "docker" } : undefined);
    if (runner?.kind === "docker" && runner.mtu === undefined) d.runner = { ...runner, mtu: podMtu };
    return d;
  },
  secretFields: [/^(rpcSecret|databaseSecret|provider\.clientSecret|server\.database\.datasource)$/],
  check: (section, { issues }) => validateDroneCi(section, issues, "drone"),
  present: (env) => env.drone !== undefined,
  material: async (env, kind) => ({ drone: droneMaterial(env.drone!, kind) }),
  describe: ({ drone }) =>
    `rendering (${drone!.spec.provider.kind} at ${drone!.providerServer}, ${drone!.spec.runner.kind} runner)`,
  render({ material, wire }) {
    const ci = wire("ciAccess");
    const drone = ci ? { ...material.drone!, pipelineRegistry: ci } : material.drone!;
    return {
      manifests: chartObjects(new DroneCiChart(newApp(), "drone", drone)),
      ...(ci
        ? {
            notes: [
              `pipelines push to ${ci.endpoint}/<repository>:<tag> as "${ci.username}"; their secrets: ${pipelineSecretNames(drone).join(", ")} (docs/ci-pipeline.md)`,
            ],
          }
        : {}),
    };
  },
  deploy({ name, raw, parent, wire, after }) {
    const { DroneCi } = require("./drone-ci") as typeof import("./drone-ci");
    const ci = wire("ciAccess");
    const component = new DroneCi(
      `${name}-drone`,
      {
        spec: raw.drone as never,
        kubeconfig: wire("kubeconfig")!,
        dependsOn: after(["storage"]),
        ...(ci ? { pipelineRegistry: ci } : {}),
      },
      { parent },
    );
    return { component };
  },
};
