import type { ComponentDescriptor } from "../../stacks/component-descriptor";
import { asRecord } from "../../lib/validation/as-record";
import { chartObjects, newApp } from "../../lib/manifests/chart";
import { RegistryChart } from "./chart";
import { registryCiAccess } from "./ci-user";
import { registryHostSteps } from "./host-steps";
import { registryK3sRegistries } from "./k3s-registries";
import { registryMaterial } from "./material";
import type { Registry } from "./registry";
import { validateRegistry } from "./spec";

/**
 * The container registry: in the cluster (its PVC on `storage`) or on a host. It provides `registries` (every K3s
 * and edge node's mirror, node user's credentials and CA) and, with `auth.ciUser`, `ciAccess` for CI pipelines.
 */
export const registryComponent: ComponentDescriptor<Registry> = {
  id: "registry",
  section: "registry",
  // in the cluster: its PVC on the NFS class, its NetworkPolicy admitting the pod network (NodePort pulls from other
  // nodes arrive masqueraded to their pod-network addresses)
  wireSection(registry, { storageClass, clusterCidr }) {
    const mode = asRecord(registry.mode);
    if (mode?.kind !== "in-cluster") return { ...registry };
    const storage = asRecord(mode.storage) ?? {};
    return {
      ...registry,
      mode: {
        ...mode,
        ...(storageClass && storage.storageClassName === undefined
          ? { storage: { ...storage, storageClassName: storageClass } }
          : {}),
        ...(mode.allowFrom === undefined ? { allowFrom: [clusterCidr] } : {}),
      },
    };
  },
  secretFields: [/^auth\.users\[\d+\]\.password$/, /^(httpSecret|proxy\.password|tls\.keyPem)$/],
  check(section, { hosts, issues, cluster }) {
    const plan = validateRegistry(section, hosts, issues, "registry");
    if (plan && cluster?.spec.runtime === "docker")
      issues.add(
        "k3s.runtime",
        "docker",
        "cannot pull from the registry section's registry: K3s applies registries.yaml to its containerd only, and with --docker dockerd pulls without its CA or credentials (docs.k3s.io/installation/private-registry); use runtime containerd",
      );
    return plan;
  },
  listeners({ registry }) {
    const mode = registry!.spec.mode;
    if (mode.kind === "host")
      return [{ port: mode.port, proto: "tcp", field: "registry.mode.port", hosts: [mode.host] }];
    return mode.nodePort !== undefined ? [{ port: mode.nodePort, proto: "tcp", field: "registry.mode.nodePort" }] : [];
  },
  present: (env) => env.registry !== undefined,
  provides: ({ registry }) => [
    "registries",
    ...(registry!.spec.auth?.ciUser !== undefined ? ["ciAccess" as const] : []),
  ],
  wires(_env, { registry }) {
    const ci = registryCiAccess(registry!);
    return { registries: registryK3sRegistries(registry!), ...(ci ? { ciAccess: ci } : {}) };
  },
  material: async (env, kind) => ({ registry: await registryMaterial(env.registry!, kind) }),
  describe: ({ registry }) => `rendering (${registry!.spec.mode.kind} mode, endpoint ${registry!.endpoint})`,
  render: ({ material: { registry } }) =>
    registry!.spec.mode.kind === "in-cluster"
      ? { manifests: chartObjects(new RegistryChart(newApp(), "registry", registry!)) }
      : { steps: registryHostSteps(registry!) },
  deploy({ name, env, raw, executor, provisioning, parent, wire, after }) {
    const { Registry } = require("./registry") as typeof import("./registry");
    const inCluster = env.registry!.spec.mode.kind === "in-cluster";
    const component = new Registry(
      `${name}-registry`,
      {
        spec: raw.registry as never,
        hosts: env.hosts,
        executor,
        provisioning,
        ...(inCluster ? { kubeconfig: wire("kubeconfig")!, dependsOn: after(["storage"]) } : {}),
      },
      { parent },
    );
    return {
      component,
      wires: { registries: component.k3sRegistries, ...(component.ciAccess ? { ciAccess: component.ciAccess } : {}) },
    };
  },
};
