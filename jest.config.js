/** Three tiers: the fast unit tier (npm test), the lab on real hosts (npm run test:lab), the real engine (npm run test:engine). */
const transform = { "^.+\\.tsx?$": ["@swc/jest", { jsc: { target: "es2022" } }] };
const common = { transform, testEnvironment: "node", moduleFileExtensions: ["ts", "js", "json"] };
module.exports = {
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/test/**/*.test.ts"], testPathIgnorePatterns: ["/test/lab/", "/test/engine/", "/node_modules/"] },
    { ...common, displayName: "lab", testMatch: ["<rootDir>/test/lab/**/*.lab.test.ts"] },
    { ...common, displayName: "engine", testMatch: ["<rootDir>/test/engine/**/*.engine.test.ts"] },
  ],
};
