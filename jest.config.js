/**
 * Four tiers: the fast unit tier (npm test), the host tier (npm run test:host: the rendered step scripts executed
 * for real as root in a private mount namespace), the lab on real hosts (npm run test:lab) and the real engine
 * (npm run test:engine). ts-jest transpiles file by file (no type information): `npm test` type-checks the whole
 * tree with tsc first.
 */
const transform = {
  "^.+\\.tsx?$": [
    "ts-jest",
    {
      tsconfig: {
        isolatedModules: true,
        target: "ES2022",
        module: "commonjs",
        esModuleInterop: true,
        resolveJsonModule: true,
        sourceMap: true,
      },
    },
  ],
};
const common = { transform, testEnvironment: "node", moduleFileExtensions: ["ts", "js", "json"] };
module.exports = {
  // Both cores of the reference machine (2 cores): jest's default is one worker fewer than the cores.
  maxWorkers: 2,
  // Per test, sized for a loaded 2-core machine (load ≥ 4) so that only a hang fails, never a slow machine;
  // Pulumi-mock files raise it further in setupPulumiMocks(). (A global option: jest 29 has no per-project one.)
  testTimeout: 30_000,
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/test/**/*.test.ts"],
      testPathIgnorePatterns: ["/test/lab/", "/test/engine/", "/node_modules/", "\\.exec\\.test\\.ts$"],
    },
    {
      ...common,
      displayName: "host",
      testMatch: ["<rootDir>/test/**/*.exec.test.ts"],
    },
    { ...common, displayName: "lab", testMatch: ["<rootDir>/test/lab/**/*.lab.test.ts"] },
    { ...common, displayName: "engine", testMatch: ["<rootDir>/test/engine/**/*.engine.test.ts"] },
  ],
};
