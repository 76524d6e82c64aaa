import { spawnSync } from "child_process";
import { envFile, raw, sh, tomlString, unitExecArg, unitValue, yamlString } from "../../../lib/steps";

const PAYLOADS = [
  "/srv/reg;touch canary;x",
  "$(touch canary)",
  "`touch canary`",
  "a'b\"c",
  "back\\slash",
  "new\nline",
  "-rf",
  "",
];

function bash(script: string): { status: number | null; stdout: string } {
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout };
}

describe("sh tagged template", () => {
  test.each(PAYLOADS)("GIVEN the payload %j WHEN interpolated THEN bash receives it as one literal word", (p) => {
    const script = sh`printf '%s\\0' ${p} ${[p, "x"]}`;
    expect(spawnSync("bash", ["-n", "-c", script]).status).toBe(0);
    const r = bash(script);
    expect(r.status).toBe(0);
    expect(r.stdout.split("\0").slice(0, 3)).toEqual([p, p, "x"]);
  });
  test("GIVEN safe values THEN they stay bare, and a number is inserted as is", () => {
    expect(sh`ec_dir ${"/var/lib/etcd"} ${"0700"} ${2379}`).toBe("ec_dir /var/lib/etcd 0700 2379");
    expect(sh`x ${"a b"}`).toBe("x 'a b'");
  });
  test("GIVEN raw() THEN the fragment is inserted verbatim and lexed as script", () => {
    expect(sh`if true; then ${raw('echo "$HOME"')}; fi`).toBe('if true; then echo "$HOME"; fi');
  });
  test("GIVEN an interpolation inside double quotes THEN sh refuses it (quoting cannot protect it there)", () => {
    expect(() => sh`ec_log "installing ${"x"}"`).toThrow("sh: interpolation #0 is inside a double-quoted string");
    expect(() => sh`echo '${"x"}'`).toThrow("sh: interpolation #0 is inside a single-quoted string");
  });
  test("GIVEN a number inside quotes THEN it is inserted as is (digits, '.', 'e', '+', '-' are not special there)", () => {
    expect(sh`ec_log "waited ${300} s" '${1.5e21}'`).toBe(`ec_log "waited 300 s" '1.5e+21'`);
    expect(() => sh`ec_log "waited ${Number.POSITIVE_INFINITY} s"`).toThrow("is the number Infinity");
  });
  test("GIVEN $( ) inside double quotes THEN an interpolation there is a word of its own and allowed", () => {
    expect(sh`x="$(cat ${"/a b"})"`).toBe(`x="$(cat '/a b')"`);
    expect(sh`x="$(cat ${"/a"})" && y ${"b"}`).toBe('x="$(cat /a)" && y b');
  });
  test("GIVEN an unquoted here-document THEN an interpolation in its body is refused; a quoted one is fine", () => {
    expect(() => sh`cat <<EOF\n${"$(id)"}\nEOF\n`).toThrow("inside an unquoted here-document");
    expect(() => sh`cat <<'EOF'\na ${"x\ny"}\nEOF\n`).toThrow("carries a newline into a here-document");
    expect(sh`cat <<'EOF'\nx\nEOF\necho ${"a b"}`).toBe("cat <<'EOF'\nx\nEOF\necho 'a b'");
  });
  test("GIVEN a comment THEN a newline may not end it early", () => {
    expect(() => sh`# data in ${"a\nreboot"}\n`).toThrow("carries a newline into a comment");
    expect(sh`# data in ${"/srv/x"}\necho ${"y"}`).toBe("# data in /srv/x\necho y");
  });
  test("GIVEN undefined or a boolean THEN sh throws (a renderer bug, never a silent empty word)", () => {
    expect(() => sh`x ${undefined as unknown as string}`).toThrow("sh: interpolation #0 is undefined");
    expect(() => sh`x ${Number.NaN}`).toThrow("sh: interpolation #0 is the number NaN");
  });
});

describe("format writers", () => {
  test("GIVEN a newline WHEN written into a unit THEN unitValue refuses it (no directive can be added)", () => {
    expect(() => unitValue("hourly\nUnit=reboot.target")).toThrow("unitValue: refuses a value with a newline");
    expect(() => unitValue("x\\")).toThrow("trailing backslash");
    expect(unitValue("50%")).toBe("50%%");
  });
  test("GIVEN specials WHEN written as an ExecStart argument THEN they are escaped", () => {
    expect(unitExecArg('a "b" $X %i \\')).toBe('"a \\"b\\" $$X %%i \\\\"');
  });
  test("GIVEN a value with a newline WHEN written into an env file THEN it is refused (no variable can be added)", () => {
    expect(() => envFile({ A: "x\nB=evil" })).toThrow("envFile A: refuses a value with a newline");
    expect(() => envFile({ "A;B": "x" })).toThrow('envFile: "A;B" is not a variable name');
  });
  test("GIVEN shell specials WHEN written into an env file THEN bash's source reads them back literally", () => {
    const v = "p'a\"s$(touch canary)`id`\\$HOME";
    const r = bash(`set -a; source /dev/stdin <<'EOF'\n${envFile({ V: v })}EOF\nprintf %s "$V"`);
    expect(r.stdout).toBe(v);
  });
  test("GIVEN control characters THEN YAML and TOML strings escape them", () => {
    expect(yamlString("a\nb: c")).toBe('"a\\nb: c"');
    expect(tomlString('a"\n\\')).toBe('"a\\"\\u000a\\\\"');
  });
});
