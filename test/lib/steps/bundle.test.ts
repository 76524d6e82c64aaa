import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { parseChanged, renderDeleteBundle, renderStepBundle, shellQuote } from "../../../lib/steps/bundle";
import { hostStep } from "../../../lib/steps/host-step";
import { STEP_PRELUDE } from "../../../lib/steps/prelude";
import { shellcheck } from "../../support/shellcheck";

function run(program: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("bash", ["-s"], { input: program, encoding: "utf8" });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe("step bundles", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "ec-bundle-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const owner = `${process.getuid?.() === 0 ? "root:root" : `${process.getuid?.()}:${process.getgid?.()}`}`;
  const step = (content: string) =>
    hostStep({
      host: "h1",
      name: "demo",
      component: "test",
      files: [{ path: join(dir, "conf", "secret.txt"), mode: "0644", owner, content, secret: true }],
      script: `ec_dir ${join(dir, "data")} 0750 ${owner}\nif ec_file_changed ${join(dir, "conf", "secret.txt")}; then echo reload >> ${join(dir, "log")}; fi`,
      deleteScript: `ec_rm ${join(dir, "conf")} ${join(dir, "data")}`,
    });

  test("GIVEN a step WHEN run twice THEN the first run changes things and the second changes nothing", () => {
    const s = step("token: s3cr3t\n");
    const first = run(renderStepBundle(s));
    expect(first.code).toBe(0);
    expect(parseChanged(first.stdout)).toBe(2);
    const mtime = statSync(join(dir, "conf", "secret.txt")).mtimeMs;
    const second = run(renderStepBundle(s));
    expect(parseChanged(second.stdout)).toBe(0);
    expect(statSync(join(dir, "conf", "secret.txt")).mtimeMs).toBe(mtime);
    expect(readFileSync(join(dir, "log"), "utf8")).toBe("reload\n");
  });

  test("GIVEN a secret file THEN it is written 0600 whatever mode was asked, and never appears in the bundle in clear", () => {
    const s = step("token: s3cr3t\n");
    expect(s.secret).toBe(true);
    expect(s.files[0]!.mode).toBe("0600");
    expect(renderStepBundle(s)).not.toContain("s3cr3t");
    run(renderStepBundle(s));
    expect((statSync(join(dir, "conf", "secret.txt")).mode & 0o777).toString(8)).toBe("600");
  });

  test("GIVEN changed content THEN only the file is rewritten and the change is reported", () => {
    run(renderStepBundle(step("a\n")));
    const r = run(renderStepBundle(step("b\n")));
    expect(parseChanged(r.stdout)).toBe(1);
    expect(readFileSync(join(dir, "conf", "secret.txt"), "utf8")).toBe("b\n");
  });

  test("GIVEN a drifted mode THEN ec_put restores it and counts a change", () => {
    const s = step("x\n");
    run(renderStepBundle(s));
    spawnSync("chmod", ["0644", join(dir, "conf", "secret.txt")]);
    expect(parseChanged(run(renderStepBundle(s)).stdout)).toBe(1);
  });

  test("GIVEN the delete bundle WHEN run twice THEN it removes everything once", () => {
    const s = step("x\n");
    run(renderStepBundle(s));
    expect(parseChanged(run(renderDeleteBundle(s)).stdout)).toBe(2);
    expect(parseChanged(run(renderDeleteBundle(s)).stdout)).toBe(0);
  });

  test("GIVEN a failing script THEN the bundle exits non-zero with no changed marker", () => {
    const s = hostStep({ host: "h", name: "fail", component: "t", script: "false\necho never" });
    const r = run(renderStepBundle(s));
    expect(r.code).not.toBe(0);
    expect(parseChanged(r.stdout)).toBeUndefined();
  });

  test("the prelude and a bundle pass shellcheck", () => {
    expect(shellcheck(STEP_PRELUDE)).toBe("");
    expect(shellcheck(renderStepBundle(step("x")))).toBe("");
  });

  test("shellQuote leaves safe words alone and quotes the rest", () => {
    expect(shellQuote("/etc/etcd/pki")).toBe("/etc/etcd/pki");
    expect(shellQuote("it's here")).toBe("'it'\\''s here'");
    writeFileSync(join(dir, "q"), "");
  });
});
