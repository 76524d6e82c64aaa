import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { formatIssue } from "../../../lib/validation/issues";
import { environmentsDir } from "../../../stacks/environment";
import {
  FLEET_PARALLEL,
  bundledEnvironments,
  fleetConfig,
  fleetParallel,
  fleetSecretFiles,
  resolveFleetSites,
  validateSiteEnvironments,
} from "../../../stacks/fleet/fleet-sites";

const tmp = mkdtempSync(join(tmpdir(), "edgecloud-fleet-sites-"));
const envDir = environmentsDir();
const shanghai = readFileSync(join(envDir, "multi-site-shanghai.yaml"), "utf8");
const BUNDLED = "bundled: default, edge-cloud, ha-cloud, multi-site-beijing, multi-site-shanghai, single-node";
const messages = (issues: readonly { path: string; value: unknown; message: string }[]) => issues.map(formatIssue);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("resolveFleetSites", () => {
  test("GIVEN the bundled environments THEN they are listed by name, sorted", () => {
    expect(bundledEnvironments()).toEqual([
      "default",
      "edge-cloud",
      "ha-cloud",
      "multi-site-beijing",
      "multi-site-shanghai",
      "single-node",
    ]);
  });

  test("GIVEN bundled names WHEN resolved THEN each is a site named after it, its stack needing no environment config", () => {
    const r = resolveFleetSites("multi-site-beijing, multi-site-shanghai", { cwd: tmp });
    expect(r.issues).toEqual([]);
    expect(r.sites).toEqual([
      { name: "multi-site-beijing", file: join(envDir, "multi-site-beijing.yaml"), bundled: true },
      { name: "multi-site-shanghai", file: join(envDir, "multi-site-shanghai.yaml"), bundled: true },
    ]);
  });

  test("GIVEN a pattern THEN it matches bundled names (multi-site-* → both sites)", () => {
    const r = resolveFleetSites("multi-site-*", { cwd: tmp });
    expect(r.sites.map((s) => s.name)).toEqual(["multi-site-beijing", "multi-site-shanghai"]);
  });

  test("GIVEN a directory THEN every environment file in it is a site, by file name, not bundled", () => {
    const dir = join(tmp, "sites");
    mkdirSync(dir);
    for (const f of ["b.yaml", "a.yml", "c.json", "notes.txt"]) writeFileSync(join(dir, f), shanghai);
    mkdirSync(join(dir, "nested.yaml"));
    const r = resolveFleetSites("sites", { cwd: tmp });
    expect(r.issues).toEqual([]);
    expect(r.sites).toEqual([
      { name: "a", file: join(dir, "a.yml"), bundled: false },
      { name: "b", file: join(dir, "b.yaml"), bundled: false },
      { name: "c", file: join(dir, "c.json"), bundled: false },
    ]);
  });

  test("GIVEN a file path THEN it is one site named after the file", () => {
    writeFileSync(join(tmp, "paris.yaml"), shanghai);
    expect(resolveFleetSites("./paris.yaml", { cwd: tmp }).sites).toEqual([
      { name: "paris", file: join(tmp, "paris.yaml"), bundled: false },
    ]);
  });

  test("GIVEN an unknown name THEN it is refused by name, listing the bundled environments", () => {
    const r = resolveFleetSites("multi-site-beijing,multi-site-paris", { cwd: tmp });
    expect(messages(r.issues)).toEqual([
      `--sites "multi-site-paris" is not a bundled environment; ${BUNDLED}; or give an environment file or a directory of them`,
    ]);
  });

  test("GIVEN a pattern that matches nothing THEN it is refused, listing the bundled environments", () => {
    expect(messages(resolveFleetSites("site-*", { cwd: tmp }).issues)).toEqual([
      `--sites "site-*" matches no bundled environment; ${BUNDLED}; or give an environment file or a directory of them`,
    ]);
  });

  test("GIVEN an empty value THEN it names no site", () => {
    expect(messages(resolveFleetSites(" , ", { cwd: tmp }).issues)).toEqual([
      `--sites " , " names no site; ${BUNDLED}; or give an environment file or a directory of them`,
    ]);
  });

  test("GIVEN a missing file and an empty directory THEN both are named", () => {
    mkdirSync(join(tmp, "empty"));
    expect(messages(resolveFleetSites("gone.yaml,empty", { cwd: tmp }).issues)).toEqual([
      `--sites "gone.yaml" ${join(tmp, "gone.yaml")} does not exist`,
      `--sites "empty" directory ${join(tmp, "empty")} holds no environment file (*.yaml, *.yml, *.json)`,
    ]);
  });

  test("GIVEN two files of the same name THEN the second is refused (each site is its own stack)", () => {
    mkdirSync(join(tmp, "dup"));
    writeFileSync(join(tmp, "dup", "paris.yml"), shanghai);
    expect(messages(resolveFleetSites("paris.yaml,dup", { cwd: tmp }).issues)).toEqual([
      `--sites "dup" site "paris" comes twice (${join(tmp, "paris.yaml")} and ${join(tmp, "dup", "paris.yml")}); each site is its own stack: names must be unique`,
    ]);
  });

  test("GIVEN the same site twice THEN it runs once", () => {
    expect(resolveFleetSites("multi-site-*,multi-site-beijing", { cwd: tmp }).sites.map((s) => s.name)).toEqual([
      "multi-site-beijing",
      "multi-site-shanghai",
    ]);
  });

  test("GIVEN a file whose name is not a stack name THEN it is refused naming the rule", () => {
    writeFileSync(join(tmp, "a b.yaml"), shanghai);
    expect(messages(resolveFleetSites("./a b.yaml", { cwd: tmp }).issues)).toEqual([
      `--sites "./a b.yaml" file ${join(tmp, "a b.yaml")}: "a b" is not a Pulumi stack name (letters, digits, '-', '_', '.'; 1 to 100 characters); rename the file`,
    ]);
  });
});

