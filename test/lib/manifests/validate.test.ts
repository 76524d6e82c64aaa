import { assertValidObjects, builtinKind, validateObjects, type KubeObject } from "../../../lib/manifests";
import { ValidationError } from "../../../lib/validation/issues";
import { deployment } from "../../fixtures/deployment";

function service(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "apps" },
    spec: {
      selector: { app: "web" },
      ports: [
        { port: 80, targetPort: "http" },
        { port: 8080, targetPort: 8080, protocol: "TCP" },
      ],
    },
  };
}

function secret(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "creds", namespace: "apps" },
    type: "Opaque",
    data: { password: "aHVudGVyMg==" },
  };
}

function widgetCrd(): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "widgets.example.com" },
    spec: {
      group: "example.com",
      scope: "Namespaced",
      names: { kind: "Widget", plural: "widgets", singular: "widget", listKind: "WidgetList" },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: {
                  type: "object",
                  required: ["size"],
                  properties: {
                    size: { type: "integer", minimum: 1 },
                    color: { type: "string", enum: ["red", "blue"] },
                    port: { "x-kubernetes-int-or-string": true },
                    note: { type: "string", nullable: true },
                    extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                    tags: { type: "object", additionalProperties: { type: "string" } },
                  },
                },
                status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
              },
            },
          },
        },
        {
          name: "v1alpha1",
          served: false,
          storage: false,
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        },
      ],
    },
  };
}

function widget(spec: Record<string, unknown> = { size: 3 }, apiVersion = "example.com/v1"): KubeObject {
  return { apiVersion, kind: "Widget", metadata: { name: "w1", namespace: "apps" }, spec };
}

/** A deep copy with `edit` applied, so each test breaks exactly one thing. */
function edited(obj: KubeObject, edit: (o: any) => void): KubeObject {
  const copy = structuredClone(obj) as any;
  edit(copy);
  return copy;
}

