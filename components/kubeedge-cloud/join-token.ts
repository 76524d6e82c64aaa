/**
 * KubeEdge join tokens, minted the way cloudcore mints them and checked the way cloudcore checks them
 * (kubeedge/kubeedge v1.23.1 pkg/security/token/token.go):
 * - the token is `<sha256 of the CA certificate (DER), hex>.<JWT>`; the edge node compares the first part with the
 *   CA it downloads (`VerifyCAAndGetRealToken`), so it trusts only the cloud that holds that CA;
 * - the JWT is HS256, keyed with the CA's private key exactly as stored in `kubeedge/casecret` `cakeydata` (SEC1 EC
 *   DER: pkg/security/certs/x509_ca.go `x509.MarshalECPrivateKey`; cloud/pkg/cloudhub/servers/httpserver/pre_server.go),
 *   with the single claim `exp`;
 * - cloudcore's /edge.crt accepts any such JWT whose HMAC verifies and whose `exp` has not passed
 *   (cloud/pkg/cloudhub/servers/httpserver/certificate/certs.go `verifyAuthorization` → `token.Verify`): there is no
 *   per-token revocation, so the lifetime is the revocation.
 * cloudcore's own token (`kubeedge/tokensecret`) lives 2 × `tokenRefreshDuration` = 24 h by default
 * (pre_server.go `createNewToken`, staging/src/github.com/kubeedge/api/apis/componentconfig/cloudcore/v1alpha1/
 * default.go `TokenRefreshDuration: 12`); a token minted here lives as long as its pool's `credential.ttlHours`.
 *
 * Self-contained (node's crypto only, required inside): the join credential's dynamic provider calls it.
 */
export function mintKubeEdgeJoinToken(
  caDerBase64: string,
  caKeyDerBase64: string,
  notAfterEpochSeconds: number,
): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHash, createHmac } = require("crypto") as typeof import("crypto");
  const b64url = (b: Buffer): string => b.toString("base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  const header = b64url(Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const payload = b64url(Buffer.from(JSON.stringify({ exp: Math.floor(notAfterEpochSeconds) })));
  const signature = b64url(
    createHmac("sha256", Buffer.from(caKeyDerBase64, "base64")).update(`${header}.${payload}`).digest(),
  );
  const caHash = createHash("sha256").update(Buffer.from(caDerBase64, "base64")).digest("hex");
  return `${caHash}.${header}.${payload}.${signature}`;
}

/** The `exp` of a KubeEdge join token (seconds since the epoch); undefined when it is not one. */
export function joinTokenExpiry(token: string): number | undefined {
  const parts = token.split(".");
  if (parts.length !== 4) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[2]!, "base64url").toString("utf8")) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}
