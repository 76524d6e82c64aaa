import { randomBytes } from "crypto";
import { droneSecretRequests } from "./secret-requests";
import { DroneCiPlan, DroneCiProps } from "./spec";

/**
 * Drone's props for synth: the spec's secrets when given, else generated from {@link droneSecretRequests} (what the
 * DroneCi component generates on the stack) or, for `placeholder`, `<drone-<role>>`.
 */
export function droneMaterial(plan: DroneCiPlan, kind: "generated" | "placeholder"): DroneCiProps {
  const spec = plan.spec;
  const generated = Object.fromEntries(
    droneSecretRequests(spec).map((r) => [
      r.role,
      kind === "placeholder" ? `<drone-${r.role}>` : randomBytes(r.bytes).toString("hex"),
    ]),
  );
  const p = spec.provider;
  const db = spec.server.database;
  return {
    spec,
    providerServer: plan.providerServer,
    rpcSecret: spec.rpcSecret !== undefined ? String(spec.rpcSecret) : generated["rpc-secret"]!,
    databaseSecret: spec.databaseSecret !== undefined ? String(spec.databaseSecret) : generated["database-secret"]!,
    ...(p.kind !== "gogs" ? { clientSecret: String(p.clientSecret) } : {}),
    ...(db.driver !== "sqlite3" ? { databaseDatasource: String(db.datasource) } : {}),
    ...(spec.git
      ? {
          gitSecrets: {
            secretKey: generated["git-secret-key"]!,
            internalToken: generated["git-internal-token"] ?? "",
            jwtSecret: generated["git-jwt-secret"] ?? "",
          },
        }
      : {}),
  };
}
