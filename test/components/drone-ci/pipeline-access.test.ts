import {
  DEPLOY_RULES,
  DroneCiChart,
  dockerAuth,
  PIPELINE_DEPLOYER,
  pipelineSecretNames,
} from "../../../components/drone-ci";
import { chartObjects, newApp, validateObjects } from "../../../lib/manifests";
import { droneProblems, droneProps, GOGS_IN_CLUSTER } from "./props";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ+v/9==\n-----END CERTIFICATE-----\n";
// a password holding both characters drone-runner-docker's DRONE_RUNNER_SECRETS parsing splits on
const PASSWORD = "p4ss:w,rd";
const registry = { endpoint: "192.168.10.21:32500", username: "ci", password: PASSWORD, caPem: CA };

function objects(pipelines: { deployNamespaces: string[] }, withRegistry = true) {
  const props = {
    ...droneProps({ ...GOGS_IN_CLUSTER, pipelines }),
    ...(withRegistry ? { pipelineRegistry: registry } : {}),
  };
  return { props, objs: chartObjects(new DroneCiChart(newApp(), "drone", props)) as any[] };
}
const find = (objs: any[], kind: string, name: string, namespace?: string) =>
  objs.find(
    (o) =>
      o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace),
  );

/**
 * envconfig v1.4.0's map parsing (kelseyhightower/envconfig envconfig.go, `case reflect.Map`): split on every ","
 * then each pair on every ":", exactly two parts or an error.
 */
function envconfigMap(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of value.split(",")) {
    const kv = pair.split(":");
    if (kv.length !== 2) throw new Error(`invalid map item: ${JSON.stringify(pair)}`);
    out[kv[0]!] = kv[1]!;
  }
  return out;
}

/** What the kubelet does to `$(VAR)` references in an env value (earlier entries of the same container). */
function expand(env: any[], sources: Record<string, string>): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const e of env) {
    if (e.value !== undefined)
      vars[e.name] = String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, n) => vars[n] ?? `$(${n})`);
    else {
      const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef ?? e.valueFrom.fieldRef;
      vars[e.name] = sources[`${ref.name ?? "field"}/${ref.key ?? ref.fieldPath}`] ?? `<unresolved ${e.name}>`;
    }
  }
  return vars;
}

