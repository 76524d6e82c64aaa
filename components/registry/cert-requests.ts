import { CertRequest } from "../../lib/pki/x509";
import { endpointHost, RegistryPlan } from "./spec";

/** The certificates a generated-TLS registry needs: its CA and the server certificate the CA signs. */
export interface RegistryCertRequests {
  readonly ca: { readonly commonName: string; readonly validityDays: number };
  readonly server: CertRequest;
}

/**
 * What a registry with `tls.kind: generated` is issued (pure): one request for synth's material and the Pulumi
 * component alike. The CA is named after the endpoint's host, so two registries' CAs differ; the server certificate
 * carries every address nodes pull through (`plan.sans`). Undefined unless the TLS material is generated.
 */
export function registryCertRequests(plan: RegistryPlan): RegistryCertRequests | undefined {
  const tls = plan.spec.tls;
  if (tls.kind !== "generated") return undefined;
  const host = endpointHost(plan.endpoint);
  return {
    ca: { commonName: `edgecloud registry CA (${host})`, validityDays: tls.validityDays },
    server: {
      commonName: host,
      dnsNames: [...plan.sans.dnsNames],
      ips: [...plan.sans.ips],
      usages: ["server"],
      validityDays: tls.validityDays,
    },
  };
}
