import { ChildProcess, spawn, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import { generateClusterMaterial } from "../../../components/k3s-ha-cluster/material";
import { renderK3sHaClusterSteps } from "../../../components/k3s-ha-cluster/plan";
import { K3sHaClusterSpecInput } from "../../../components/k3s-ha-cluster/spec";
import { validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { haHosts, haSpec } from "../../fixtures/cluster";
import { canRunStubHost, stubHost } from "../../support/stub-host";

/**
 * The snapshot timer's S3 upload for real: the rendered snapshot script runs (in a stub host: only etcdctl is faked,
 * it writes the snapshot file) with the machine's real curl against moto's S3 server on loopback, which checks every
 * request's AWS Signature V4 against the IAM user it issued the keys to (moto `INITIAL_NO_AUTH_ACTION_COUNT`). The
 * object read back equals the local snapshot; a wrong secret is refused (403); the credentials are in no argv.
 */
const moto = spawnSync("bash", ["-c", "command -v moto_server"], { encoding: "utf8" }).stdout.trim();
const curlOk = spawnSync("bash", ["-c", "curl --help all | grep -- --aws-sigv4"], { encoding: "utf8" }).status === 0;
if (!moto) console.warn("etcd-s3.exec.test.ts skipped: moto_server (Python moto[server]) is not installed");
const maybe = canRunStubHost && moto && curlOk ? describe : describe.skip;

const PY_SETUP = `
import boto3, json, sys
ep = sys.argv[1]
iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
iam.create_user(UserName="etcd-backup")
k = iam.create_access_key(UserName="etcd-backup")["AccessKey"]
iam.put_user_policy(UserName="etcd-backup", PolicyName="s3", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
s3 = boto3.client("s3", endpoint_url=ep, region_name="us-east-1", aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])
s3.create_bucket(Bucket="etcd-backups")
print(json.dumps({"id": k["AccessKeyId"], "secret": k["SecretAccessKey"]}))
`;
const PY_GET = `
import boto3, sys
ep, key_id, secret, key = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=ep, region_name="us-east-1", aws_access_key_id=key_id, aws_secret_access_key=secret)
sys.stdout.write(s3.get_object(Bucket="etcd-backups", Key=key)["Body"].read().decode())
`;

/** A fake etcdctl: `… snapshot save FILE` writes a recognisable snapshot into FILE. */
const FAKE_ETCDCTL = `#!/bin/bash
for a in "$@"; do last=$a; done
printf 'etcd snapshot %s\\n' "$FAKE_SNAPSHOT_ID" >"$last"
`;

maybe("k3s.etcd.snapshot.s3: the snapshot timer uploads to an S3-compatible server (moto, SigV4 checked)", () => {
  let server: ChildProcess | undefined;
  let endpoint = "";
  let creds: { id: string; secret: string };

  beforeAll(async () => {
    for (let attempt = 0; attempt < 5 && !endpoint; attempt++) {
      const port = 40000 + Math.floor(Math.random() * 20000);
      const child = spawn(moto, ["-H", "127.0.0.1", "-p", String(port)], {
        env: { ...process.env, INITIAL_NO_AUTH_ACTION_COUNT: "3" },
        stdio: "ignore",
      });
      for (let i = 0; i < 60; i++) {
        await new Promise((r) => setTimeout(r, 250));
        if (child.exitCode !== null) break;
        const up = spawnSync("curl", ["-s", "-o", "/dev/null", `http://127.0.0.1:${port}/moto-api/`]).status === 0;
        if (up) {
          endpoint = `http://127.0.0.1:${port}`;
          server = child;
          break;
        }
      }
      if (!endpoint) child.kill();
    }
    if (!endpoint) throw new Error("moto_server did not start");
    const r = spawnSync("python3", ["-c", PY_SETUP, endpoint], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`moto setup failed: ${r.stderr}`);
    creds = JSON.parse(r.stdout) as { id: string; secret: string };
  });

  afterAll(() => {
    server?.kill();
  });

  const render = async (secret: string) => {
    const spec = {
      ...haSpec,
      etcd: {
        snapshot: {
          s3: {
            endpoint,
            insecure: true,
            bucket: "etcd-backups",
            prefix: "lab/",
            accessKeyId: creds.id,
            secretAccessKey: secret,
          },
        },
      },
    } as K3sHaClusterSpecInput;
    const p = validateK3sHaCluster({ name: "demo", hosts: haHosts, spec });
    const step = renderK3sHaClusterSteps(p, await generateClusterMaterial(p, "t")).find(
      (s) => s.id === "etcd-1/etcd-maintenance",
    )!;
    const file = (suffix: string) => step.files.find((f) => f.path.endsWith(suffix))!;
    return { script: file("etcd-snapshot.sh").content, curlrc: file("edgecloud-etcd-s3.curlrc") };
  };
  const run = async (secret: string) => {
    const { script, curlrc } = await render(secret);
    const host = stubHost({
      scratch: ["/usr/local/sbin", "/var/backups"],
      stubs: { curl: 'exec /usr/bin/curl "$@"' },
    });
    host.put("/usr/local/sbin/edgecloud-etcdctl", FAKE_ETCDCTL, 0o755);
    host.put(curlrc.path, curlrc.content, 0o600);
    const id = randomBytes(8).toString("hex");
    const r = host.run(script, { FAKE_SNAPSHOT_ID: id });
    return { r, id, host };
  };

  test("GIVEN the user's keys WHEN the snapshot service runs THEN the snapshot is kept locally and the same bytes are in the bucket under <prefix><member>/, and no argv carried a credential", async () => {
    const { r, id, host } = await run(creds.secret);
    try {
      expect({ status: r.status, out: r.out }).toMatchObject({ status: 0 });
      const m = /uploaded (\/var\/backups\/etcd\/snapshot-\d{8}T\d{6}Z\.db) to (\S+)/.exec(r.out);
      expect(m).not.toBeNull();
      const [, local, url] = m!;
      expect(url).toBe(`${endpoint}/etcd-backups/lab/etcd-1/${local!.split("/").pop()}`);
      expect(host.file(local!)).toBe(`etcd snapshot ${id}\n`);
      const key = url!.slice(`${endpoint}/etcd-backups/`.length);
      const got = spawnSync("python3", ["-c", PY_GET, endpoint, creds.id, creds.secret, key], { encoding: "utf8" });
      expect(got.stderr).toBe("");
      expect(got.stdout).toBe(`etcd snapshot ${id}\n`);
      const curlCalls = r.calls.filter((c) => c.startsWith("curl "));
      expect(curlCalls).toHaveLength(1);
      expect(curlCalls[0]).toContain("--aws-sigv4 aws:amz:us-east-1:s3");
      for (const c of r.calls) for (const secret of [creds.id, creds.secret]) expect(c).not.toContain(secret);
    } finally {
      host.dispose();
    }
  });

  test("GIVEN a wrong secret key WHEN the snapshot service runs THEN the server refuses the signature and the service fails", async () => {
    const { r, host } = await run(`${creds.secret.slice(0, -4)}XXXX`);
    try {
      expect(r.status).not.toBe(0);
      expect(r.out).toContain("The requested URL returned error: 403");
      expect(r.out).not.toContain("uploaded ");
      expect(r.out).not.toContain(creds.secret.slice(0, -4));
    } finally {
      host.dispose();
    }
  });
});
