import { readdirSync, readFileSync } from "fs";
import { join, resolve } from "path";
import { parseAllDocuments } from "yaml";
import { DEPLOY_RULES } from "../../components/drone-ci";
import { EDGE_NODE_LABEL } from "../../lib/k3s/node-roles";
import { validateObjects, type KubeObject } from "../../lib/manifests";
import { loadEnvironment, environmentFile } from "../../stacks/environment";
import { synthSecretResolver } from "../../stacks/secret-refs";
import { synthesize } from "../../stacks/synth";

const app = resolve(__dirname, "../../examples/ci-pipeline/app");
const pipeline = parseAllDocuments(readFileSync(join(app, ".drone.yml"), "utf8")).map((d) => d.toJS()) as any[];
const manifests = (image: string): any[] =>
  readdirSync(join(app, "deploy"))
    .filter((f) => f.endsWith(".yaml"))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(app, "deploy", f), "utf8").replaceAll("@IMAGE@", image)).map((d) => d.toJS()),
    );

describe("examples/ci-pipeline: the application repository's pipeline", () => {
  const env = loadEnvironment(environmentFile("default"), { secrets: synthSecretResolver("placeholder") });
  let out: Awaited<ReturnType<typeof synthesize>>;
  beforeAll(async () => {
    out = await synthesize(env, { material: "placeholder" });
  });
  const steps = pipeline[0].steps as any[];

  test("GIVEN .drone.yml THEN it is one docker pipeline in Drone's format: kind, type, platform, unique step names, every image pinned to a tag", () => {
    expect(pipeline).toHaveLength(1);
    expect(pipeline[0]).toMatchObject({ kind: "pipeline", type: "docker", platform: { os: "linux", arch: "amd64" } });
    const names = steps.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const s of steps) {
      expect(typeof s.image).toBe("string");
      expect(s.image).toMatch(/^[a-z0-9./-]+(:[0-9]+)?\/[a-z0-9./-]+:v?[0-9][\w.-]*$/);
      expect(Array.isArray(s.commands)).toBe(true);
      expect(s.privileged).toBeUndefined(); // untrusted repositories cannot enable it (drone-yaml linter)
    }
  });

  test("GIVEN every secret the pipeline asks for THEN it is one the default environment's Drone serves, and no credential is written in the file", () => {
    const asked = steps.flatMap((s) =>
      Object.values(s.environment ?? {}).flatMap((v: any) => (v && typeof v === "object" ? [v.from_secret] : [])),
    );
    expect(asked.length).toBeGreaterThan(0);
    const droneObjects = out.manifests["drone-ci"] as any[];
    const runner = droneObjects
      .find((o) => o.kind === "Deployment" && o.metadata.name === "drone-runner")
      .spec.template.spec.containers.find((c: any) => c.name === "runner");
    const composed = runner.env.find((e: any) => e.name === "DRONE_RUNNER_SECRETS").value as string;
    const offered = composed.split(",").map((p) => p.split(":")[0]);
    for (const name of asked) expect(offered).toContain(name);
    for (const s of steps)
      for (const [k, v] of Object.entries(s.environment ?? {}))
        if (typeof v === "string") expect(k).toMatch(/^(REGISTRY|APP_NAMESPACE)$/);
  });

  test("GIVEN the pipeline's REGISTRY and APP_NAMESPACE THEN they are the default environment's registry endpoint and one of its deploy namespaces", () => {
    for (const s of steps) {
      if (s.environment?.REGISTRY !== undefined) expect(s.environment.REGISTRY).toBe(env.registry!.endpoint);
      if (s.environment?.APP_NAMESPACE !== undefined)
        expect(env.drone!.spec.pipelines.deployNamespaces).toContain(s.environment.APP_NAMESPACE);
    }
  });

  test("GIVEN the deploy manifests with the pushed image THEN they validate strictly, the Deployment stays off edge nodes and the DaemonSet runs only on them", () => {
    const objs = manifests(`${env.registry!.endpoint}/hello:0123456789ab`);
    expect(
      validateObjects(objs.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: "apps" } })) as KubeObject[]),
    ).toEqual([]);
    const deployment = objs.find((o) => o.kind === "Deployment").spec.template.spec;
    expect(deployment.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: EDGE_NODE_LABEL, operator: "DoesNotExist" }] },
    ]);
    const daemonSet = objs.find((o) => o.kind === "DaemonSet").spec.template.spec;
    expect(daemonSet.nodeSelector).toEqual({ [EDGE_NODE_LABEL]: "" });
    expect(daemonSet.tolerations).toEqual([{ key: EDGE_NODE_LABEL, operator: "Exists", effect: "NoSchedule" }]);
    expect(daemonSet.hostNetwork).toBeUndefined();
    for (const o of objs.filter((x) => x.kind !== "Service"))
      expect(o.spec.template.spec.containers[0].image).toBe(`${env.registry!.endpoint}/hello:0123456789ab`);
  });

  test("GIVEN the deploy step's `sed … deploy/*.yaml | kubectl apply -f -` THEN the files, joined in glob order, are the same objects as each file alone", () => {
    // found in the lab (nodes.lab.test.ts, issue 19): a file that does not start with `---` continues the previous
    // file's last document, and kubectl's decoder then folds the DaemonSet into the Service
    const deploy = steps.find((s) => s.name === "deploy");
    expect((deploy.commands as string[]).some((c) => /deploy\/\*\.yaml \| kubectl apply -f -/.test(c))).toBe(true);
    const files = readdirSync(join(app, "deploy"))
      .filter((f) => f.endsWith(".yaml"))
      .sort();
    const joined = files.map((f) => readFileSync(join(app, "deploy", f), "utf8")).join("");
    const docs = parseAllDocuments(joined.replaceAll("@IMAGE@", "x/y:z"));
    expect(docs.flatMap((d) => d.errors.map((e) => e.message))).toEqual([]);
    expect(docs.map((d) => d.toJS()).filter((o) => o !== null)).toEqual(manifests("x/y:z"));
  });

  test("GIVEN the deploy step THEN the deployer Role allows exactly what it does: kubectl apply of the manifests' kinds and rollout status of the workloads", () => {
    const deploy = steps.find((s) => s.name === "deploy");
    const commands = (deploy.commands as string[]).join("\n");
    const kinds = new Set(manifests("x/y:z").map((o) => o.kind));
    const resource: Record<string, [string, string]> = {
      Deployment: ["apps", "deployments"],
      DaemonSet: ["apps", "daemonsets"],
      Service: ["", "services"],
    };
    const needed = new Set<string>();
    // kubectl apply (client-side): get, then create or patch — of every kind in deploy/
    if (/kubectl apply -f -/.test(commands))
      for (const k of kinds)
        for (const v of ["get", "create", "patch"]) needed.add(`${resource[k]![0]}/${resource[k]![1]}/${v}`);
    // kubectl rollout status: get, list, watch of the workload
    for (const m of commands.matchAll(/kubectl rollout status (deployment|daemonset)\//g))
      for (const v of ["get", "list", "watch"]) needed.add(`apps/${m[1]}s/${v}`);
    const allowed = new Set(
      DEPLOY_RULES.flatMap((r) =>
        r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}/${v}`))),
      ),
    );
    expect([...allowed].sort()).toEqual([...needed].sort());
  });

  test("GIVEN the default environment WHEN synthesized THEN its summary names the image prefix and the secrets pipelines use", () => {
    expect(out.notes.find((n) => n.startsWith("pipelines push to"))).toBe(
      `pipelines push to ${env.registry!.endpoint}/<repository>:<tag> as "ci"; their secrets: registry_username, registry_auth, registry_ca, kube_token, kube_ca (docs/ci-pipeline.md)`,
    );
  });
});
