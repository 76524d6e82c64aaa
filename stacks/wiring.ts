import { asRecord } from "../lib/validation/as-record";
import { SectionWires } from "./component-descriptor";
import { COMPOSITION } from "./composition";

export { podMtu } from "../components/k3s-ha-cluster/cni/pod-mtu";
export { nfsStorageClassName } from "../components/nfs-provisioner/descriptor";

/**
 * Cross-component wiring on the environment's raw sections, before validation, so that synth and the Pulumi
 * program see the same thing and a wired value is validated like one the user wrote. Each component of
 * {@link COMPOSITION} says which {@link SectionWires} it provides (NFS: the StorageClass; K3s: its version, pod
 * network and MTU; KubeEdge: the edge hosts' architectures) and what it takes into its own section (the registry's
 * PVC class and NetworkPolicy, Drone's storage and runner MTU, KubeEdge's and EdgeX's Kubernetes version, EdgeX's
 * arches and volumes). Only fields the user left unset are filled.
 */
export function wireEnvironment(raw: Record<string, unknown>): Record<string, unknown> {
  const wires = Object.assign(
    { edgeArches: [] },
    ...COMPOSITION.map((c) => c.sectionWires?.(raw) ?? {}),
  ) as SectionWires;
  const out: Record<string, unknown> = { ...raw };
  for (const c of COMPOSITION) {
    const section = c.section === undefined ? undefined : asRecord(raw[c.section]);
    if (section && c.wireSection) out[c.section!] = c.wireSection(section, wires);
  }
  return out;
}
