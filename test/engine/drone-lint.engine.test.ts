import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join, resolve } from "path";

/**
 * The example pipeline through Drone's own code (tools/drone-lint, built by scripts/build-tools.sh): the runner's
 * substitution pass (drone/envsubst), Drone's YAML parser and its linter for an untrusted repository.
 */
const REPO = resolve(__dirname, "../..");
const PIPELINE = join(REPO, "examples/ci-pipeline/app/.drone.yml");

function droneLint(file: string): { status: number | null; out: string } {
  const bin = spawnSync("bash", [join(REPO, "scripts/build-tools.sh"), "--print-bin-dir"], { encoding: "utf8" });
  if (bin.status !== 0) throw new Error(`scripts/build-tools.sh --print-bin-dir failed:\n${bin.stderr}`);
  const r = spawnSync(join(bin.stdout.trim(), "drone-lint"), [file], { encoding: "utf8" });
  if (r.error) throw new Error(`drone-lint is not built (bash scripts/build-tools.sh --stage 1): ${r.error.message}`);
  return { status: r.status, out: (r.stdout + r.stderr).trim() };
}

describe("examples/ci-pipeline through Drone's own parser and linter", () => {
  test("GIVEN the example's .drone.yml THEN the runner's substitution leaves every shell variable alone, and it parses and lints as an untrusted repository's pipeline", () => {
    expect(droneLint(PIPELINE)).toEqual({ status: 0, out: "ok 1" });
  });

  test("GIVEN the same pipeline with a shell variable the runner would blank, or a privileged step THEN drone-lint refuses it (the check can fail)", () => {
    const dir = mkdtempSync(join(tmpdir(), "drone-lint-"));
    const text = readFileSync(PIPELINE, "utf8");
    const blanked = join(dir, "blanked.yml");
    writeFileSync(blanked, text.replace('"$$REGISTRY/hello:', '"${REGISTRY}/hello:'));
    expect(droneLint(blanked)).toEqual({
      status: 1,
      out: "${REGISTRY} is substituted by the runner (not a build variable): write $${REGISTRY} for the shell",
    });
    const privileged = join(dir, "privileged.yml");
    writeFileSync(privileged, text.replace("  - name: image\n", "  - name: image\n    privileged: true\n"));
    expect(droneLint(privileged)).toEqual({
      status: 1,
      out: "lint: linter: untrusted repositories cannot enable privileged mode",
    });
  });
});
