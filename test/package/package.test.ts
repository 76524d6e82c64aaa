import { execFileSync } from "child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { dirname, join, resolve } from "path";

/**
 * The published package: `npm run build && npm pack`, installed into a scratch project that type-checks and runs
 * an import of "edgecloud" by name. Offline from exactly what `npm ci` leaves: the tarball is unpacked into the
 * scratch project's node_modules as npm would (its `bin` entries linked into node_modules/.bin), and only the
 * package's declared `dependencies` plus `typescript` and `@types/node` are linked there from this checkout's
 * node_modules — a runtime import missing from `dependencies` fails here. No registry or npm cache is consulted
 * (`npm install <name>@<version>` needs registry metadata that `npm ci` never caches).
 * Slow (build + pack, ~30 s): runs in CI (CI=true, as .ci/run sets) or with EDGECLOUD_PACKAGE_TEST=1.
 */
const enabled = Boolean(process.env.CI || process.env.EDGECLOUD_PACKAGE_TEST);
const root = resolve(__dirname, "../..");
const sh = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_update_notifier: "false" },
  });

/** Links `name` (scoped or not) from this checkout's node_modules into `modules`. */
function linkModule(modules: string, name: string): void {
  const target = join(root, "node_modules", name);
  if (!existsSync(target)) throw new Error(`${name} is not installed in ${root}/node_modules (run npm ci)`);
  mkdirSync(dirname(join(modules, name)), { recursive: true });
  symlinkSync(target, join(modules, name), "dir");
}

