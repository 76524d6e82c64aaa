import { clusterTopology } from "../components/k3s-ha-cluster/topology";
import type { ComponentDescriptor } from "./component-descriptor";
import { parseInto } from "../lib/validation/issues";
import { RANCHER_COMPONENT, RancherImportSchema, rancherImportStep } from "./rancher-import";

/** The import into a central Rancher: Rancher's registration manifest applied on the first server once all are up. */
export const rancherComponent: ComponentDescriptor<undefined> = {
  id: RANCHER_COMPONENT,
  section: "rancher",
  secretFields: [/^manifestUrl$/],
  check: (section, { issues }) => parseInto(RancherImportSchema, section, issues, "rancher"),
  present: (env) => env.rancher !== undefined,
  describe: () => "rendering the registration step",
  render({ env, opts, after }) {
    const rancher = env.rancher!;
    const url = opts.rancherManifestUrl ?? process.env.EDGECLOUD_RANCHER_MANIFEST_URL ?? rancher.manifestUrl;
    const first = clusterTopology(env.cluster).servers[0]!;
    return {
      steps: [
        rancherImportStep(
          first,
          rancher,
          url ?? `${rancher.server}/v3/import/PLACEHOLDER.yaml`,
          after(["servers-started"]),
        ),
      ],
      ...(url === undefined
        ? {
            notes: [
              `rancher: no registration manifest URL given; the rancher-import step holds a placeholder (set EDGECLOUD_RANCHER_MANIFEST_URL, or pulumi config set --secret edgecloud:rancherManifestUrl)`,
            ],
          }
        : {}),
    };
  },
  deploy({ name, env, executor, provisioning, parent, rancherManifestUrl, after }) {
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const { hostStepCommands } =
      require("../lib/pulumi/host-step-commands") as typeof import("../lib/pulumi/host-step-commands");
    const rancher = env.rancher!;
    const url = pulumi.secret(pulumi.output(rancherManifestUrl ?? rancher.manifestUrl ?? ""));
    const first = clusterTopology(env.cluster).servers[0]!;
    const placeholder = rancherImportStep(first, rancher, `${rancher.server}/v3/import/PLACEHOLDER.yaml`, []);
    hostStepCommands(
      {
        structure: [placeholder],
        material: url.apply((u) => {
          if (u === "")
            throw new Error(
              `environment "${env.name}": rancher.manifestUrl is not set; pulumi config set --secret edgecloud:rancherManifestUrl <url>`,
            );
          return u;
        }),
        render: (u) => [rancherImportStep(first, rancher, u, [])],
      },
      {
        parent,
        prefix: `${name}-rancher`,
        hosts: [first],
        dependsOn: after(["servers-started"]),
        executor,
        provisioning,
      },
    );
    return { component: undefined };
  },
};
