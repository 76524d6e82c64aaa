import * as pulumi from "@pulumi/pulumi";
import { createCa, issueCert, type CertRequest, type IssuedCert } from "../pki/x509";

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
}

const certProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: CertInputs) {
    const ca: IssuedCert = { certPem: inputs.caCertPem, keyPem: inputs.caKeyPem, notAfter: "" };
    const cert = await issueCert(ca, inputs.request);
    return { id: `cert-${inputs.request.commonName}`, outs: { ...inputs, ...cert } };
  },
  async diff(_id: string, olds: CertInputs, news: CertInputs) {
    const replaces: string[] = [];
    if (olds.caCertPem !== news.caCertPem) replaces.push("caCertPem");
    if (JSON.stringify(olds.request) !== JSON.stringify(news.request)) replaces.push("request");
    return { changes: replaces.length > 0, replaces };
  },
};

/** A leaf certificate signed by a `CertificateAuthority`, generated once; re-issued only when its request changes. */
export class Certificate extends pulumi.dynamic.Resource {
  declare readonly certPem: pulumi.Output<string>;
  declare readonly keyPem: pulumi.Output<string>;
  declare readonly notAfter: pulumi.Output<string>;

  constructor(
    name: string,
    args: { ca: CertificateAuthority; request: CertRequest },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      certProvider,
      name,
      {
        caCertPem: args.ca.certPem,
        caKeyPem: args.ca.keyPem,
        request: args.request,
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
