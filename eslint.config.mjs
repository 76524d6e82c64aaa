// ESLint (flat config): typescript-eslint's recommended rules, the two promise rules that need type information,
// and the layering of ../shared/STYLE.md enforced as an import boundary: `lib/` and every renderer (everything in
// `components/*/` except the ComponentResource files) never import `@pulumi/*`.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { readdirSync } from "node:fs";

// The ComponentResource of a component is the file named after its folder (components/registry/registry.ts).
const componentFiles = readdirSync("components", { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => `components/${d.name}/${d.name}.ts`);

const pulumiBoundary = {
  "no-restricted-imports": [
    "error",
    {
      patterns: [
        {
          group: ["@pulumi/*", "@pulumi/**"],
          message: "renderers and lib/ are pure: Pulumi is imported only by components, lib/pulumi and stacks/",
        },
      ],
    },
  ],
};

export default tseslint.config(
  { ignores: ["node_modules/", "build/", "dist/", "coverage/", "docs/api/", ".lab/", "**/*.js", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Tests and benchmarks import components with require() after pulumi.runtime.setMocks (STYLE.md: "import the
    // component after setMocks"), and walk rendered manifests, which are untyped objects.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-require-imports": "off", "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // A component's descriptor loads its Pulumi half with require() inside deploy(), so that synth (edgecloud/synth)
    // walks the same composition without loading Pulumi.
    files: ["components/*/descriptor.ts", "stacks/rancher-descriptor.ts"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["lib/**/*.ts", "components/**/*.ts"],
    ignores: ["lib/pulumi/**", ...componentFiles],
    rules: pulumiBoundary,
  },
);
