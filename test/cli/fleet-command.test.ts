import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { runCli } from "../../bin/cli";
import { FLEET_EXIT } from "../../bin/fleet-command";
import { environmentsDir } from "../../stacks/environment";
import type { FleetOptions } from "../../stacks/fleet/run-fleet";
import { fleetSummary, siteOutcome } from "../../stacks/fleet/fleet-summary";

const tmp = mkdtempSync(join(tmpdir(), "edgecloud-fleet-cli-"));
writeFileSync(join(tmp, "Pulumi.yaml"), "name: edgecloud\nruntime: nodejs\n");
mkdirSync(join(tmp, "secrets"));
for (const s of ["multi-site-beijing", "multi-site-shanghai"])
  writeFileSync(join(tmp, "secrets", `${s}.url`), `https://rancher.example.com/v3/import/${s}.yaml`);

/** The CLI in-process with the fleet run replaced by a recorder (nothing reaches Pulumi). */
async function fleet(failing: readonly string[], ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const calls: FleetOptions[] = [];
  const run = async (o: FleetOptions) => {
    calls.push(o);
    const sites = o.sites.map((s) =>
      siteOutcome({
        site: s.name,
        operation: o.operation,
        events: [{ summaryEvent: { resourceChanges: { create: 23 } } }],
        durationMs: 1000,
        ...(failing.includes(s.name) ? { failure: new Error("error: it broke") } : {}),
      }),
    );
    return fleetSummary(o.operation, o.parallel, sites, 1500);
  };
  const code = await runCli(["fleet", ...argv], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    cwd: tmp,
    fleet: { run },
  });
  return { code, out: out.join("\n"), err: err.join("\n"), calls };
}

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("edgecloud fleet: usage", () => {
  test.each([
    [[], "edgecloud fleet: give an operation: preview, up, refresh, destroy"],
    [["deploy", "--sites", "x"], 'edgecloud fleet: unknown operation "deploy"; expected preview, up, refresh, destroy'],
    [["preview"], "edgecloud fleet: --sites is required"],
    [["preview", "--sites"], "edgecloud fleet: --sites needs a value"],
    [["preview", "--sites", "a", "--force"], "edgecloud fleet: unknown option --force"],
    [["up", "--sites", "multi-site-beijing"], "edgecloud fleet: fleet up changes real hosts on every site: add --yes"],
    [
      ["destroy", "--sites", "multi-site-beijing"],
      "edgecloud fleet: fleet destroy changes real hosts on every site: add --yes",
    ],
  ])("GIVEN %p THEN exit 2 and %p, nothing run", async (argv, message) => {
    const r = await fleet([], ...argv);
    expect(r.code).toBe(FLEET_EXIT.usage);
    expect(r.err.split("\n")[0]).toBe(message);
    expect(r.calls).toEqual([]);
  });

  test("GIVEN --help THEN the fleet usage on stdout, exit 0", async () => {
    const r = await fleet([], "--help");
    expect(r.code).toBe(FLEET_EXIT.ok);
    expect(r.out).toMatch(/^usage: edgecloud fleet <preview\|up\|refresh\|destroy> --sites <sites>/);
  });
});

describe("edgecloud fleet: validation before anything runs", () => {
  test("GIVEN an unknown site, a bad --parallel, a secret --config and a missing secret file THEN exit 1 with every problem, nothing run", async () => {
    const r = await fleet(
      [],
      "preview",
      "--sites",
      "multi-site-beijing,multi-site-paris",
      "--parallel",
      "0",
      "--config",
      "edgecloud:rancherManifestUrl=https://x",
      "--secret-file",
      "edgecloud:sshPrivateKey=nokey",
      "--work-dir",
      "nowhere",
    );
    expect(r.code).toBe(FLEET_EXIT.invalid);
    expect(r.calls).toEqual([]);
    expect(r.err.split("\n")).toEqual([
      "edgecloud fleet preview: 5 problems",
      `  - --work-dir "${join(tmp, "nowhere")}" has no Pulumi.yaml: run in the folder of this project's Pulumi.yaml or give --work-dir`,
      '  - --sites "multi-site-paris" is not a bundled environment; bundled: default, edge-cloud, ha-cloud, multi-site-beijing, multi-site-shanghai, single-node; or give an environment file or a directory of them',
      '  - --parallel "0" must be a whole number from 1 to 32 (sites run at once; each is one pulumi engine and one Node.js program)',
      '  - --config "edgecloud:rancherManifestUrl" is secret: give it with --secret-file edgecloud:rancherManifestUrl=<file> (read from the file, passed to pulumi on stdin)',
      `  - --secret-file "edgecloud:sshPrivateKey=nokey" site "multi-site-beijing": ${join(tmp, "nokey")} is not a file`,
    ]);
  });

  test("GIVEN a site whose environment is invalid THEN exit 1 naming the site and the field, nothing run", async () => {
    mkdirSync(join(tmp, "bad"));
    writeFileSync(join(tmp, "bad", "lyon.yaml"), "name: lyon\nhosts: []\n");
    const r = await fleet([], "preview", "--sites", "bad");
    expect(r.code).toBe(FLEET_EXIT.invalid);
    expect(r.calls).toEqual([]);
    expect(r.err).toMatch(/^ {2}- site "lyon": hosts/m);
  });

  test("GIVEN destroy of a site whose file is invalid THEN it still runs: destroy reads only the state", async () => {
    const r = await fleet([], "destroy", "--sites", "bad", "--yes");
    expect(r.code).toBe(FLEET_EXIT.ok);
    expect(r.calls.map((c) => c.sites.map((s) => s.name))).toEqual([["lyon"]]);
  });
});

describe("edgecloud fleet: a run", () => {
  test("GIVEN valid inputs THEN the runner gets the sites, parallel, config and secret files; the summary is printed; exit 0", async () => {
    const r = await fleet(
      [],
      "preview",
      "--sites",
      "multi-site-*",
      "--parallel",
      "2",
      "--config",
      "edgecloud:executor=in-process",
      "--secret-file",
      "edgecloud:rancherManifestUrl=secrets/{site}.url",
      "-q",
    );
    expect(r.code).toBe(FLEET_EXIT.ok);
    const [o] = r.calls;
    expect(o).toMatchObject({
      operation: "preview",
      parallel: 2,
      workDir: tmp,
      config: { "edgecloud:executor": "in-process" },
      secretFiles: { "edgecloud:rancherManifestUrl": join(tmp, "secrets", "{site}.url") },
      sites: [
        { name: "multi-site-beijing", file: join(environmentsDir(), "multi-site-beijing.yaml"), bundled: true },
        { name: "multi-site-shanghai", file: join(environmentsDir(), "multi-site-shanghai.yaml"), bundled: true },
      ],
    });
    expect(o!.onProgress).toBeUndefined();
    expect(r.out).toMatch(/^fleet preview: 2 sites, parallel 2$/m);
    expect(r.out).toMatch(/^ {2}2 ok, 0 failed; resources: 46 create/m);
    expect(r.out).not.toContain("rancher.example.com");
  });

  test("GIVEN one failing site THEN exit 4, the others reported ok", async () => {
    const r = await fleet(["multi-site-beijing"], "preview", "--sites", "multi-site-*", "--json");
    expect(r.code).toBe(FLEET_EXIT.sitesFailed);
    const s = JSON.parse(r.out);
    expect(s.sites.map((x: { site: string; result: string; error?: string }) => [x.site, x.result, x.error])).toEqual([
      ["multi-site-beijing", "failed", "it broke"],
      ["multi-site-shanghai", "ok", undefined],
    ]);
    expect(r.err).toBe("");
  });
});
