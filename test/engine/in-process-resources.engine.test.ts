import { join } from "path";
import { X509Certificate } from "crypto";
import { engineTools, PulumiStack, resourcesByName } from "./pulumi-cli";

/**
 * The library's in-process dynamic resources (RandomSecret, CertificateAuthority, Certificate) through the real
 * engine: the CLI and language host built from pinned Go modules, the dynamic-provider shim from the npm SDK, a
 * local backend and a passphrase secrets provider. No plugin is downloaded.
 */
const members = [
  { name: "etcd-1", address: "10.213.0.11" },
  { name: "etcd-2", address: "10.213.0.12" },
  { name: "etcd-3", address: "10.213.0.13" },
];
const timings: string[] = [];
const log = (m: string): void => void timings.push(m);

describe("in-process resources through the real engine", () => {
  let stack: PulumiStack;

  beforeAll(async () => {
    stack = await PulumiStack.create({
      program: join(__dirname, "fixtures/secrets"),
      stack: "engine",
      tools: engineTools(),
      log,
    });
    await stack.setConfigObject("members", members);
  }, 120_000);

  afterAll(async () => {
    if (stack) await stack.remove();
    console.log(`engine timings (in-process resources):\n  ${timings.join("\n  ")}`);
  }, 300_000);

  test("GIVEN a new stack WHEN pulumi up THEN the token, the CA and one certificate per member are created", async () => {
    const up = await stack.up();
    expect(up.result).toBe("succeeded");
    // the stack, the token, the CA and three certificates
    expect(up.changes.create).toBe(1 + 1 + 1 + members.length);
    const byName = resourcesByName(await stack.exportWithSecrets());
    const token = byName.get("k3s-token")!.outputs.value;
    expect(token).toMatch(/^[a-f0-9]{64}$/);
    const ca = new X509Certificate(byName.get("etcd-ca")!.outputs.certPem as string);
    const cert = new X509Certificate(byName.get("etcd-2-server")!.outputs.certPem as string);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain("IP Address:10.213.0.12");
  }, 600_000);

  test("GIVEN the stack is up WHEN pulumi up runs again THEN nothing changes", async () => {
    const up = await stack.up();
    expect(up.changes).toEqual({ same: 1 + 1 + 1 + members.length });
  }, 600_000);

  test("GIVEN the stack is up WHEN one member's address changes THEN only that member's certificate is re-issued", async () => {
    const before = resourcesByName(await stack.exportWithSecrets());
    await stack.setConfigObject(
      "members",
      members.map((m) => (m.name === "etcd-3" ? { ...m, address: "10.213.0.23" } : m)),
    );
    const steps = await stack.preview();
    const changed = steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn.split("::").pop()}`);
    expect(changed).toEqual(["replace etcd-3-server"]);
    const up = await stack.up();
    expect(up.changes).toEqual({ same: 1 + 1 + 1 + members.length - 1, replace: 1 });
    const after = resourcesByName(await stack.exportWithSecrets());
    expect(after.get("etcd-1-server")!.outputs.certPem).toBe(before.get("etcd-1-server")!.outputs.certPem);
    expect(after.get("k3s-token")!.outputs.value).toBe(before.get("k3s-token")!.outputs.value);
    expect(new X509Certificate(after.get("etcd-3-server")!.outputs.certPem as string).subjectAltName).toContain(
      "IP Address:10.213.0.23",
    );
  }, 600_000);

  test("GIVEN the state files WHEN searched for the token and every private key THEN none appears in plaintext", async () => {
    const byName = resourcesByName(await stack.exportWithSecrets());
    const secrets: [string, string][] = [["k3s token", byName.get("k3s-token")!.outputs.value as string]];
    for (const [name, r] of byName)
      if (typeof r.outputs.keyPem === "string") secrets.push([`${name} private key`, r.outputs.keyPem]);
    expect(secrets.length).toBe(1 + 1 + members.length);
    const files = stack.backendFiles();
    // the state is there, with the secrets as passphrase-encrypted ciphertext
    const state = [...files].find(([p]) => /\/\.pulumi\/stacks\/.*\.json$/.test(p));
    expect(state?.[1]).toContain('"ciphertext"');
    const leaks: string[] = [];
    for (const [path, content] of files) {
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(content)) leaks.push(`${path}: contains a PEM private key`);
      for (const [what, value] of secrets) {
        const body = value.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
        if (content.includes(value) || content.replace(/\\n|\s/g, "").includes(body.slice(0, 64)))
          leaks.push(`${path}: contains the ${what}`);
      }
    }
    expect(leaks).toEqual([]);
  }, 120_000);

  test("GIVEN the stack is up WHEN pulumi destroy THEN no resource is left", async () => {
    const down = await stack.destroy();
    expect(down.changes.delete).toBe(1 + 1 + 1 + members.length);
    expect(resourcesByName(await stack.exportWithSecrets()).size).toBe(0);
  }, 600_000);
});
