import { randomBytes } from "crypto";
import { ClusterMaterial, generateClusterMaterial, placeholderMaterial } from "../components/k3s-ha-cluster/material";
import { DroneCiPlan, DroneCiProps } from "../components/drone-ci/spec";
import { registryCertRequests } from "../components/registry/cert-requests";
import { RegistryPlan, RegistryProps, RegistryTlsMaterial } from "../components/registry/spec";
import { createCa, issueCert } from "../lib/pki/x509";
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
 * shape (`<token>`, `<ca.crt>`), deterministic — for snapshots and reviews.
 */
export async function environmentMaterial(
  env: Environment,
  kind: "generated" | "placeholder",
): Promise<EnvironmentMaterial> {
  const cluster =
    kind === "placeholder" ? placeholderMaterial(env.cluster) : await generateClusterMaterial(env.cluster, hex(32));
  const registry = env.registry ? await registryProps(env.registry, kind) : undefined;
  const drone = env.drone ? droneProps(env.drone, kind) : undefined;
  return {
    kind,
    cluster,
    ...(registry ? { registry } : {}),
    ...(drone ? { drone } : {}),
  };
}

/** Drone's secrets: the spec's when given, else generated like DroneCi does (RPC 32 bytes, database key 16 bytes hex). */
function droneProps(plan: DroneCiPlan, kind: "generated" | "placeholder"): DroneCiProps {
  const spec = plan.spec;
  const gen = (name: string, bytes: number) => (kind === "placeholder" ? `<drone-${name}>` : hex(bytes));
  const p = spec.provider;
  const db = spec.server.database;
  return {
    spec,
    providerServer: plan.providerServer,
    rpcSecret: spec.rpcSecret !== undefined ? String(spec.rpcSecret) : gen("rpc-secret", 32),
    databaseSecret: spec.databaseSecret !== undefined ? String(spec.databaseSecret) : gen("database-secret", 16),
    ...(p.kind !== "gogs" ? { clientSecret: String(p.clientSecret) } : {}),
    ...(db.driver !== "sqlite3" ? { databaseDatasource: String(db.datasource) } : {}),
    ...(spec.git
      ? {
          gitSecrets: {
            secretKey: gen("git-secret-key", 32),
            internalToken: spec.git.kind === "gitea" ? gen("git-internal-token", 32) : "",
            jwtSecret: spec.git.kind === "gitea" ? gen("git-jwt-secret", 32) : "",
          },
        }
      : {}),
  };
}

/** Registry props with its secrets resolved: the env file's passwords (already resolved), a HTTP secret, TLS. */
async function registryProps(plan: RegistryPlan, kind: "generated" | "placeholder"): Promise<RegistryProps> {
  const spec = plan.spec;
  const fake = kind === "placeholder";
  let tls: RegistryTlsMaterial = { kind: "none" };
  if (spec.tls.kind === "provided") {
    tls = {
      kind: "tls",
      certPem: String(spec.tls.certPem),
      keyPem: String(spec.tls.keyPem),
      caPem: String(spec.tls.caPem),
    };
  } else if (spec.tls.kind === "generated") {
    if (fake) tls = { kind: "tls", certPem: "<registry.crt>", keyPem: "<registry.key>", caPem: "<registry-ca.crt>" };
    else {
      const req = registryCertRequests(plan)!;
      const ca = await createCa(req.ca.commonName, req.ca.validityDays);
      const cert = await issueCert(ca, req.server);
      tls = { kind: "tls", certPem: cert.certPem, keyPem: cert.keyPem, caPem: ca.certPem };
    }
  }
  return {
    spec,
    endpoint: plan.endpoint,
    nodeAddresses: plan.nodeAddresses,
    host: plan.host,
    users: (spec.auth?.users ?? []).map((u) => ({ username: u.username, password: String(u.password) })),
    nodeUser: plan.nodeUser,
    httpSecret: spec.httpSecret !== undefined ? String(spec.httpSecret) : fake ? "<registry-http-secret>" : hex(32),
    tls,
    ...(spec.proxy?.password !== undefined ? { proxyPassword: String(spec.proxy.password) } : {}),
  };
}

function hex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}