(enabled ? describe : describe.skip)("npm package", () => {
  const tmp = mkdtempSync(join(tmpdir(), "edgecloud-pack-"));
  const scratch = join(tmp, "scratch");
  let files: string[] = [];

  beforeAll(() => {
    sh("npm", ["run", "build"], root);
    const packed = JSON.parse(sh("npm", ["pack", "--pack-destination", tmp, "--json"], root)) as {
      filename: string;
      files: { path: string }[];
    }[];
    files = packed[0]!.files.map((f) => f.path);
    const modules = join(scratch, "node_modules");
    const installed = join(modules, "edgecloud");
    mkdirSync(installed, { recursive: true });
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", version: "0.0.0", private: true }));
    // npm pack's tarball holds the package under package/
    sh("tar", ["-xzf", join(tmp, packed[0]!.filename), "-C", installed, "--strip-components=1"], tmp);
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      bin: Record<string, string>;
    };
    for (const dep of [...Object.keys(manifest.dependencies), "typescript", "@types/node"]) linkModule(modules, dep);
    mkdirSync(join(modules, ".bin"));
    for (const [name, path] of Object.entries(manifest.bin)) {
      symlinkSync(join("..", "edgecloud", path), join(modules, ".bin", name));
      chmodSync(join(installed, path), 0o755);
    }
    symlinkSync(join("..", "typescript", "bin", "tsc"), join(modules, ".bin", "tsc"));
  }, 240_000);

  test("GIVEN the tarball THEN it has the entry point, its .d.ts, the CLI and no test or benchmark files", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "build/index.js",
        "build/index.d.ts",
        "build/synth.js",
        "build/synth.d.ts",
        "build/bin/edgecloud.js",
        "build/lib/steps/prelude.sh",
      ]),
    );
    expect(files.filter((f) => /(^|\/)(test|bench)\/|\.test\.|__snapshots__/.test(f))).toEqual([]);
  });

  test("GIVEN a TypeScript file importing edgecloud by name THEN it type-checks (strict) and runs", () => {
    writeFileSync(
      join(scratch, "main.ts"),
      `import { K3sHaCluster, placeholderMaterial, renderK3sHaClusterSteps, validateK3sHaCluster, type HostInput } from "edgecloud";
const ssh = { privateKeyPath: "/home/ops/.ssh/id_ed25519" };
const hosts: HostInput[] = [
  { name: "server-1", address: "192.168.10.21", ssh, os: "ubuntu-22.04", arch: "amd64", roles: ["server"] },
  { name: "agent-1", address: "192.168.10.31", ssh, os: "debian-12", arch: "arm64", roles: ["agent"] },
];
const props = validateK3sHaCluster({ name: "demo", hosts });
const steps = renderK3sHaClusterSteps(props, placeholderMaterial(props));
export type Cluster = K3sHaCluster;
console.log(steps.map((s) => s.id).join(","));
`,
    );
    writeFileSync(
      join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: "ES2022",
          module: "commonjs",
          moduleResolution: "node",
          esModuleInterop: true,
          skipLibCheck: true,
          outDir: "out",
          types: ["node"],
        },
        files: ["main.ts"],
      }),
    );
    sh(join(scratch, "node_modules/.bin/tsc"), ["-p", "."], scratch);
    const out = sh("node", ["out/main.js"], scratch);
    expect(out.trim().split(",")).toEqual(expect.arrayContaining(["server-1/k3s-start", "agent-1/k3s-start"]));
  });

  test("GIVEN HostStepRun from the package THEN its serialized provider is a small loader that the dynamic-provider process resolves by the package name from the project", () => {
    // serialized as @pulumi/pulumi's dynamic/index.js serializeProvider does, evaluated as cmd/dynamic-provider does
    // (require-from-string: a module with no file name, resolving from the process's working directory)
    writeFileSync(
      join(scratch, "serialize.js"),
      `const { registeredHostStepRunProvider: p } = require("edgecloud");
require("@pulumi/pulumi").runtime.serializeFunction(() => p, { allowSecrets: true })
  .then((s) => require("fs").writeFileSync("provider.txt", s.text));
`,
    );
    sh("node", ["serialize.js"], scratch);
    const text = readFileSync(join(scratch, "provider.txt"), "utf8");
    expect(text.length).toBeLessThan(4_000); // the provider itself: 16 KB
    expect(text).not.toContain("connectOnce");
    writeFileSync(
      join(scratch, "evaluate.js"),
      `const Module = require("module");
const m = new Module("", null);
m.paths = Module._nodeModulePaths(process.cwd());
m._compile(require("fs").readFileSync("provider.txt", "utf8"), "");
const provider = m.exports.handler();
const olds = { bundle: "a", deleteBundle: "", trigger: "t", connection: { host: "h", user: "root", privateKey: "k" } };
Promise.all([provider.diff("id", olds, { ...olds }), provider.diff("id", olds, { ...olds, trigger: "u" })]).then((r) =>
  console.log(JSON.stringify(r.map((d) => d.changes))),
);
`,
    );
    expect(sh("node", ["evaluate.js"], scratch).trim()).toBe("[false,true]");
  });

  test("GIVEN the examples/basic Pulumi program THEN it type-checks against the package, importing it by name", () => {
    const program = readFileSync(join(root, "examples/basic/index.ts"), "utf8");
    expect(program).toMatch(/from "edgecloud";/);
    const dir = join(tmp, "example");
    sh("mkdir", ["-p", dir], tmp);
    writeFileSync(join(dir, "index.ts"), program);
    writeFileSync(join(dir, "tsconfig.json"), readFileSync(join(root, "examples/basic/tsconfig.json"), "utf8"));
    sh("ln", ["-s", join(scratch, "node_modules"), join(dir, "node_modules")], dir);
    sh(join(scratch, "node_modules/.bin/tsc"), ["-p", ".", "--noEmit"], dir);
  });

  test("GIVEN require('edgecloud/synth') THEN synthesis loads without any @pulumi module, and every name it exports is exported by 'edgecloud' too", () => {
    const program = `
      const synth = require("edgecloud/synth");
      const pulumi = Object.keys(require.cache).filter((k) => k.includes("/@pulumi/"));
      const main = require("edgecloud");
      console.log(JSON.stringify({ pulumi, exports: Object.keys(synth), missing: Object.keys(synth).filter((k) => !(k in main)) }));`;
    const r = JSON.parse(sh("node", ["-e", program], scratch)) as {
      pulumi: string[];
      exports: string[];
      missing: string[];
    };
    expect(r.pulumi).toEqual([]);
    expect(r.exports).toEqual(expect.arrayContaining(["synthesize", "loadEnvironment", "validateEnvironment"]));
    expect(r.missing).toEqual([]);
  });

  test("GIVEN the installed CLI THEN edgecloud validates an environment file", () => {
    const env = join(scratch, "env.yaml");
    writeFileSync(env, readFileSync(join(root, "environments/single-node.yaml"), "utf8"));
    const bin = join(scratch, "node_modules/.bin/edgecloud");
    expect(sh(bin, ["validate", "--config", env, "-q"], scratch)).toContain(
      'environment "single-node" is valid (1 hosts)',
    );
  });
});
