import { DroneCiSpec } from "./spec";

/** A secret Drone or its Gogs/Gitea needs, generated when the spec does not give one: random bytes, hex. */
export interface DroneSecretRequest {
  /** The resource role (`<name>-<role>`) on the stack, the placeholder (`<drone-<role>>`) in synth. */
  readonly role: "rpc-secret" | "database-secret" | "git-secret-key" | "git-internal-token" | "git-jwt-secret";
  readonly bytes: number;
}

/**
 * The secrets to generate for a spec, the same for synth's material and the DroneCi component: `DRONE_RPC_SECRET`
 * 32 bytes; `DRONE_DATABASE_SECRET` 16 bytes, because Drone uses its 32 hex characters as an AES-256 key; Gogs's and
 * Gitea's `SECRET_KEY` 32 bytes, Gitea's `INTERNAL_TOKEN` and JWT secret 32 bytes each.
 */
export function droneSecretRequests(spec: DroneCiSpec): DroneSecretRequest[] {
  return [
    ...(spec.rpcSecret === undefined ? [{ role: "rpc-secret" as const, bytes: 32 }] : []),
    ...(spec.databaseSecret === undefined ? [{ role: "database-secret" as const, bytes: 16 }] : []),
    ...(spec.git ? [{ role: "git-secret-key" as const, bytes: 32 }] : []),
    ...(spec.git?.kind === "gitea"
      ? [
          { role: "git-internal-token" as const, bytes: 32 },
          { role: "git-jwt-secret" as const, bytes: 32 },
        ]
      : []),
  ];
}
