import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { runCli } from "../../bin/cli";
import { readEnvironmentFile } from "../../stacks/environment";
import { ValidationError } from "../../lib/validation";

describe("hostile environment files", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "ec-hostile-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const message = (f: string) => {
    try {
      readEnvironmentFile(f);
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      return (e as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
    }
    throw new Error("accepted");
  };
  async function cli(f: string) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(["validate", "--config", f, "--quiet"], {
      out: (m) => out.push(m),
      err: (m) => err.push(m),
    });
    return { code, err: err.join("\n") };
  }

  const bomb = [
    "a: &a [x, x, x, x, x, x, x, x, x, x]",
    ...Array.from({ length: 9 }, (_, i) => {
      const p = String.fromCharCode(97 + i);
      const n = String.fromCharCode(98 + i);
      return `${n}: &${n} [*${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}]`;
    }),
    "name: x",
    "hosts: *j",
  ].join("\n");

  test("GIVEN a YAML alias bomb WHEN read THEN it is one clean invalid naming the file, no stack trace", async () => {
    const f = write("bomb.yaml", bomb);
    expect(message(f)).toEqual([`${f}: cannot be read: Excessive alias count indicates a resource exhaustion attack`]);
    const r = await cli(f);
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  test("GIVEN 100,000 levels of nesting WHEN read THEN a one-line invalid, no parser stack overflow", async () => {
    const f = write("deep.yaml", `name: x\nhosts: ${"[".repeat(100000)}${"]".repeat(100000)}\n`);
    const m = message(f);
    expect(m).toHaveLength(1);
    expect(m[0]).toMatch(/:2:\d+: nests deeper than the parser follows; an environment file is a few levels deep$/);
    const r = await cli(f);
    expect(r.code).toBe(1);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  test("GIVEN 40 levels WHEN read THEN refused above the limit of 32 levels", () => {
    const f = write("forty.yaml", `name: x\nhosts: ${"[".repeat(40)}${"]".repeat(40)}\n`);
    expect(message(f)).toEqual([`${f}: nests deeper than 32 levels; an environment file is a few levels deep`]);
  });

  test("GIVEN deeply nested JSON WHEN read THEN refused the same way", () => {
    const f = write("deep.json", `{"name":"x","hosts":${"[".repeat(5000)}${"]".repeat(5000)}}`);
    expect(message(f)).toEqual([`${f}: nests deeper than 32 levels; an environment file is a few levels deep`]);
  });
});
