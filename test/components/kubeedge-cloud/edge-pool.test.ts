import { createHash, createHmac, generateKeyPairSync } from "crypto";
import { parse } from "yaml";
import { renderStepBundle } from "../../../lib/steps/bundle";
import { IssueCollector } from "../../../lib/validation/issues";
import {
  edgePoolSteps,
  POOL_NODE_IP,
  POOL_NODE_NAME,
  renderJoinBundle,
} from "../../../components/kubeedge-cloud/edge-pool";
import { joinTokenExpiry, mintKubeEdgeJoinToken } from "../../../components/kubeedge-cloud/join-token";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { baseSpec, clusterHosts } from "./fixtures";
import { shellcheck } from "./shellcheck";

const b64url = (s: string) => Buffer.from(s, "base64url");

describe("KubeEdge join tokens minted by the library", () => {
  // a CA key as cloudcore keeps it in kubeedge/casecret cakeydata: SEC1 EC DER (x509.MarshalECPrivateKey)
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const caKey = privateKey.export({ format: "der", type: "sec1" });
  const caDer = Buffer.from("not a real certificate, hashed only");
  const exp = 1_900_000_000;
  const token = mintKubeEdgeJoinToken(caDer.toString("base64"), caKey.toString("base64"), exp);

  test("GIVEN a CA and its key WHEN a token is minted THEN it is cloudcore's format: the CA's sha256, then an HS256 JWT keyed with the key's DER whose only claim is exp", () => {
    const [caHash, header, payload, signature] = token.split(".");
    expect(token.split(".")).toHaveLength(4);
    expect(caHash).toBe(createHash("sha256").update(caDer).digest("hex"));
    expect(JSON.parse(b64url(header!).toString())).toEqual({ alg: "HS256", typ: "JWT" });
    expect(JSON.parse(b64url(payload!).toString())).toEqual({ exp });
    // what cloudcore's token.Verify does (golang-jwt HS256 over "<header>.<payload>", raw base64url, no padding)
    const expected = createHmac("sha256", caKey).update(`${header}.${payload}`).digest("base64url");
    expect(signature).toBe(expected);
    expect(token).not.toMatch(/=/);
    expect(joinTokenExpiry(token)).toBe(exp);
    expect(joinTokenExpiry("a.b.c")).toBeUndefined();
  });

  test("GIVEN another CA key WHEN the same expiry is minted THEN the signature differs (a token is bound to its cloudcore)", () => {
    const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({
      format: "der",
      type: "sec1",
    });
    const t2 = mintKubeEdgeJoinToken(caDer.toString("base64"), other.toString("base64"), exp);
    expect(t2.split(".").slice(0, 3)).toEqual(token.split(".").slice(0, 3));
    expect(t2.split(".")[3]).not.toBe(token.split(".")[3]);
  });
});

