import { spawnSync } from "child_process";
import { createHash } from "crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderDeleteBundle, renderStepBundle } from "../../../lib/steps/bundle";
import { IssueCollector } from "../../../lib/validation/issues";
import { edgeNodeSteps, kubeEdgeChecksumFile } from "../../../components/kubeedge-cloud/edge-node-steps";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { canRunStubHost, stubHost } from "../../support/stub-host";
import { baseSpec, clusterHosts } from "./fixtures";

/** Runs the install bundle as root in a private mount namespace over scratch directories. */
const maybe = canRunStubHost ? describe : describe.skip;

const TARBALLS = ["keadm-v1.23.1-linux-arm64", "kubeedge-v1.23.1-linux-arm64"] as const;
const sha512 = (b: Buffer) => createHash("sha512").update(b).digest("hex");

/** Release tarballs as upstream builds them (keadm/keadm, edge/edgecore inside a directory named after the tarball). */
function buildTarballs(dir: string): Record<string, Buffer> {
  const build = join(dir, "build");
  mkdirSync(join(build, `${TARBALLS[0]}/keadm`), { recursive: true });
  mkdirSync(join(build, `${TARBALLS[1]}/edge`), { recursive: true });
  writeFileSync(join(build, `${TARBALLS[0]}/keadm/keadm`), "#!/bin/sh\necho keadm\n");
  writeFileSync(join(build, `${TARBALLS[1]}/edge/edgecore`), "#!/bin/sh\necho edgecore\n");
  const out: Record<string, Buffer> = {};
  for (const t of TARBALLS) {
    const f = join(dir, `${t}.tar.gz`);
    expect(spawnSync("tar", ["-czf", f, "-C", build, t]).status).toBe(0);
    out[`${t}.tar.gz`] = readFileSync(f);
  }
  return out;
}

/** The same bytes with one byte of the gzip payload flipped: a tampered tarball. */
const tamper = (b: Buffer) => {
  const c = Buffer.from(b);
  c[c.length - 12] ^= 0xff;
  return c;
};

function installStep(install: Record<string, unknown>) {
  const issues = new IssueCollector();
  const p = checkKubeEdgeCloud({ hosts: clusterHosts(), spec: { ...baseSpec, edge: { install } } }, issues);
  expect(issues.issues).toEqual([]);
  return edgeNodeSteps(p!, "tok").find((s) => s.id === "edge-1/kubeedge-install")!;
}

maybe("kubeedge-install bundle, executed (mount namespace, pre-staged tarballs)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ec-keinst-"));
  const staged = join(dir, "opt/kubeedge");
  let tarballs: Record<string, Buffer> = {};
  beforeAll(() => {
    for (const d of [staged, join(dir, "bin"), join(dir, "varlib")]) mkdirSync(d, { recursive: true });
    tarballs = buildTarballs(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Stages the tarballs (optionally one tampered) and upstream's checksum files (optionally left out). */
  const stage = (opts: { tampered?: string; checksums?: boolean } = {}) => {
    rmSync(staged, { recursive: true, force: true });
    mkdirSync(staged, { recursive: true });
    for (const [name, bytes] of Object.entries(tarballs)) {
      writeFileSync(join(staged, name), name === opts.tampered ? tamper(bytes) : bytes);
      if (opts.checksums !== false) writeFileSync(join(staged, kubeEdgeChecksumFile(name)), `${sha512(bytes)}\n`);
    }
  };
  const run = (del = false, sha?: Record<string, string>) => {
    const step = installStep({ kind: "prestaged", dir: "/opt/kubeedge", ...(sha ? { sha512: sha } : {}) });
    const bundle = join(dir, "bundle.sh");
    writeFileSync(bundle, del ? renderDeleteBundle(step) : renderStepBundle(step));
    const mounts = `mount --bind ${dir}/opt /opt && mount --bind ${dir}/bin /usr/local/bin && mount --bind ${dir}/varlib /var/lib`;
    return spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", `${mounts} && bash ${bundle}`], {
      encoding: "utf8",
    });
  };
  const installed = () => existsSync(join(dir, "bin/keadm")) || existsSync(join(dir, "bin/edgecore"));

  test("GIVEN a pre-staged tarball whose bytes differ from its checksum file WHEN installed THEN it is refused and nothing is installed", () => {
    stage({ tampered: `${TARBALLS[1]}.tar.gz` });
    const r = run();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `${TARBALLS[1]}.tar.gz does not match the sha512 in checksum_${TARBALLS[1]}.tar.gz.txt; nothing installed`,
    );
    expect(installed()).toBe(false);
    expect(existsSync(join(dir, "varlib/edgecloud/kubeedge.version"))).toBe(false);
  });

  test("GIVEN pre-staged tarballs without their checksum files WHEN installed THEN the step fails naming the missing file", () => {
    stage({ checksums: false });
    const r = run();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`missing pre-staged /opt/kubeedge/checksum_${TARBALLS[0]}.tar.gz.txt`);
    expect(installed()).toBe(false);
  });

  test("GIVEN no checksum files but the user's sha512 for each tarball THEN those are checked and the install proceeds", () => {
    stage({ checksums: false });
    const sums = Object.fromEntries(Object.entries(tarballs).map(([n, b]) => [n, sha512(b)]));
    const r = run(false, sums);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(run(true).status).toBe(0);
    expect(installed()).toBe(false);
  });

  test("GIVEN pre-staged tarballs WHEN installed twice THEN keadm and edgecore are in place with the version marker, and the second run changes nothing", () => {
    stage();
    const first = run();
    expect(first.stderr).toBe("");
    expect(first.stdout).toContain("edgecloud-step: changed=1");
    expect(readFileSync(join(dir, "bin/edgecore"), "utf8")).toContain("echo edgecore");
    expect(readFileSync(join(dir, "varlib/edgecloud/kubeedge.version"), "utf8")).toBe("v1.23.1\n");
    expect(run().stdout).toContain("edgecloud-step: changed=0");
  });

  test("GIVEN an installed node WHEN the step is deleted THEN the binaries and the marker are gone", () => {
    expect(run(true).status).toBe(0);
    expect(existsSync(join(dir, "bin/keadm"))).toBe(false);
    expect(existsSync(join(dir, "varlib/edgecloud/kubeedge.version"))).toBe(false);
  });
});

