import { App, Chart, type ChartProps } from "cdk8s";
import { stringify } from "yaml";
import type { KubeObject } from "./kube-object";

/**
 * A cdk8s `App` to hold charts that are rendered in memory with {@link chartObjects}. Its `outdir` is never
 * written: nothing here calls `app.synth()`.
 */
export function newApp(): App {
  return new App({ outdir: "cdk8s.out.unused" });
}

/** A chart in `app` (a fresh {@link newApp} by default). */
export function newChart(app: App | undefined, id: string, props: ChartProps = {}): Chart {
  return new Chart(app ?? newApp(), id, props);
}

/**
 * The chart's objects, resolved, in cdk8s's dependency order. Runs the constructs' validations (cdk8s-plus
 * checks) and writes no files.
 */
export function chartObjects(chart: Chart): KubeObject[] {
  return chart.toJson() as KubeObject[];
}

/**
 * Objects as one multi-document YAML manifest, keys in the order given. Written as YAML 1.1 so that strings
 * like `"yes"`, `"on"` or `"0755"` stay quoted for Kubernetes' YAML 1.1 parser; long lines are never folded and
 * shared sub-objects are never turned into anchors.
 */
export function objectsToYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringify(o, { version: "1.1", lineWidth: 0, aliasDuplicateObjects: false })).join("---\n");
}