describe("edge pools", () => {
  const check = (pools: unknown) => {
    const issues = new IssueCollector();
    const props = checkKubeEdgeCloud({ hosts: clusterHosts(), spec: { ...baseSpec, edgePools: pools } }, issues);
    return { props, issues: issues.issues.map((i) => `${i.path} ${JSON.stringify(i.value)} ${i.message}`) };
  };

  test("GIVEN invalid pools THEN every problem is named with its path", () => {
    expect(
      check([
        { name: "plant-a", os: "debian-12", arch: "arm64" },
        { name: "plant-a", os: "debian-12", arch: "loong64", credential: { ttlHours: 4, rotateBeforeHours: 4 } },
        { name: "Plant_B", os: "debian-12", arch: "amd64", credential: { ttlHours: 48 } },
      ]).issues,
    ).toEqual([
      "kubeedge.edgePools[2].name \"Plant_B\" must be a lowercase DNS label (a-z, 0-9, '-', at most 63 characters)",
      "kubeedge.edgePools[2].credential.ttlHours 48 must be <= 24",
    ]);
    expect(
      check([
        { name: "plant-a", os: "debian-12", arch: "arm64" },
        { name: "plant-a", os: "debian-12", arch: "loong64", credential: { ttlHours: 4, rotateBeforeHours: 4 } },
      ]).issues,
    ).toEqual([
      'kubeedge.edgePools[1].name "plant-a" is used twice (kubeedge.edgePools[0]); pool names must be unique',
      'kubeedge.edgePools[1].arch "loong64" is not supported by KubeEdge; allowed: amd64, arm64, arm',
      "kubeedge.edgePools[1].credential.rotateBeforeHours 4 must be less than ttlHours (4): every `pulumi up` would mint a new credential",
    ]);
  });

  const { props } = check([
    {
      name: "plant-a",
      os: "ubuntu-22.04",
      arch: "arm64",
      labels: { site: "plant-a" },
      taints: ["site=plant-a:NoSchedule"],
    },
  ]);
  const pool = props!.spec.edgePools[0]!;
  const token = "0123abcd.header.payload.signature-of-the-pool-credential";
  const bundle = renderJoinBundle(props!, pool, token, new Date("2026-12-02T12:00:00Z"));

  test("GIVEN a pool WHEN its bundle is rendered THEN the plain script passes shellcheck, refuses an expired credential and a name cloudcore already has, and runs the pool's four steps", () => {
    expect(shellcheck(bundle.script)).toBe("");
    expect(bundle.notAfter).toBe("2026-12-02T12:00:00.000Z");
    expect(bundle.script).toContain(`if [ "$(date -u +%s)" -ge 1796212800 ]; then`);
    expect(bundle.script).toContain("https://10.0.0.11:10002/node/");
    expect(bundle.script.match(/^run_step [a-z-]+/gm)).toEqual([
      "run_step kubeedge-preflight",
      "run_step kubeedge-runtime",
      "run_step kubeedge-install",
      "run_step kubeedge-join",
    ]);
    // the credential is inside the join step's edgecore.yaml template (base64), never a word of the script
    expect(bundle.script).not.toContain(token);
    expect(bundle.script).not.toContain("tokensecret");
  });

  test("GIVEN a pool WHEN its steps are rendered THEN edgecore.yaml carries the pool's labels and taints and stand-ins the machine replaces; each step passes shellcheck", () => {
    const steps = edgePoolSteps(props!, pool, token);
    for (const s of steps)
      expect({ step: s.name, findings: shellcheck(renderStepBundle(s)) }).toEqual({ step: s.name, findings: "" });
    const join = steps[3]!;
    const template = join.files.find((f) => f.path.endsWith("edgecore.yaml.pool-template"))!;
    expect(template).toMatchObject({ mode: "0600", secret: true });
    const edged = (
      parse(template.content) as { modules: { edged: Record<string, unknown>; edgeHub: { token: string } } }
    ).modules;
    expect(edged.edgeHub.token).toBe(token);
    expect(edged.edged).toMatchObject({
      hostnameOverride: POOL_NODE_NAME,
      nodeIP: POOL_NODE_IP,
      nodeLabels: expect.objectContaining({ site: "plant-a", "edgecloud.io/edge-pool": "plant-a" }),
      tailoredKubeletConfig: expect.objectContaining({
        registerWithTaints: [
          { key: "node-role.kubernetes.io/edge", effect: "NoSchedule" },
          { key: "site", value: "plant-a", effect: "NoSchedule" },
        ],
      }),
    });
    expect(join.script).toContain(
      `sed -e s/${POOL_NODE_NAME}/"$EC_NODE_NAME"/g -e 's/192\\.0\\.2\\.254/'"$EC_NODE_IP"/g /etc/kubeedge/config/edgecore.yaml.pool-template | base64 -w0 | ec_put /etc/kubeedge/config/edgecore.yaml 0600 root:root`,
    );
  });

  test("GIVEN a pool WHEN its bundle is rendered THEN the user-data is cloud-config that writes the script 0700 and runs it once, then removes it", () => {
    expect(bundle.userData.startsWith("#cloud-config\n")).toBe(true);
    const doc = parse(bundle.userData) as { write_files: Record<string, string>[]; runcmd: string[][] };
    expect(doc.write_files).toEqual([
      {
        path: "/var/lib/edgecloud/edge-join.sh",
        permissions: "0700",
        owner: "root:root",
        encoding: "b64",
        content: Buffer.from(bundle.script).toString("base64"),
      },
    ]);
    expect(doc.runcmd).toEqual([
      ["sh", "-c", "bash /var/lib/edgecloud/edge-join.sh && rm -f /var/lib/edgecloud/edge-join.sh"],
    ]);
  });
});