describe("fleetParallel", () => {
  test.each([
    [undefined, FLEET_PARALLEL.default],
    ["1", 1],
    ["32", 32],
    [" 8 ", 8],
    [3, 3],
  ])("GIVEN %p THEN %p sites run at once", (raw, n) => {
    expect(fleetParallel(raw)).toEqual({ parallel: n, issues: [] });
  });

  test.each(["0", "33", "-1", "2.5", "four", "", "1e1"])(
    "GIVEN %p THEN it is refused with the allowed range",
    (raw) => {
      expect(messages(fleetParallel(raw).issues)).toEqual([
        `--parallel ${JSON.stringify(raw)} must be a whole number from 1 to 32 (sites run at once; each is one pulumi engine and one Node.js program)`,
      ]);
    },
  );
});

describe("fleetConfig and fleetSecretFiles", () => {
  test("GIVEN plain key=value pairs THEN they are the config of every site (split at the first =)", () => {
    expect(fleetConfig(["edgecloud:executor=in-process", "edgecloud:note=a=b"])).toEqual({
      config: { "edgecloud:executor": "in-process", "edgecloud:note": "a=b" },
      issues: [],
    });
  });

  test("GIVEN a secret key, the fleet's own key, no namespace or no value THEN each is refused", () => {
    expect(
      messages(
        fleetConfig([
          "edgecloud:sshPrivateKey=-----BEGIN",
          "edgecloud:environment=x",
          "executor=in-process",
          "edgecloud:executor=",
        ]).issues,
      ),
    ).toEqual([
      `--config "edgecloud:sshPrivateKey" is secret: give it with --secret-file edgecloud:sshPrivateKey=<file> (read from the file, passed to pulumi on stdin)`,
      `--config "edgecloud:environment" is set per site by the fleet (the site's environment file)`,
      `--config "executor=in-process" must be <namespace>:<key>=<value>, e.g. edgecloud:executor=in-process`,
      `--config "edgecloud:executor=" gives no value for edgecloud:executor`,
    ]);
  });

  test("GIVEN a secret file per site ({site}) THEN every site's file must exist, each missing one named", () => {
    const sites = resolveFleetSites("multi-site-*", { cwd: tmp }).sites;
    mkdirSync(join(tmp, "urls"));
    writeFileSync(join(tmp, "urls", "multi-site-beijing.url"), "https://rancher.example.com/v3/import/t.yaml");
    const r = fleetSecretFiles(["edgecloud:rancherManifestUrl=urls/{site}.url"], sites, tmp);
    expect(r.secretFiles).toEqual({ "edgecloud:rancherManifestUrl": join(tmp, "urls", "{site}.url") });
    expect(messages(r.issues)).toEqual([
      `--secret-file "edgecloud:rancherManifestUrl=urls/{site}.url" site "multi-site-shanghai": ${join(tmp, "urls", "multi-site-shanghai.url")} is not a file`,
    ]);
  });
});

describe("validateSiteEnvironments", () => {
  test("GIVEN valid sites THEN no problem", () => {
    expect(validateSiteEnvironments(resolveFleetSites("multi-site-*", { cwd: tmp }).sites)).toEqual([]);
  });

  test("GIVEN a site whose environment is invalid THEN its problems are prefixed with the site", () => {
    const dir = join(tmp, "bad");
    mkdirSync(dir);
    writeFileSync(join(dir, "lyon.yaml"), shanghai.replace("address: 10.32.0.21", "address: 10.32.0.999"));
    const issues = validateSiteEnvironments(resolveFleetSites("bad", { cwd: tmp }).sites);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.every((i) => i.path.startsWith('site "lyon": '))).toBe(true);
    expect(messages(issues).some((m) => m.includes('hosts[1].address "10.32.0.999"'))).toBe(true);
  });
});
