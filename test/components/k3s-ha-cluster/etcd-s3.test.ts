import { etcdS3KeyBase, renderEtcdS3Curlrc } from "../../../components/k3s-ha-cluster/etcd/maintenance-step";
import { generateClusterMaterial, placeholderMaterial } from "../../../components/k3s-ha-cluster/material";
import { renderK3sHaClusterSteps } from "../../../components/k3s-ha-cluster/plan";
import { K3sHaClusterSpecInput } from "../../../components/k3s-ha-cluster/spec";
import { validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { renderStepBundle } from "../../../lib/steps/bundle";
import { findInlineSecrets } from "../../../stacks/environment";
import { haHosts, haSpec } from "../../fixtures/cluster";
import { shellcheck } from "../../support/shellcheck";

const S3 = {
  endpoint: "https://s3.eu-central-1.amazonaws.com",
  bucket: "acme-etcd-backups",
  region: "eu-central-1",
  prefix: "prod/",
  accessKeyId: "AKIAEXAMPLEKEY",
  secretAccessKey: 'wJalr/K7MDENG+bPxRfi"CYEXAMPLE\\KEY',
};
const spec = (s3: unknown): K3sHaClusterSpecInput =>
  ({ ...haSpec, etcd: { snapshot: { s3 } } }) as unknown as K3sHaClusterSpecInput;
const props = (s3: unknown = S3) => validateK3sHaCluster({ name: "demo", hosts: haHosts, spec: spec(s3) });
const refused = (s3: unknown) => () => props(s3);

describe("k3s.etcd.snapshot.s3 (an S3-compatible backup target, optional)", () => {
  test("GIVEN no s3 THEN the snapshot script is local only and no credentials file is rendered", async () => {
    const p = validateK3sHaCluster({ name: "demo", hosts: haHosts, spec: haSpec });
    const m = await generateClusterMaterial(p, "t");
    expect(m.etcdS3).toBeUndefined();
    const step = renderK3sHaClusterSteps(p, m).find((s) => s.id === "etcd-1/etcd-maintenance")!;
    expect(step.files.map((f) => f.path)).not.toContain("/etc/etcd/edgecloud-etcd-s3.curlrc");
    expect(step.files.find((f) => f.path.endsWith("etcd-snapshot.sh"))!.content).not.toContain("curl");
  });

  test("GIVEN an s3 target THEN every member uploads each timer snapshot with curl --aws-sigv4, the credentials only in a 0600 secret curl config file", async () => {
    const p = props();
    const m = await generateClusterMaterial(p, "t");
    expect(m.etcdS3).toEqual({ accessKeyId: S3.accessKeyId, secretAccessKey: S3.secretAccessKey });
    const steps = renderK3sHaClusterSteps(p, m).filter((s) => s.name === "etcd-maintenance");
    expect(steps.map((s) => s.host)).toEqual(["etcd-1", "etcd-2", "etcd-3"]);
    for (const step of steps) {
      const rc = step.files.find((f) => f.path === "/etc/etcd/edgecloud-etcd-s3.curlrc")!;
      expect({ mode: rc.mode, secret: rc.secret, owner: rc.owner }).toEqual({
        mode: "0600",
        secret: true,
        owner: undefined,
      });
      // curl's config quoting: \ and " escaped inside the double quotes
      expect(rc.content).toContain('user = "AKIAEXAMPLEKEY:wJalr/K7MDENG+bPxRfi\\"CYEXAMPLE\\\\KEY"\n');
      expect(step.secret).toBe(true);
      const script = step.files.find((f) => f.path.endsWith("etcd-snapshot.sh"))!.content;
      expect(script).toContain(
        `url=https://s3.eu-central-1.amazonaws.com/acme-etcd-backups/prod/${step.host}/$(basename "$f")\n`,
      );
      expect(script).toContain(
        'curl --fail --silent --show-error --retry 3 --config /etc/etcd/edgecloud-etcd-s3.curlrc --aws-sigv4 aws:amz:eu-central-1:s3 -H "x-amz-content-sha256: $sha" --upload-file "$f" "$url" -o /dev/null',
      );
      // the upload comes after the local snapshot and its retention
      expect(script.indexOf("curl ")).toBeGreaterThan(script.indexOf("tail -n +25"));
      // neither secret is in any script (nor, therefore, in any argv)
      for (const text of [step.script, script, step.deleteScript])
        for (const secret of [S3.accessKeyId, S3.secretAccessKey]) expect(text).not.toContain(secret);
      expect(step.script).toContain("curl --help all 2>/dev/null | grep -- '--aws-sigv4' >/dev/null");
      expect(step.deleteScript).toContain("/etc/etcd/edgecloud-etcd-s3.curlrc");
      expect({ id: step.id, findings: shellcheck(renderStepBundle(step)) }).toEqual({ id: step.id, findings: "" });
      expect({ id: step.id, findings: shellcheck(script) }).toEqual({ id: step.id, findings: "" });
    }
  });

  test("GIVEN credentials that are Pulumi Outputs THEN the placeholders render the same structure, and rendering without Pulumi says why it cannot", async () => {
    const output = { apply: () => undefined };
    const p = props({ ...S3, accessKeyId: output, secretAccessKey: output });
    const [a, b] = [placeholderMaterial(p), placeholderMaterial(p, "-alternate")];
    expect(a.etcdS3).toEqual({ accessKeyId: "<s3-access-key-id>", secretAccessKey: "<s3-secret-access-key>" });
    const at = (m: typeof a) => renderK3sHaClusterSteps(p, m).find((s) => s.id === "etcd-2/etcd-maintenance")!.hash;
    // the maintenance steps read secret material: they wait on it under Pulumi
    expect(at(a)).not.toBe(at(b));
    await expect(generateClusterMaterial(p, "t")).rejects.toThrow(
      "k3s.etcd.snapshot.s3: the credentials are Pulumi Outputs here; only the K3sHaCluster component resolves them",
    );
  });

  test("the curl config file quotes the credentials the way curl reads them back, and refuses a line break a Pulumi Output could carry", () => {
    expect(renderEtcdS3Curlrc({ accessKeyId: "AKIA", secretAccessKey: 'a"b\\c d' })).toBe(
      '# edgecloud: the credentials of k3s.etcd.snapshot.s3 (read by curl -K, never on its command line)\nuser = "AKIA:a\\"b\\\\c d"\n',
    );
    expect(() => renderEtcdS3Curlrc({ accessKeyId: "AKIA", secretAccessKey: "x\nurl = http://evil" })).toThrow(
      "curlConfigString: refuses a value with a newline or control character",
    );
  });

  test("GIVEN virtual-host addressing or an endpoint with a path THEN the key base follows it", () => {
    const s = props({ ...S3, addressing: "virtual-host" }).spec.etcd.snapshot.s3!;
    expect(etcdS3KeyBase(s, "etcd-1")).toBe("https://acme-etcd-backups.s3.eu-central-1.amazonaws.com/prod/etcd-1/");
    const m = props({ ...S3, endpoint: "https://gw.example.com:9000/s3/", prefix: undefined, region: undefined }).spec
      .etcd.snapshot.s3!;
    expect(etcdS3KeyBase(m, "etcd-2")).toBe("https://gw.example.com:9000/s3/acme-etcd-backups/etcd-2/");
    expect(m.region).toBe("us-east-1");
  });

  test("GIVEN unsafe or malformed fields THEN validation refuses each, naming the field", () => {
    expect(refused({ ...S3, endpoint: "http://minio.lan:9000" })).toThrow(
      /k3s\.etcd\.snapshot\.s3\.endpoint .*insecure/,
    );
    expect(() => props({ ...S3, endpoint: "http://minio.lan:9000", insecure: true })).not.toThrow();
    expect(refused({ ...S3, endpoint: "https://key:secret@minio.lan" })).toThrow(
      "must not carry credentials (user:password@); give them as a secret field",
    );
    expect(refused({ ...S3, bucket: "Acme_Backups" })).toThrow(
      /k3s\.etcd\.snapshot\.s3\.bucket "Acme_Backups" must be an S3 bucket name: 3-63 lowercase letters/,
    );
    expect(refused({ ...S3, bucket: "a..b" })).toThrow(/must not contain two adjacent dots/);
    expect(refused({ ...S3, prefix: "/prod" })).toThrow(
      /k3s\.etcd\.snapshot\.s3\.prefix "\/prod" must be empty or '\/'-terminated/,
    );
    expect(refused({ ...S3, prefix: "a b/" })).toThrow(/k3s\.etcd\.snapshot\.s3\.prefix/);
    expect(refused({ ...S3, region: "EU Central" })).toThrow(/k3s\.etcd\.snapshot\.s3\.region/);
    expect(refused({ ...S3, accessKeyId: "AKIA:X" })).toThrow(
      /k3s\.etcd\.snapshot\.s3\.accessKeyId .*must not contain ':' \(curl splits user:password at the first colon\)/,
    );
    expect(refused({ ...S3, secretAccessKey: "line1\nuser = other" })).toThrow(
      /k3s\.etcd\.snapshot\.s3\.secretAccessKey .*must not contain a newline or control character/,
    );
    expect(refused({ ...S3, bucket: "acme.backups", addressing: "virtual-host" })).toThrow(
      'k3s.etcd.snapshot.s3.addressing "virtual-host" with the dotted bucket "acme.backups" over https puts dots in the TLS host name',
    );
    expect(refused({ ...S3, accessKeyId: undefined })).toThrow(/k3s\.etcd\.snapshot\.s3\.accessKeyId/);
  });

  test("GIVEN the credentials written inline in an environment file THEN they are refused as secrets (a { secret: name } reference is required)", () => {
    const raw = { k3s: { etcd: { snapshot: { s3: { ...S3 } } } } };
    expect(findInlineSecrets(raw).map((i) => i.path)).toEqual([
      "k3s.etcd.snapshot.s3.accessKeyId",
      "k3s.etcd.snapshot.s3.secretAccessKey",
    ]);
    const refs = {
      k3s: {
        etcd: {
          snapshot: { s3: { ...S3, accessKeyId: { secret: "s3-key-id" }, secretAccessKey: { secret: "s3-key" } } },
        },
      },
    };
    expect(findInlineSecrets(refs)).toEqual([]);
  });
});
