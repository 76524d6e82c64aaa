import { spawnSync } from "child_process";
import { createHash } from "crypto";
import { mkdtempSync, readdirSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderDeleteBundle, renderStepBundle } from "../../lib/steps/bundle";
import { environmentsDir, loadEnvironment } from "../../stacks/environment";
import { synthSecretResolver } from "../../stacks/secret-refs";
import { synthesize } from "../../stacks/synth";

describe("synthesized host scripts", () => {
  // One representative per step kind (the components test theirs per OS); this catches what composition adds.
  test("GIVEN every example environment THEN each kind of step bundle and delete bundle passes shellcheck", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edgecloud-sc-"));
    const seen = new Set<string>();
    for (const file of readdirSync(environmentsDir()).filter((f) => f.endsWith(".yaml"))) {
      const env = loadEnvironment(join(environmentsDir(), file), { secrets: synthSecretResolver("placeholder") });
      const out = await synthesize(env, {
        material: "placeholder",
        validateManifests: false,
        rancherManifestUrl: "https://rancher.example.com/v3/import/t_c-1.yaml",
      });
      for (const s of out.plan.steps) {
        const key = `${s.component}/${s.name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        for (const [kind, text] of [
          ["step", renderStepBundle(s)],
          ["delete", renderDeleteBundle(s)],
        ] as const) {
          const h = createHash("sha256").update(text).digest("hex").slice(0, 12);
          writeFileSync(join(dir, `${env.name}--${s.host}--${s.name}--${kind}-${h}.sh`), text);
        }
      }
    }
    const files = readdirSync(dir).map((f) => join(dir, f));
    expect(files.length).toBeGreaterThan(20);
    const r = spawnSync("shellcheck", ["-s", "bash", "-f", "gcc", ...files], { encoding: "utf8" });
    if (r.error) throw new Error(`shellcheck is not installed (apt-get install shellcheck): ${r.error.message}`);
    expect((r.stdout + r.stderr).trim()).toBe("");
  }, 120_000);
});
