import { randomBytes } from "crypto";
import { createCa, issueCert } from "../../lib/pki/x509";
import { registryCertRequests } from "./cert-requests";
import { RegistryPlan, RegistryProps, RegistryTlsMaterial } from "./spec";

/**
 * The registry's props for synth, its secrets resolved: the environment's passwords (already resolved), the HTTP
 * secret (32 bytes, as the Registry component generates it), TLS from {@link registryCertRequests} (the requests the
 * component's certificates use). `placeholder`: fixed strings of the right shape.
 */
export async function registryMaterial(plan: RegistryPlan, kind: "generated" | "placeholder"): Promise<RegistryProps> {
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
    httpSecret:
      spec.httpSecret !== undefined
        ? String(spec.httpSecret)
        : fake
          ? "<registry-http-secret>"
          : randomBytes(REGISTRY_HTTP_SECRET_BYTES).toString("hex"),
    tls,
    ...(spec.proxy?.password !== undefined ? { proxyPassword: String(spec.proxy.password) } : {}),
  };
}

/** The HTTP secret's size (REGISTRY_HTTP_SECRET: signs upload state; every replica shares it). */
export const REGISTRY_HTTP_SECRET_BYTES = 32;