describe("pipeline access: what Drone's pipelines get from the library", () => {
  test("GIVEN the registry's CI user and a deploy namespace WHEN the runner starts THEN DRONE_RUNNER_SECRETS parses (as drone-runner-docker parses it) to exactly the user, its auth, the CA, the token and the cluster CA", () => {
    const { objs, props } = objects({ deployNamespaces: ["apps"] });
    const runner = find(objs, "Deployment", "drone-runner").spec.template.spec.containers.find(
      (c: any) => c.name === "runner",
    );
    const secret = find(objs, "Secret", "drone-pipeline-credentials", "drone-runner");
    const ca = find(objs, "ConfigMap", "drone-pipeline-registry-ca", "drone-runner");
    const clusterCa =
      "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIBADAKBggqhkjOPQQDAjAjMSEwHwYDVQQDDBhrM3Mt\n-----END CERTIFICATE-----";
    const vars = expand(runner.env, {
      "field/metadata.name": "drone-runner-abc",
      "drone-pipeline-credentials/username": secret.stringData.username,
      "drone-pipeline-credentials/auth": secret.stringData.auth,
      "drone-pipeline-registry-ca/ca.b64": ca.data["ca.b64"],
      [`${PIPELINE_DEPLOYER}-token/token`]: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln",
      [`${PIPELINE_DEPLOYER}-token/ca.crt`]: clusterCa,
    });
    const secrets = envconfigMap(vars.DRONE_RUNNER_SECRETS!);
    expect(secrets).toEqual({
      registry_username: "ci",
      registry_auth: dockerAuth("ci", PASSWORD),
      registry_ca: Buffer.from(CA).toString("base64"),
      kube_token: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln",
      kube_ca: clusterCa,
    });
    expect(Buffer.from(secrets.registry_auth!, "base64").toString()).toBe(`ci:${PASSWORD}`);
    expect(Buffer.from(secrets.registry_ca!, "base64").toString()).toBe(CA);
    // and the names the library announces are exactly those
    expect(Object.keys(secrets).sort()).toEqual([...pipelineSecretNames(props)].sort());
  });

  test("GIVEN pipeline access THEN no secret value is in the runner's pod spec or in any ConfigMap, only in Secrets", () => {
    const { objs } = objects({ deployNamespaces: ["apps"] });
    const auth = dockerAuth("ci", PASSWORD);
    for (const o of objs.filter((x) => x.kind !== "Secret")) {
      const text = JSON.stringify(o);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(auth);
    }
    expect(find(objs, "Secret", "drone-pipeline-credentials").stringData).toEqual({ username: "ci", auth });
  });

  test("GIVEN a registry with TLS THEN the runner's dockerd trusts its CA at /etc/docker/certs.d/<host:port>/ca.crt", () => {
    const { objs } = objects({ deployNamespaces: [] });
    const pod = find(objs, "Deployment", "drone-runner").spec.template.spec;
    const dind = pod.containers.find((c: any) => c.name === "dind");
    const mount = dind.volumeMounts.find((m: any) => m.name === "registry-ca");
    expect(mount).toEqual({
      name: "registry-ca",
      mountPath: "/etc/docker/certs.d/192.168.10.21:32500",
      readOnly: true,
    });
    expect(pod.volumes.find((v: any) => v.name === "registry-ca").configMap).toEqual({
      name: "drone-pipeline-registry-ca",
      items: [{ key: "ca.crt", path: "ca.crt" }],
    });
    expect(find(objs, "ConfigMap", "drone-pipeline-registry-ca").data["ca.crt"]).toBe(CA);
  });

  test("GIVEN deploy namespaces THEN each is created (baseline) with a Role allowing exactly the deploy step's verbs, bound to the deployer ServiceAccount, whose long-lived token Secret the token controller fills", () => {
    const { objs } = objects({ deployNamespaces: ["apps", "edge-apps"] });
    for (const ns of ["apps", "edge-apps"]) {
      expect(find(objs, "Namespace", ns).metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("baseline");
      expect(find(objs, "Role", PIPELINE_DEPLOYER, ns).rules).toEqual(DEPLOY_RULES);
      expect(find(objs, "RoleBinding", PIPELINE_DEPLOYER, ns)).toMatchObject({
        roleRef: { kind: "Role", name: PIPELINE_DEPLOYER },
        subjects: [{ kind: "ServiceAccount", name: PIPELINE_DEPLOYER, namespace: "drone-runner" }],
      });
    }
    expect(objs.filter((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding")).toEqual([]);
    expect(find(objs, "Secret", `${PIPELINE_DEPLOYER}-token`, "drone-runner")).toMatchObject({
      type: "kubernetes.io/service-account-token",
      metadata: { annotations: { "kubernetes.io/service-account.name": PIPELINE_DEPLOYER } },
    });
    expect(validateObjects(objs)).toEqual([]);
  });

  test("GIVEN no registry CI user and no deploy namespace THEN nothing of this is rendered and the runner env is unchanged", () => {
    const { objs } = objects({ deployNamespaces: [] }, false);
    const runner = find(objs, "Deployment", "drone-runner").spec.template.spec.containers.find(
      (c: any) => c.name === "runner",
    );
    expect(runner.env.map((e: any) => e.name)).toEqual(["DRONE_RUNNER_NAME"]);
    expect(objs.filter((o) => /pipeline|deployer/.test(o.metadata.name))).toEqual([]);
  });

  test.each([
    [
      { deployNamespaces: ["drone"] },
      "drone.pipelines.deployNamespaces[0] \"drone\" is one of Drone's own namespaces; pipelines deploy into namespaces of their own (never next to Drone's Secrets)",
    ],
    [
      { deployNamespaces: ["kube-system"] },
      'drone.pipelines.deployNamespaces[0] "kube-system" is a Kubernetes system namespace; name an application namespace the library creates',
    ],
    [
      { deployNamespaces: ["apps", "apps"] },
      'drone.pipelines.deployNamespaces[1] "apps" is listed twice (deployNamespaces[0])',
    ],
  ])("GIVEN pipelines %j THEN validation refuses it naming the field", (pipelines, message) => {
    expect(droneProblems({ ...GOGS_IN_CLUSTER, pipelines })).toEqual([message]);
  });

  test("GIVEN deploy namespaces with the kube runner THEN refused: credentials reach builds through the docker runner's static secrets", () => {
    expect(
      droneProblems({ ...GOGS_IN_CLUSTER, runner: { kind: "kube" }, pipelines: { deployNamespaces: ["apps"] } }),
    ).toEqual([
      'drone.pipelines.deployNamespaces ["apps"] needs runner.kind "docker": pipeline credentials reach builds through drone-runner-docker\'s static secrets',
    ]);
  });
});