describe("validateObjects: built-in kinds", () => {
  test("a valid Deployment, Service, Secret, Namespace and CRD pass", () => {
    // GIVEN
    const objects = [
      deployment(),
      service(),
      secret(),
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } },
      widgetCrd(),
    ];
    // WHEN
    const issues = validateObjects(objects);
    // THEN
    expect(issues).toEqual([]);
  });

  test("an unknown field in a container is an error naming the field", () => {
    // GIVEN
    const d = edited(deployment(), (o) => (o.spec.template.spec.containers[0].bogus = true));
    // WHEN
    const issues = validateObjects([d]);
    // THEN
    expect(issues).toEqual([
      {
        path: "Deployment/apps/web spec.template.spec.containers[0].bogus",
        value: true,
        message: 'unknown field "bogus"',
      },
    ]);
  });

  test("an unknown top-level field and an unknown metadata field are errors", () => {
    // GIVEN
    const d = edited(deployment(), (o) => {
      o.specs = {};
      o.metadata.label = { a: "b" };
    });
    // WHEN
    const issues = validateObjects([d]);
    // THEN
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'Deployment/apps/web specs: unknown field "specs"',
      'Deployment/apps/web metadata.label: unknown field "label"',
    ]);
  });

  test("a wrong type names the expected type and the value given", () => {
    // GIVEN
    const d = edited(deployment(), (o) => (o.spec.replicas = "2"));
    // WHEN
    const issues = validateObjects([d]);
    // THEN
    expect(issues).toEqual([{ path: "Deployment/apps/web spec.replicas", value: "2", message: "must be integer" }]);
  });

  test("a missing required field is named", () => {
    // GIVEN
    const d = edited(deployment(), (o) => {
      delete o.spec.selector;
      delete o.spec.template.spec.containers[0].name;
    });
    // WHEN
    const issues = validateObjects([d]);
    // THEN
    expect(issues).toEqual([
      { path: "Deployment/apps/web spec.selector", value: undefined, message: "is required" },
      { path: "Deployment/apps/web spec.template.spec.containers[0].name", value: undefined, message: "is required" },
    ]);
  });

  test("a missing metadata.name is an error", () => {
    // GIVEN
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "apps" } } as unknown as KubeObject;
    // WHEN
    const issues = validateObjects([cm]);
    // THEN
    expect(issues).toEqual([
      { path: "objects[0] (ConfigMap) metadata.name", value: undefined, message: "is required" },
    ]);
  });

  test("an unknown kind is an error", () => {
    // GIVEN
    const obj = { apiVersion: "example.com/v1", kind: "Gadget", metadata: { name: "g" } };
    // WHEN
    const issues = validateObjects([obj]);
    // THEN
    expect(issues).toEqual([
      {
        path: "Gadget/g apiVersion",
        value: "example.com/v1",
        message: 'has no kind "Gadget" in Kubernetes v1.32 and no CustomResourceDefinition defines it',
      },
    ]);
  });

  test("a removed apiVersion of a built-in kind names the served one", () => {
    // GIVEN
    const d = edited(deployment(), (o) => (o.apiVersion = "extensions/v1beta1"));
    // WHEN
    const issues = validateObjects([d]);
    // THEN
    expect(issues).toEqual([
      {
        path: "Deployment/apps/web apiVersion",
        value: "extensions/v1beta1",
        message:
          'has no kind "Deployment" in Kubernetes v1.32 and no CustomResourceDefinition defines it; Kubernetes v1.32 serves Deployment as apps/v1',
      },
    ]);
  });

  test("int-or-string fields take an integer or a string, nothing else", () => {
    // GIVEN
    const ok = service();
    const bad = edited(service(), (o) => (o.spec.ports[0].targetPort = true));
    // WHEN / THEN
    expect(validateObjects([ok])).toEqual([]);
    expect(validateObjects([bad])).toEqual([
      { path: "Service/apps/web spec.ports[0].targetPort", value: true, message: "must be integer or string" },
    ]);
  });

  test("quantities take strings and numbers in Kubernetes notation", () => {
    // GIVEN
    const bad = edited(deployment(), (o) => (o.spec.template.spec.containers[0].resources.limits.memory = "128 MB"));
    // WHEN
    const issues = validateObjects([bad]);
    // THEN
    expect(issues).toEqual([
      {
        path: "Deployment/apps/web spec.template.spec.containers[0].resources.limits.memory",
        value: "128 MB",
        message: 'must be a quantity such as "500m", "128Mi", "1.5" or 2',
      },
    ]);
  });

  test("Secret data must be base64", () => {
    // GIVEN
    const bad = edited(secret(), (o) => (o.data.password = "hunter2!"));
    // WHEN
    const issues = validateObjects([bad]);
    // THEN
    expect(issues).toEqual([
      { path: "Secret/apps/creds data.password", value: "hunter2!", message: "must be base64-encoded" },
    ]);
  });

  test("map keys that are not identifiers are quoted in the path", () => {
    // GIVEN
    const bad = edited(deployment(), (o) => (o.metadata.labels["app.kubernetes.io/name"] = 1));
    // WHEN
    const issues = validateObjects([bad]);
    // THEN
    expect(issues).toEqual([
      { path: 'Deployment/apps/web metadata.labels["app.kubernetes.io/name"]', value: 1, message: "must be string" },
    ]);
  });

  test("null fields count as absent, as the API server reads them", () => {
    // GIVEN
    const d = edited(deployment(), (o) => {
      o.metadata.creationTimestamp = null;
      o.status = null;
    });
    // WHEN / THEN
    expect(validateObjects([d])).toEqual([]);
  });

  test("the same kind, namespace and name twice is an error", () => {
    // GIVEN / WHEN
    const issues = validateObjects([service(), secret(), service()]);
    // THEN
    expect(issues).toEqual([
      {
        path: "Service/apps/web",
        value: undefined,
        message: "is defined twice (objects[0] and objects[2]); kind, namespace and name must be unique",
      },
    ]);
  });

  test("assertValidObjects throws one ValidationError with every issue", () => {
    // GIVEN
    const a = edited(deployment("a"), (o) => (o.spec.template.spec.containers[0].imagePullPolice = "Always"));
    const b = edited(deployment("b"), (o) => (o.spec.replicas = -1.5));
    // WHEN
    const thrown = (() => {
      try {
        assertValidObjects([a, b]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    // THEN
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as Error).message).toBe(
      [
        "invalid Kubernetes objects: 2 problems",
        '  - Deployment/apps/a spec.template.spec.containers[0].imagePullPolice "Always" unknown field "imagePullPolice"',
        "  - Deployment/apps/b spec.replicas -1.5 must be integer",
      ].join("\n"),
    );
  });

  test("GIVEN 2,000 Deployments WHEN validated in one call THEN none is reported (its speed: npm run bench:validate)", () => {
    const objects = Array.from({ length: 2000 }, (_, i) => deployment(`web-${i}`));
    expect(validateObjects(objects)).toEqual([]);
  });
});

