import type { ClusterMaterial } from "../components/k3s-ha-cluster/material";
import type { DroneCiProps } from "../components/drone-ci/spec";
import type { RegistryProps } from "../components/registry/spec";
import { COMPOSITION } from "./composition";
import { Environment } from "./environment";

/** Secret material of every component of an environment, made once per synth run (Pulumi keeps its own in state). */
export interface EnvironmentMaterial {
  readonly kind: "generated" | "placeholder";
  readonly cluster: ClusterMaterial;
  /** @default - no registry */
  readonly registry?: RegistryProps;
  /** @default - no Drone */
  readonly drone?: DroneCiProps;
}

/**
 * `generated`: a random token and secrets, real certificates (in-process). `placeholder`: fixed strings of the right
 * shape (`<token>`, `<ca.crt>`), deterministic — for snapshots and reviews. Each component of {@link COMPOSITION}
 * makes its own, from the same requests its Pulumi half uses.
 */
export async function environmentMaterial(
  env: Environment,
  kind: "generated" | "placeholder",
): Promise<EnvironmentMaterial> {
  const parts: Partial<Omit<EnvironmentMaterial, "kind">>[] = [];
  for (const c of COMPOSITION) if (c.present(env) && c.material) parts.push(await c.material(env, kind));
  const material = Object.assign({ kind }, ...parts) as EnvironmentMaterial;
  if (material.cluster === undefined) throw new Error("the composition made no cluster material");
  return material;
}
