import { spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { dirname, join } from "path";
import { parse, stringify } from "yaml";
import { EngineTools, PulumiStack, REPO, engineTools } from "./pulumi-cli";

/**
 * What the fleet engine test and `npm run bench:fleet` share: a throw-away project folder and local backend (a
 * PulumiStack's, whose own stack is never run), generated sites, one SSH key and one Rancher URL per site in files.
 */
export interface FleetFixture {
  readonly tools: EngineTools;
  /** The throw-away project folder (Pulumi.yaml pointing at stacks/index.ts): the fleet's --work-dir. */
  readonly workDir: string;
  /** The pulumi processes' environment: PULUMI_HOME logged into the throw-away backend, the passphrase, PATH. */
  readonly envVars: Record<string, string>;
  /** `<root>/bin/pulumi` is the CLI built by scripts/build-tools.sh. */
  readonly pulumiRoot: string;
  /** A fresh private key file (`--secret-file edgecloud:sshPrivateKey=…`). */
  readonly keyFile: string;
  /** `--secret-file edgecloud:rancherManifestUrl=…` (`{site}` per site). */
  readonly rancherUrlTemplate: string;
  /** Writes `count` sites generated from a bundled one into a new directory; returns it. */
  readonly generateSites: (count: number, prefix?: string, from?: string) => string;
  /** Writes the Rancher URL file of each of these (bundled) sites. */
  readonly rancherUrls: (sites: readonly string[]) => void;
  readonly remove: () => Promise<void>;
}

export async function fleetFixture(): Promise<FleetFixture> {
  const tools = engineTools();
  const root = mkdtempSync(join(process.env.EDGECLOUD_ENGINE_WORKDIR ?? tmpdir(), "edgecloud-fleet-"));
  const secrets = join(root, "secrets");
  mkdirSync(secrets, { mode: 0o700 });
  const keyFile = join(secrets, "id");
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyFile], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  // the stack is only there for its project folder and logged-in backend; the fleet creates one stack per site
  const project = await PulumiStack.create({ program: REPO, stack: "fleet-project", tools });
  const envVars = Object.fromEntries(
    Object.entries(project.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  const rancherUrlTemplate = join(secrets, "{site}.url");
  const rancherUrls = (sites: readonly string[]): void => {
    for (const [i, s] of sites.entries())
      writeFileSync(join(secrets, `${s}.url`), `https://rancher.example.com/v3/import/tok-${s}_c-${i}.yaml\n`, {
        mode: 0o600,
      });
  };
  let generated = 0;
  const generateSites = (count: number, prefix = "site", from = "multi-site-shanghai"): string => {
    const dir = join(root, `sites-${generated++}`);
    mkdirSync(dir);
    const base = parse(readFileSync(join(REPO, "environments", `${from}.yaml`), "utf8")) as {
      name: string;
      hosts: { name: string; address: string }[];
      rancher?: { clusterName?: string };
    };
    const old = base.name.replace(/^multi-site-/, "");
    const names: string[] = [];
    for (let i = 1; i <= count; i++) {
      const name = `${prefix}-${String(i).padStart(2, "0")}`;
      names.push(name);
      const env = {
        ...base,
        name,
        description: `generated from ${from}: site ${i} of ${count}`,
        hosts: base.hosts.map((h) => ({
          ...h,
          name: h.name.replace(old, name),
          // 10.32.0.21 → 10.100.<i>.21: every site its own network
          address: h.address.replace(/^\d+\.\d+\.\d+\./, `10.100.${i}.`),
        })),
        ...(base.rancher ? { rancher: { ...base.rancher, clusterName: name } } : {}),
      };
      writeFileSync(join(dir, `${name}.yaml`), stringify(env));
    }
    rancherUrls(names);
    return dir;
  };
  return {
    tools,
    workDir: project.projectDir,
    envVars,
    pulumiRoot: dirname(tools.binDir),
    keyFile,
    rancherUrlTemplate,
    generateSites,
    rancherUrls,
    remove: async () => {
      await project.remove();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