describe("validateObjects: custom resources", () => {
  test("a custom object valid against its CRD passes, whether the CRD is among the objects or given", () => {
    // GIVEN
    const w = widget({
      size: 3,
      color: "red",
      port: "http",
      note: null,
      extra: { anything: [1, { deep: true }] },
      tags: { a: "b" },
    });
    // WHEN / THEN
    expect(validateObjects([widgetCrd(), w])).toEqual([]);
    expect(validateObjects([w], { crds: [widgetCrd()] })).toEqual([]);
  });

  test("an unknown field in a custom object is an error; preserve-unknown-fields subtrees take anything", () => {
    // GIVEN
    const w = widget({ size: 3, colour: "red", extra: { colour: "red" } });
    // WHEN
    const issues = validateObjects([w], { crds: [widgetCrd()] });
    // THEN
    expect(issues).toEqual([{ path: "Widget/apps/w1 spec.colour", value: "red", message: 'unknown field "colour"' }]);
  });

  test("a custom object's types, enums, minimums and required fields are checked", () => {
    // GIVEN
    const w = widget({ size: 0, color: "green", port: 1.5, tags: { a: 1 } });
    const missing = widget({ color: "red" });
    // WHEN
    const issues = validateObjects([w], { crds: [widgetCrd()] });
    // THEN
    expect(issues).toEqual([
      { path: "Widget/apps/w1 spec.size", value: 0, message: "must be >= 1" },
      { path: "Widget/apps/w1 spec.color", value: "green", message: 'is not allowed; allowed: "red", "blue"' },
      { path: "Widget/apps/w1 spec.port", value: 1.5, message: "must be integer or string" },
      { path: "Widget/apps/w1 spec.tags.a", value: 1, message: "must be string" },
    ]);
    expect(validateObjects([missing], { crds: [widgetCrd()] })).toEqual([
      { path: "Widget/apps/w1 spec.size", value: undefined, message: "is required" },
    ]);
  });

  test("a custom object's metadata is checked as ObjectMeta", () => {
    // GIVEN
    const w = edited(widget(), (o) => (o.metadata.labelz = {}));
    // WHEN / THEN
    expect(validateObjects([w], { crds: [widgetCrd()] })).toEqual([
      { path: "Widget/apps/w1 metadata.labelz", value: {}, message: 'unknown field "labelz"' },
    ]);
  });

  test("a version the CRD does not serve is rejected", () => {
    // GIVEN
    const w = widget({ anything: 1 }, "example.com/v1alpha1");
    // WHEN
    const issues = validateObjects([w], { crds: [widgetCrd()] });
    // THEN
    expect(issues).toEqual([
      {
        path: "Widget/apps/w1 apiVersion",
        value: "example.com/v1alpha1",
        message: "is not served by CustomResourceDefinition widgets.example.com; served: v1",
      },
    ]);
  });

  test("a version the CRD does not define is rejected", () => {
    // GIVEN
    const w = widget({ size: 1 }, "example.com/v2");
    // WHEN
    const issues = validateObjects([w], { crds: [widgetCrd()] });
    // THEN
    expect(issues).toEqual([
      {
        path: "Widget/apps/w1 apiVersion",
        value: "example.com/v2",
        message: "is not a version of CustomResourceDefinition widgets.example.com; it has v1, v1alpha1",
      },
    ]);
  });

  test("a CRD is itself checked strictly against apiextensions.k8s.io/v1", () => {
    // GIVEN
    const crd = edited(
      widgetCrd(),
      (o) => (o.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.size.minimun = 1),
    );
    // WHEN
    const issues = validateObjects([crd]);
    // THEN
    expect(issues).toEqual([
      {
        path: "CustomResourceDefinition/widgets.example.com spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.size.minimun",
        value: 1,
        message: 'unknown field "minimun"',
      },
    ]);
  });

  test("anyOf branches restate fields without making them unknown; embedded resources keep apiVersion, kind and metadata", () => {
    // GIVEN
    const crd = edited(widgetCrd(), (o) => {
      const spec = o.spec.versions[0].schema.openAPIV3Schema.properties.spec;
      spec.anyOf = [{ required: ["color"] }, { properties: { port: { type: "integer" } }, required: ["port"] }];
      spec.properties.template = {
        type: "object",
        "x-kubernetes-embedded-resource": true,
        properties: { spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      };
    });
    const ok = widget({
      size: 1,
      port: 80,
      template: { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { any: 1 } },
    });
    const neither = widget({ size: 1, template: { apiVersion: "v1", kind: "Pod", metadata: { nam: "p" } } });
    // WHEN / THEN
    expect(validateObjects([ok], { crds: [crd] })).toEqual([]);
    expect(validateObjects([neither], { crds: [crd] }).map((i) => `${i.path}: ${i.message}`)).toEqual([
      "Widget/apps/w1 spec: must match one of: (color is required) or (port is required)",
      'Widget/apps/w1 spec.template.metadata.nam: unknown field "nam"',
    ]);
  });

  test("a CRD schema that does not compile is reported on its objects", () => {
    // GIVEN
    const crd = edited(
      widgetCrd(),
      (o) => (o.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.color.pattern = "(["),
    );
    // WHEN
    const issues = validateObjects([widget({ size: 1, color: "red" })], { crds: [crd] });
    // THEN
    expect(issues).toEqual([
      {
        path: "Widget/apps/w1 apiVersion",
        value: "example.com/v1",
        message: expect.stringMatching(
          /^cannot be checked: the schema of CustomResourceDefinition widgets.example.com version v1 does not compile \(.*\)$/,
        ),
      },
    ]);
  });
});

describe("builtinKind", () => {
  test("names the definition and scope of built-in kinds only", () => {
    expect(builtinKind("apps/v1", "Deployment")).toEqual({
      definition: "io.k8s.api.apps.v1.Deployment",
      scope: "Namespaced",
    });
    expect(builtinKind("rbac.authorization.k8s.io/v1", "ClusterRole")).toEqual({
      definition: "io.k8s.api.rbac.v1.ClusterRole",
      scope: "Cluster",
    });
    expect(builtinKind("example.com/v1", "Widget")).toBeUndefined();
  });
});
