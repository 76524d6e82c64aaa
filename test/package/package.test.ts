import { execFileSync } from "child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join, resolve } from "path";

/**
 * The published package: `npm run build && npm pack`, installed (offline, from the npm cache) into a scratch
 * project that type-checks and runs an import of "edgecloud" by name. Slow (build + install, ~30 s): runs in CI
 * (CI=true, as .ci/run sets) or with EDGECLOUD_PACKAGE_TEST=1.
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
    sh("mkdir", ["-p", scratch], tmp);
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", version: "0.0.0", private: true }));
    const typescript = JSON.parse(readFileSync(join(root, "node_modules/typescript/package.json"), "utf8"))
      .version as string;
    const typesNode = JSON.parse(readFileSync(join(root, "node_modules/@types/node/package.json"), "utf8"))
      .version as string;
    sh(
      "npm",
      [
        "install",
        "--offline",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        join(tmp, packed[0]!.filename),
        `typescript@${typescript}`,
        `@types/node@${typesNode}`,
      ],
      scratch,
    );
  }, 240_000);

  test("GIVEN the tarball THEN it has the entry point, its .d.ts, the CLI and no test or benchmark files", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "package.json",
        "build/index.js",
        "build/index.d.ts",
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

  test("GIVEN the installed CLI THEN edgecloud validates an environment file", () => {
    const env = join(scratch, "env.yaml");
    writeFileSync(env, readFileSync(join(root, "environments/single-node.yaml"), "utf8"));
    const bin = join(scratch, "node_modules/.bin/edgecloud");
    chmodSync(bin, 0o755);
    expect(sh(bin, ["validate", "--config", env, "-q"], scratch)).toContain(
      'environment "single-node" is valid (1 hosts)',
    );
  });
});
