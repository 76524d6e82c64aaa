import type { Host } from "../../lib/hosts/host";
import type { KubeObject } from "../../lib/manifests/kube-object";
import type { ComponentDescriptor } from "../../stacks/component-descriptor";
import type { HardwareFeatures } from "./hardware";
import { HARDWARE_COMPONENT, hardwareObjects } from "./objects";

// present, describe and render all need the objects: built once per environment's hosts
const built = new WeakMap<readonly Host[], KubeObject[]>();
const objectsOf = (hosts: readonly Host[]): KubeObject[] => {
  if (!built.has(hosts)) built.set(hosts, hardwareObjects(hosts));
  return built.get(hosts)!;
};

/** RuntimeClasses and device plugins for the hosts' capabilities (GPU, Kata, SR-IOV), once the servers are up. */
export const hardwareComponent: ComponentDescriptor<HardwareFeatures> = {
  id: HARDWARE_COMPONENT,
  present: (env) => objectsOf(env.hosts).length > 0,
  describe: (env) => `rendering ${objectsOf(env.hosts).length} objects for the hosts' capabilities`,
  render: ({ env }) => ({ manifests: objectsOf(env.hosts) }),
  deploy({ name, env, parent, wire, after }) {
    const { HardwareFeatures } = require("./hardware") as typeof import("./hardware");
    // the capability steps ran before K3s started; the objects go in once the servers are up
    const component = new HardwareFeatures(
      `${name}-hardware`,
      { hosts: env.hosts, kubeconfig: wire("kubeconfig")!, dependsOn: after(["servers-started"]) },
      { parent },
    );
    return { component };
  },
};
