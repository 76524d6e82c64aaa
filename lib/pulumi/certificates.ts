import * as pulumi from "@pulumi/pulumi";
import { createCa, issueCert, withinRenewalWindow, type CertRequest, type IssuedCert } from "../pki/x509";

interface CaInputs {
  commonName: string;
  validityDays: number;
}

const caProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: CaInputs) {
    const ca = await createCa(inputs.commonName, inputs.validityDays);
    return { id: `ca-${inputs.commonName}`, outs: { ...inputs, ...ca } };
  },
  async diff(_id: string, olds: CaInputs, news: CaInputs) {
    const replaces = (["commonName", "validityDays"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0, replaces };
  },
};

/** A certificate authority generated once and kept in state; its key is a secret output. */
export class CertificateAuthority extends pulumi.dynamic.Resource {
  declare readonly certPem: pulumi.Output<string>;
  declare readonly keyPem: pulumi.Output<string>;
  declare readonly notAfter: pulumi.Output<string>;

  constructor(name: string, args: { commonName: string; validityDays?: number }, opts?: pulumi.CustomResourceOptions) {
    super(
      caProvider,
      name,
      {
        commonName: args.commonName,
        validityDays: args.validityDays ?? 3650,
        certPem: undefined,
        keyPem: undefined,
        notAfter: undefined,
      },
      { ...opts, additionalSecretOutputs: ["keyPem"] },
      "edgecloud",
      "CertificateAuthority",
    );
  }
}

interface CertInputs {
  caCertPem: string;
  caKeyPem: string;
  request: CertRequest;
  /** Re-issue when the certificate in state expires within this many days. @default - never by age */
  renewBeforeDays?: number;
  /** Re-issue whenever this changes (rotation on demand). @default 0 */
  generation?: number;
}

/**
 * Which inputs force a new certificate: another CA, another request, another generation, or (with `renewBeforeDays`)
 * the certificate in state expiring within the window at the time of the diff.
 */
export function certificateReplaces(
  olds: CertInputs & { notAfter?: string },
  news: CertInputs,
  now = new Date(),
): string[] {
  const replaces: string[] = [];
  if (olds.caCertPem !== news.caCertPem) replaces.push("caCertPem");
  if (JSON.stringify(olds.request) !== JSON.stringify(news.request)) replaces.push("request");
  if ((olds.generation ?? 0) !== (news.generation ?? 0)) replaces.push("generation");
  if (
    news.renewBeforeDays !== undefined &&
    olds.notAfter !== undefined &&
    withinRenewalWindow(olds.notAfter, news.renewBeforeDays, now)
  )
    replaces.push("renewBeforeDays");
  return replaces;
}

const certProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: CertInputs) {
    const ca: IssuedCert = { certPem: inputs.caCertPem, keyPem: inputs.caKeyPem, notAfter: "" };
    const cert = await issueCert(ca, inputs.request);
    return { id: `cert-${inputs.request.commonName}`, outs: { ...inputs, ...cert } };
  },
  async diff(_id: string, olds: CertInputs & { notAfter?: string }, news: CertInputs) {
    const replaces = certificateReplaces(olds, news);
    return { changes: replaces.length > 0, replaces };
  },
};

/**
 * A leaf certificate signed by a `CertificateAuthority`, generated once; re-issued when its request (or CA) changes,
 * and with `rotation` when a `pulumi up` finds it within `renewBeforeDays` of expiry or `generation` was raised.
 */
export class Certificate extends pulumi.dynamic.Resource {
  declare readonly certPem: pulumi.Output<string>;
  declare readonly keyPem: pulumi.Output<string>;
  declare readonly notAfter: pulumi.Output<string>;

  constructor(
    name: string,
    args: {
      ca: CertificateAuthority;
      request: CertRequest;
      /** Re-issue within this window of expiry, and whenever `generation` changes. @default - only on a new request */
      rotation?: { readonly renewBeforeDays: number; readonly generation: number };
    },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      certProvider,
      name,
      {
        caCertPem: args.ca.certPem,
        caKeyPem: args.ca.keyPem,
        request: args.request,
        ...(args.rotation
          ? { renewBeforeDays: args.rotation.renewBeforeDays, generation: args.rotation.generation }
          : {}),
        certPem: undefined,
        keyPem: undefined,
        notAfter: undefined,
      },
      { ...opts, additionalSecretOutputs: ["keyPem", "caKeyPem"] },
      "edgecloud",
      "Certificate",
    );
  }
}
