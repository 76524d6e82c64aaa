import { existsSync } from "node:fs";
import { ApiObject, JsonPatch } from "cdk8s";
import * as kplus from "cdk8s-plus-27";
import { parseAllDocuments } from "yaml";
import {
  chartObjects,
  newApp,
  newChart,
  objectsToYaml,
  validateObjects,
  type KubeObject,
} from "../../../lib/manifests";

function webChart() {
  const chart = newChart(newApp(), "web", { namespace: "apps", disableResourceNameHashes: true });
  const deployment = new kplus.Deployment(chart, "web", {
    replicas: 2,
    containers: [
      {
        name: "web",
        image: "nginx:1.27",
        portNumber: 8080,
        envVariables: { MODE: kplus.EnvValue.fromValue("yes") },
        securityContext: { ensureNonRoot: true, user: 101 },
      },
    ],
  });
  deployment.exposeViaService({ name: "web", ports: [{ port: 80, targetPort: 8080 }] });
  new kplus.ConfigMap(chart, "config", {
    metadata: { name: "web-config" },
    data: { "nginx.conf": "worker_processes 1;\n", enabled: "on" },
  });
  return chart;
}

describe("chartObjects", () => {
  test("a cdk8s-plus-27 Deployment and Service synthesize in memory and validate clean", () => {
    // GIVEN
    const chart = webChart();
    // WHEN
    const objects = chartObjects(chart);
    // THEN
    expect(objects.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      "apps/v1 Deployment apps/web",
      "v1 Service apps/web",
      "v1 ConfigMap apps/web-config",
    ]);
    expect((objects[0].spec as any).template.spec.containers[0]).toMatchObject({
      name: "web",
      image: "nginx:1.27",
      ports: [{ containerPort: 8080 }],
    });
    expect(validateObjects(objects)).toEqual([]);
    expect(existsSync("cdk8s.out.unused")).toBe(false);
    expect(existsSync("dist/web.k8s.yaml")).toBe(false);
  });

  test("an invalid cdk8s escape hatch is caught by validation", () => {
    // GIVEN
    const chart = webChart();
    ApiObject.of(chart.node.findChild("web")).addJsonPatch(
      JsonPatch.add("/spec/template/spec/containers/0/imagePullPolicy", 1),
    );
    // WHEN
    const issues = validateObjects(chartObjects(chart));
    // THEN
    expect(issues).toEqual([
      {
        path: "Deployment/apps/web spec.template.spec.containers[0].imagePullPolicy",
        value: 1,
        message: "must be string",
      },
    ]);
  });
});

describe("objectsToYaml", () => {
  test("renders one document per object, in order, parseable back to the same objects", () => {
    // GIVEN
    const objects = chartObjects(webChart());
    // WHEN
    const yaml = objectsToYaml(objects);
    // THEN
    expect(parseAllDocuments(yaml).map((d) => d.toJS())).toEqual(objects);
    expect(yaml).toMatchSnapshot();
  });

  test("quotes strings a YAML 1.1 parser would read as booleans or numbers; folds nothing; makes no anchors", () => {
    // GIVEN
    const shared = { app: "x" };
    const long = "a".repeat(200);
    const objects: KubeObject[] = [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "a", labels: shared, annotations: shared },
        data: { on: "on", mode: "0755", yes: "yes", long },
      },
    ];
    // WHEN
    const yaml = objectsToYaml(objects);
    // THEN
    expect(yaml).toContain('"on": "on"');
    expect(yaml).toContain('mode: "0755"');
    expect(yaml).toContain('"yes": "yes"');
    expect(yaml).toContain(`long: ${long}\n`);
    expect(yaml).not.toMatch(/[&*]a1/);
  });

  test("no objects render as an empty string", () => {
    expect(objectsToYaml([])).toBe("");
  });
});
