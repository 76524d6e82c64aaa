import type { ComponentDescriptor } from "../../stacks/component-descriptor";
import { asRecord } from "../../lib/validation/as-record";
import { chartObjects, newApp } from "../../lib/manifests/chart";
import { NfsProvisionerChart } from "./chart";
import { nfsClientSteps } from "./client-steps";
import type { NfsProvisioner } from "./nfs-provisioner";
import { NFS_COMPONENT, nfsServerSteps } from "./server-steps";
import { validateNfsProvisioner } from "./spec";

/** The StorageClass the NFS section creates. @default "nfs" (NfsProvisioner's default name) */
export function nfsStorageClassName(nfs: unknown): string | undefined {
  const n = asRecord(nfs);
  if (!n) return undefined;
  const name = asRecord(n.storageClass)?.name;
  return typeof name === "string" ? name : "nfs";
}

/**
 * The NFS export and the StorageClass on it. It marks `storage`: the workloads whose PVCs use its class (the
 * environment's wiring set it on them) wait for it.
 */
export const nfsComponent: ComponentDescriptor<NfsProvisioner> = {
  id: NFS_COMPONENT,
  section: "nfs",
  sectionWires: (raw) => {
    const storageClass = nfsStorageClassName(raw.nfs);
    return storageClass ? { storageClass } : {};
  },
  check: (section, { hosts, issues }) => validateNfsProvisioner(section, hosts, issues, "nfs"),
  present: (env) => env.nfs !== undefined,
  marks: () => ["storage"],
  describe: ({ nfs }) =>
    `rendering (server ${nfs!.serverAddress}:${nfs!.exportPath}, StorageClass "${nfs!.spec.storageClass.name}")`,
  render({ env: { nfs } }) {
    const steps = [...nfsServerSteps(nfs!), ...nfsClientSteps(nfs!)];
    return {
      steps,
      manifests: chartObjects(new NfsProvisionerChart(newApp(), "nfs", nfs!)),
      // the export and every client's packages (the StorageClass is among the manifests)
      phases: { storage: steps.map((s) => s.id) },
    };
  },
  deploy({ name, env, raw, executor, provisioning, parent, wire, after }) {
    const { NfsProvisioner } = require("./nfs-provisioner") as typeof import("./nfs-provisioner");
    // other components install packages too: on a CentOS 7 host only after its yum points at its packageMirror
    const component = new NfsProvisioner(
      `${name}-nfs`,
      {
        spec: raw.nfs as never,
        hosts: env.hosts,
        kubeconfig: wire("kubeconfig")!,
        dependsOn: after(["servers-started", "package-repos"]),
        executor,
        provisioning,
      },
      { parent },
    );
    return { component, phases: { storage: [component.objects] } };
  },
};
