import type { ComponentDescriptor } from "../../stacks/component-descriptor";
import { chartObjects, newApp } from "../../lib/manifests/chart";
import { DroneCiChart } from "./chart";
import type { DroneCi } from "./drone-ci";
import { pipelineSecretNames } from "./pipeline-access";

/** Drone CI (and its Gogs/Gitea) in the cluster, its data on `storage`; pipelines push with the registry's `ciAccess`. */
export const droneComponent: ComponentDescriptor<DroneCi> = {
  id: "drone-ci",
  present: (env) => env.drone !== undefined,
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
