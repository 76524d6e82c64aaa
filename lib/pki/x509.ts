import type * as X509 from "@peculiar/x509";
import { webcrypto } from "crypto";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/**
 * @peculiar/x509, loaded by package name when called: Pulumi serializes these functions into the dynamic
 * provider's process, which evaluates them without this module's top-level imports and side effects.
 */
function x509Lib(): typeof X509 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("reflect-metadata");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require("@peculiar/x509") as typeof X509;
  lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0]);
  return lib;
}

const ALG: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

/** A PEM certificate with its PEM (PKCS#8) private key. */
export interface IssuedCert {
  readonly certPem: string;
  /** Secret. */
  readonly keyPem: string;
  /** ISO-8601 expiry. */
  readonly notAfter: string;
}

export type CertUsage = "server" | "client";

export interface CertRequest {
  readonly commonName: string;
  readonly organization?: string;
  /** Subject alternative names: IPs and DNS names. */
  readonly ips?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly usages: readonly CertUsage[];
  /** @default 3650 */
  readonly validityDays?: number;
}

const DAY_MS = 86_400_000;

/** True when a certificate that expires at `notAfter` (ISO 8601) is within `renewBeforeDays` days of `now`. */
export function withinRenewalWindow(notAfter: string, renewBeforeDays: number, now = new Date()): boolean {
  const t = Date.parse(notAfter);
  return Number.isFinite(t) && t - now.getTime() <= renewBeforeDays * DAY_MS;
}

function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] &= 0x7f;
  return Buffer.from(b).toString("hex");
}

async function exportKey(key: CryptoKey): Promise<string> {
  const x509 = x509Lib();
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

function subject(cn: string, o?: string): string {
  const esc = (v: string) => v.replace(/([,+"\\<>;=])/g, "\\$1");
  return o ? `CN=${esc(cn)}, O=${esc(o)}` : `CN=${esc(cn)}`;
}

/** A self-signed ECDSA P-256 certificate authority. */
export async function createCa(commonName: string, validityDays = 3650, now = new Date()): Promise<IssuedCert> {
  const x509 = x509Lib();
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as unknown as CryptoKeyPair;
  const notAfter = new Date(now.getTime() + validityDays * DAY_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subject(commonName),
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter,
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportKey(keys.privateKey), notAfter: notAfter.toISOString() };
}

/** A leaf certificate signed by `ca`, with the requested usages and SANs. */
export async function issueCert(ca: IssuedCert, req: CertRequest, now = new Date()): Promise<IssuedCert> {
  const x509 = x509Lib();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(ca.keyPem), ALG, false, [
    "sign",
  ]);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as unknown as CryptoKeyPair;
  const notAfter = new Date(now.getTime() + (req.validityDays ?? 3650) * DAY_MS);
  const eku: string[] = [];
  if (req.usages.includes("server")) eku.push(x509.ExtendedKeyUsage.serverAuth);
  if (req.usages.includes("client")) eku.push(x509.ExtendedKeyUsage.clientAuth);
  const san = [
    ...(req.ips ?? []).map((v) => ({ type: "ip" as const, value: v })),
    ...(req.dnsNames ?? []).map((v) => ({ type: "dns" as const, value: v })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subject(req.commonName, req.organization),
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey as unknown as CryptoKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(eku, false),
      ...(san.length > 0 ? [new x509.SubjectAlternativeNameExtension(san, false)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportKey(keys.privateKey), notAfter: notAfter.toISOString() };
}

/** Expiry of a PEM certificate (ISO-8601). */
export function certNotAfter(certPem: string): string {
  const x509 = x509Lib();
  return new x509.X509Certificate(certPem).notAfter.toISOString();
}
