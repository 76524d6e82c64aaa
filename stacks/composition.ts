import { droneComponent } from "../components/drone-ci/descriptor";
import { edgeXComponent } from "../components/edgex-stack/descriptor";
import { hardwareComponent } from "../components/hardware/descriptor";
import { k3sComponent } from "../components/k3s-ha-cluster/descriptor";
import { kubeEdgeComponent } from "../components/kubeedge-cloud/descriptor";
import { nfsComponent } from "../components/nfs-provisioner/descriptor";
import { registryComponent } from "../components/registry/descriptor";
import type { ComponentDescriptor, Phase } from "./component-descriptor";
import { rancherComponent } from "./rancher-descriptor";

/**
 * The environment's components, in the order synth renders them and the stack constructs them. A component is its
 * folder plus one line here. The K3s cluster comes first: its steps open every host's numbered scripts (each host's
 * pre-flight first) and it marks the phases the others wait for. A wire a component needs from one later in the list
 * (K3s takes the registry's `registries`) is resolved when that one deploys.
 */
export const COMPOSITION: readonly ComponentDescriptor[] = [
  k3sComponent,
  nfsComponent,
  hardwareComponent,
  registryComponent,
  droneComponent,
  kubeEdgeComponent,
  edgeXComponent,
  rancherComponent,
];

/** What a phase means when no component of the environment marks it: `storage` is the cluster without NFS. */
export const PHASE_FALLBACK: Readonly<Record<Phase, readonly Phase[]>> = {
  "servers-started": [],
  "package-repos": [],
  storage: ["servers-started"],
  "edge-nodes": [],
};

/**
 * The phases components mark, as a walk goes: what marks each one (steps for synth, resources for the stack), and
 * who marks it in this environment, so that waiting for a phase its marker has not reached yet is a clear error.
 */
export class PhaseBook<T> {
  private readonly markers = new Map<Phase, string>();
  private readonly marked = new Map<Phase, T[]>();

  constructor(present: readonly ComponentDescriptor[], env: Parameters<ComponentDescriptor["present"]>[0]) {
    for (const c of present) for (const p of c.marks?.(env) ?? []) this.markers.set(p, c.id);
  }

  mark(phases: Partial<Record<Phase, readonly T[]>> | undefined): void {
    for (const [p, items] of Object.entries(phases ?? {}) as [Phase, readonly T[]][])
      this.marked.set(p, [...(this.marked.get(p) ?? []), ...items]);
  }

  /** What `who` waits for: every marker of each phase, or the phase's fallback when nothing here marks it. */
  resolve(phases: readonly Phase[], who: string): T[] {
    const out: T[] = [];
    for (const p of phases) {
      const marker = this.markers.get(p);
      if (marker === undefined) out.push(...this.resolve(PHASE_FALLBACK[p], who));
      else if (!this.marked.has(p))
        throw new Error(
          `${who} waits for the phase "${p}", which ${marker} marks later in COMPOSITION; move ${who} after it`,
        );
      else out.push(...this.marked.get(p)!);
    }
    return out;
  }
}
