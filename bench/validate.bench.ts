/**
 * Manifest validation benchmark (`npm run bench:validate`): strict validation of N Deployments against the
 * Kubernetes v1.32 schema, against the floor of serialising the same objects to YAML with the same library, in
 * one run. Targets: validation ≤ 3× the YAML floor at N = 10,000 (after the validators are compiled), and
 * t(10,000) / t(1,000) ≤ 15 (linear). Exits non-zero past a target.
 */
import { stringify } from "yaml";
import { validateObjects } from "../lib/manifests";
import { deployment } from "../test/fixtures/deployment";

/** Median of `runs` timings of `f`, in ms. */
function median(runs: number, f: () => void): number {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    f();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return ms.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

const compileStart = process.hrtime.bigint();
validateObjects([deployment("warm-up")]);
const compileMs = Number(process.hrtime.bigint() - compileStart) / 1e6;
const results = [1000, 10000].map((n) => {
  const objects = Array.from({ length: n }, (_, i) => deployment(`web-${i}`));
  const validate = median(5, () => {
    if (validateObjects(objects).length) throw new Error("the benchmark's objects must be valid");
  });
  const floor = median(5, () => objects.map((o) => stringify(o)).join("---\n"));
  return { n, validate, floor, ratio: validate / floor };
});
console.log(`schema compile (first call): ${compileMs.toFixed(0)} ms`);
for (const r of results)
  console.log(
    `N=${r.n}: validate ${r.validate.toFixed(1)} ms, YAML floor ${r.floor.toFixed(1)} ms, ratio ${r.ratio.toFixed(2)}`,
  );
const big = results[1]!;
const growth = big.validate / results[0]!.validate;
console.log(
  `t(10000)/t(1000) = ${growth.toFixed(1)} (target ≤ 15); ratio at 10000 = ${big.ratio.toFixed(2)} (target ≤ 3)`,
);
if (big.ratio > 3 || growth > 15) process.exit(1);
