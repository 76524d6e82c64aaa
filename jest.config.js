/** Three tiers: the fast unit tier (npm test), the lab on real hosts (npm run test:lab), the real engine (npm run test:engine). */
// ts-jest transpiles file by file (no type information): `npm test` type-checks the whole tree with tsc first.
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
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/test/**/*.test.ts"],
      testPathIgnorePatterns: ["/test/lab/", "/test/engine/", "/node_modules/"],
    },
    { ...common, displayName: "lab", testMatch: ["<rootDir>/test/lab/**/*.lab.test.ts"] },
    { ...common, displayName: "engine", testMatch: ["<rootDir>/test/engine/**/*.engine.test.ts"] },
  ],
};