maybe("kubeedge-install bundle, executed on a stub host (online: the release's checksum files by default)", () => {
  const dir = mkdtempSync(join(tmpdir(), "ec-keinst-online-"));
  let tarballs: Record<string, Buffer> = {};
  beforeAll(() => {
    tarballs = buildTarballs(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = "github.com/kubeedge/kubeedge/releases/download/v1.23.1";
  /** The mirror the curl stub serves: the tarballs (optionally one tampered) and upstream's checksum files. */
  const mirror = (tampered?: string) =>
    Object.fromEntries(
      Object.entries(tarballs).flatMap(([name, bytes]) => [
        [`${base}/${name}`, name === tampered ? tamper(bytes) : bytes],
        [`${base}/${kubeEdgeChecksumFile(name)}`, `${sha512(bytes)}\n`],
      ]),
    );
  // tar records each call, then runs the real one: a refused tarball must never reach `tar -x`
  const stubs = { tar: 'exec /usr/bin/tar "$@"' };

  test("GIVEN a tampered tarball on the mirror WHEN installed THEN its sha512 is refused and nothing is extracted or installed", () => {
    const host = stubHost({ mirror: mirror(`${TARBALLS[0]}.tar.gz`), stubs });
    try {
      const r = host.run(renderStepBundle(installStep({ kind: "online" })));
      expect(r.status).toBe(1);
      expect(r.out).toContain(
        `${TARBALLS[0]}.tar.gz does not match the sha512 in checksum_${TARBALLS[0]}.tar.gz.txt; nothing installed`,
      );
      // every download ran over https only, the checksum files from the release too
      const curls = r.calls.filter((c) => c.startsWith("curl "));
      expect(curls).toHaveLength(4);
      for (const c of curls) expect(c).toMatch(/--proto =https --proto-redir =https -o .* -- https:\/\//);
      expect(curls.some((c) => c.endsWith(`/checksum_${TARBALLS[0]}.tar.gz.txt`))).toBe(true);
      expect(r.calls.filter((c) => c.startsWith("tar "))).toEqual([]);
      expect(host.file("/usr/local/bin/keadm")).toBeUndefined();
      expect(host.file("/usr/local/bin/edgecore")).toBeUndefined();
      expect(host.file("/var/lib/edgecloud/kubeedge.version")).toBeUndefined();
    } finally {
      host.dispose();
    }
  });

  test("GIVEN a checksum file that holds no sha512 WHEN installed THEN the step refuses it", () => {
    const m = { ...mirror(), [`${base}/${kubeEdgeChecksumFile(`${TARBALLS[0]}.tar.gz`)}`]: "$(touch /tmp/x)\n" };
    const host = stubHost({ mirror: m, stubs });
    try {
      const r = host.run(renderStepBundle(installStep({ kind: "online" })));
      expect(r.status).toBe(1);
      expect(r.out).toContain(`checksum_${TARBALLS[0]}.tar.gz.txt does not hold a sha512`);
      expect(r.calls.filter((c) => c.startsWith("tar "))).toEqual([]);
    } finally {
      host.dispose();
    }
  });

  test("GIVEN the published tarballs WHEN installed THEN both are verified, extracted and installed", () => {
    const host = stubHost({ mirror: mirror(), stubs });
    try {
      const r = host.run(renderStepBundle(installStep({ kind: "online" })));
      expect(r.status).toBe(0);
      expect(r.calls.filter((c) => c.startsWith("tar -xzf"))).toHaveLength(2);
      expect(host.file("/usr/local/bin/edgecore")).toContain("echo edgecore");
    } finally {
      host.dispose();
    }
  });

  test("GIVEN the user's sha512 for a tarball THEN it wins over the release's checksum file (which is not fetched)", () => {
    const wrong = "0".repeat(128);
    const host = stubHost({ mirror: mirror(), stubs });
    try {
      const step = installStep({ kind: "online", sha512: { [`${TARBALLS[1]}.tar.gz`]: wrong } });
      const r = host.run(renderStepBundle(step));
      expect(r.status).toBe(1);
      expect(r.calls.some((c) => c.endsWith(`/checksum_${TARBALLS[1]}.tar.gz.txt`))).toBe(false);
      expect(r.calls.filter((c) => c.startsWith("tar "))).toEqual([]);
      expect(host.file("/usr/local/bin/edgecore")).toBeUndefined();
    } finally {
      host.dispose();
    }
  });
});