describe("EdgeJoinCredential's provider", () => {
  const { edgeJoinCredentialProvider: provider } =
    require("../../../components/kubeedge-cloud/kubeedge-cloud") as typeof import("../../../components/kubeedge-cloud/kubeedge-cloud");
  const inputs = {
    ca: Buffer.from("ca").toString("base64"),
    caKey: Buffer.from("key").toString("base64"),
    ttlHours: 6,
    rotateBeforeHours: 3,
    revision: 0,
  };

  test("GIVEN a pool's inputs WHEN created THEN a token expiring ttlHours from now; WHEN diffed THEN kept until rotateBeforeHours before it, replaced after, or when the revision or the CA changes", async () => {
    const { outs } = await provider.create(inputs);
    const exp = joinTokenExpiry(outs.token)!;
    expect(new Date(exp * 1000).toISOString()).toBe(outs.notAfter);
    expect(exp - Date.parse(outs.issuedAt) / 1000).toBeGreaterThan(6 * 3600 - 2);
    expect(exp - Date.parse(outs.issuedAt) / 1000).toBeLessThanOrEqual(6 * 3600);
    expect(await provider.diff("id", outs, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const nearExpiry = { ...outs, notAfter: new Date(Date.now() + 2 * 3600_000).toISOString() };
    expect((await provider.diff("id", nearExpiry, inputs)).replaces).toEqual(["notAfter"]);
    expect((await provider.diff("id", outs, { ...inputs, revision: 1 })).replaces).toEqual(["revision"]);
    expect((await provider.diff("id", outs, { ...inputs, ca: "b3RoZXI=" })).replaces).toEqual(["ca"]);
    expect(await provider.diff("id", outs, { ...inputs, rotateBeforeHours: 1 })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect((await provider.update("id", outs, { ...inputs, rotateBeforeHours: 1 })).outs).toEqual({
      ...outs,
      rotateBeforeHours: 1,
    });
  });

  test("GIVEN the provider as Pulumi serializes it THEN it requires no relative module and mints in a bare node process", async () => {
    const { serializeFunction } =
      require("@pulumi/pulumi/runtime/closure/serializeClosure") as typeof import("@pulumi/pulumi/runtime/closure/serializeClosure");
    const sf = await serializeFunction(() => provider, { allowSecrets: true });
    expect(sf.text).not.toMatch(/require\(["']\.{1,2}\//);
    const loaded = (require("require-from-string") as (s: string) => Record<string, () => typeof provider>)(sf.text)[
      sf.exportName
    ]!();
    const { outs } = await loaded.create(inputs);
    expect(outs.token.split(".")).toHaveLength(4);
  });
});

describe("a pool's join script, executed with stub commands (nothing is installed)", () => {
  const { spawnSync } = require("child_process") as typeof import("child_process");
  const { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } = require("fs") as typeof import("fs");
  const { tmpdir } = require("os") as typeof import("os");
  const { join } = require("path") as typeof import("path");
  const { props } = (() => {
    const issues = new IssueCollector();
    return {
      props: checkKubeEdgeCloud(
        {
          hosts: clusterHosts(),
          spec: { ...baseSpec, edgePools: [{ name: "plant-a", os: "debian-12", arch: "amd64" }] },
        },
        issues,
      )!,
    };
  })();
  const pool = props.spec.edgePools[0]!;
  const dir = mkdtempSync(join(tmpdir(), "ec-pool-join-"));
  const bin = join(dir, "bin");
  const ran = join(dir, "ran");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // id → root; curl → the code in $STUB_CODE (logged); ip → a route; bash → records the step it was given, runs nothing
  const stub = (name: string, body: string) => writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  beforeAll(() => {
    require("fs").mkdirSync(bin);
    require("fs").mkdirSync(ran);
    stub("id", "echo 0");
    stub("curl", 'echo "curl $*" >>"$STUB_LOG"; printf %s "$STUB_CODE"');
    stub("ip", "echo '10.0.0.11 via 10.0.1.1 dev eth0 src 10.0.1.77 uid 0'");
    stub("hostname", 'echo "$STUB_HOSTNAME"');
    stub("bash", 'cp "$1" "$STUB_RAN/$(basename "$1")"; echo "step $(basename "$1")" >>"$STUB_LOG"');
  });
  const run = (notAfter: Date, env: Record<string, string>) => {
    const log = join(dir, `log-${Math.random()}`);
    writeFileSync(log, "");
    const script = join(dir, "join.sh");
    writeFileSync(script, renderJoinBundle(props, pool, "tok.en.pa.rt", notAfter).script);
    const r = spawnSync("/bin/bash", [script], {
      encoding: "utf8",
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        STUB_LOG: log,
        STUB_RAN: ran,
        STUB_CODE: "404",
        STUB_HOSTNAME: "plant-a-007",
        ...env,
      },
    });
    return { code: r.status, stderr: r.stderr, log: readFileSync(log, "utf8") };
  };
  const later = new Date(Date.now() + 3600_000);

  test("GIVEN an expired credential THEN it stops before anything: no cloudcore query, no step", () => {
    const r = run(new Date(Date.now() - 1000), {});
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('edgecloud-join: the join credential of pool "plant-a" expired at');
    expect(r.log).toBe("");
  });

  test("GIVEN a hostname that is not a DNS label THEN it is refused; EDGECLOUD_NODE_NAME overrides it", () => {
    expect(run(later, { STUB_HOSTNAME: "Plant_A" }).stderr).toContain('node name "plant_a" is not a DNS label');
    const r = run(later, { STUB_HOSTNAME: "Plant_A", EDGECLOUD_NODE_NAME: "edge-77", STUB_CODE: "200" });
    expect(r.log).toContain("https://10.0.0.11:10002/node/edge-77");
  });

  test("GIVEN cloudcore already has a Node of that name THEN it refuses, naming it, and runs no step", () => {
    const r = run(later, { STUB_CODE: "200" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cloudcore already has a node "plant-a-007" (or answered 200)');
    expect(r.log).not.toContain("step ");
  });

  test("GIVEN a free name THEN the four steps run in order, each with the machine's name put in; the join step gets name and address", () => {
    const r = run(later, {});
    expect({ code: r.code, stderr: r.stderr.split("\n").filter((l) => l.includes("failed")) }).toEqual({
      code: 0,
      stderr: [],
    });
    expect(r.log.split("\n").filter((l) => l.startsWith("step "))).toEqual([
      "step kubeedge-preflight.sh",
      "step kubeedge-runtime.sh",
      "step kubeedge-install.sh",
      "step kubeedge-join.sh",
    ]);
    expect(r.stderr).toContain("edgecloud-join: plant-a-007 joined edge pool plant-a");
    const preflight = readFileSync(join(ran, "kubeedge-preflight.sh"), "utf8");
    expect(preflight).toContain("host_name=plant-a-007");
    expect(preflight).not.toContain(POOL_NODE_NAME);
    expect(readdirSync(ran).sort()).toEqual([
      "kubeedge-install.sh",
      "kubeedge-join.sh",
      "kubeedge-preflight.sh",
      "kubeedge-runtime.sh",
    ]);
  });
});
