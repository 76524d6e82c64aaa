import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { droneLabels } from "./labels";
import { DroneCiProps, PipelineRegistry } from "./spec";

/**
 * What pipelines get from the library, with no credential or CA handled by hand: the registry's CI user and CA
 * (to push), and a ServiceAccount token allowed to roll out workloads in the deploy namespaces (to deploy).
 *
 * How the values reach a pipeline: drone-runner-docker serves "static" secrets from `DRONE_RUNNER_SECRETS`
 * (drone-runners/drone-runner-docker v1.8.4 command/daemon/config.go: `Secrets map[string]string
 * envconfig:"DRONE_RUNNER_SECRETS"`; command/daemon/daemon.go: `secret.StaticVars(config.Runner.Secrets)` ahead of
 * the external secret plugin). Static secrets are withheld from pull-request builds (drone/runner-go v1.12.0
 * secret/static.go: a secret with `PullRequest == false` is skipped for `drone.EventPullRequest`), so a fork's pull
 * request cannot read them. Chosen over Drone's secrets API (it needs a user token first, and the bootstrap machine
 * user's token is logged at info level by harness/drone v2.20.0 cmd/drone-server/bootstrap/bootstrap.go) and over
 * the drone/kubernetes-secrets extension (no release tags, only `latest`; Drone Non-Commercial License).
 *
 * The map is parsed by kelseyhightower/envconfig v1.4.0 (envconfig.go, `case reflect.Map`): pairs split on every
 * `,` and each pair on every `:`, so no value may contain either: the password travels as Docker's `auth` field
 * (base64 of `user:password`, what a registry client's config.json holds) and the CA as base64, and the rest
 * (a user name of [A-Za-z0-9._-], a JWT) cannot hold either character. The value is composed by the kubelet from the
 * container's earlier env entries (Kubernetes `$(VAR)` expansion), so the Secret values never appear in the pod
 * spec and the ServiceAccount token needs no read-back: the token controller fills it before the runner starts.
 */

/** Names of the secrets a pipeline asks for (`from_secret:`). */
export const PIPELINE_SECRETS = {
  registryUsername: "registry_username",
  /** base64 of `user:password`: the `auth` field of a Docker/OCI client's config.json. */
  registryAuth: "registry_auth",
  /** base64 of the registry CA's PEM, when the registry serves TLS. */
  registryCa: "registry_ca",
  /** A ServiceAccount token allowed to roll out workloads in `pipelines.deployNamespaces`. */
  kubeToken: "kube_token",
  /** The cluster's CA (PEM), from the same token Secret: what the API server's certificate chains to. */
  kubeCa: "kube_ca",
} as const;

/** The secret names pipelines of this Drone can ask for. */
export function pipelineSecretNames(props: DroneCiProps): string[] {
  const reg = props.pipelineRegistry;
  return [
    ...(reg ? [PIPELINE_SECRETS.registryUsername, PIPELINE_SECRETS.registryAuth] : []),
    ...(reg?.caPem !== undefined ? [PIPELINE_SECRETS.registryCa] : []),
    ...(props.spec.pipelines.deployNamespaces.length > 0 ? [PIPELINE_SECRETS.kubeToken, PIPELINE_SECRETS.kubeCa] : []),
  ];
}

/** The ServiceAccount pipelines deploy as (in the runner's namespace). */
export const PIPELINE_DEPLOYER = "edgecloud-ci-deployer";
const CREDENTIALS = "drone-pipeline-credentials";
const CA_CONFIGMAP = "drone-pipeline-registry-ca";

/**
 * What a pipeline's deploy step does: `kubectl apply` (client-side: get, then create or patch) of Deployments,
 * DaemonSets and Services, and `kubectl rollout status` (get, list, watch) of the Deployments and DaemonSets.
 * The Role allows exactly that, in each deploy namespace, and nothing else (no Secrets, no pods/exec).
 */
export const DEPLOY_RULES: readonly { apiGroups: string[]; resources: string[]; verbs: string[] }[] = [
  { apiGroups: ["apps"], resources: ["deployments", "daemonsets"], verbs: ["get", "list", "watch", "create", "patch"] },
  { apiGroups: [""], resources: ["services"], verbs: ["get", "create", "patch"] },
];

/** Docker's config.json `auth` field: base64 of `user:password`. */
export function dockerAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, "utf8").toString("base64");
}

/** The directory dockerd reads a registry's CA from (`/etc/docker/certs.d/<host:port>/ca.crt`). */
export function dockerCertsDir(endpoint: string): string {
  return `/etc/docker/certs.d/${endpoint}`;
}

/**
 * The runner container's extra env: each credential from its Secret (or the CA from its ConfigMap) under a private
 * name, then `DRONE_RUNNER_SECRETS` composed from them by `$(VAR)` expansion.
 */
export function pipelineRunnerEnv(props: DroneCiProps): k8s.EnvVar[] {
  const reg = props.pipelineRegistry;
  const deploy = props.spec.pipelines.deployNamespaces.length > 0;
  if (!reg && !deploy) return [];
  const fromSecret = (env: string, name: string, key: string): k8s.EnvVar => ({
    name: env,
    valueFrom: { secretKeyRef: { name, key } },
  });
  const env: k8s.EnvVar[] = [];
  const pairs: string[] = [];
  if (reg) {
    env.push(fromSecret("EDGECLOUD_REGISTRY_USERNAME", CREDENTIALS, "username"));
    env.push(fromSecret("EDGECLOUD_REGISTRY_AUTH", CREDENTIALS, "auth"));
    pairs.push(`${PIPELINE_SECRETS.registryUsername}:$(EDGECLOUD_REGISTRY_USERNAME)`);
    pairs.push(`${PIPELINE_SECRETS.registryAuth}:$(EDGECLOUD_REGISTRY_AUTH)`);
    if (reg.caPem !== undefined) {
      env.push({
        name: "EDGECLOUD_REGISTRY_CA",
        valueFrom: { configMapKeyRef: { name: CA_CONFIGMAP, key: "ca.b64" } },
      });
      pairs.push(`${PIPELINE_SECRETS.registryCa}:$(EDGECLOUD_REGISTRY_CA)`);
    }
  }
  if (deploy) {
    // the token controller fills token, ca.crt and namespace (a PEM holds neither ',' nor ':')
    env.push(fromSecret("EDGECLOUD_KUBE_TOKEN", `${PIPELINE_DEPLOYER}-token`, "token"));
    env.push(fromSecret("EDGECLOUD_KUBE_CA", `${PIPELINE_DEPLOYER}-token`, "ca.crt"));
    pairs.push(`${PIPELINE_SECRETS.kubeToken}:$(EDGECLOUD_KUBE_TOKEN)`);
    pairs.push(`${PIPELINE_SECRETS.kubeCa}:$(EDGECLOUD_KUBE_CA)`);
  }
  env.push({ name: "DRONE_RUNNER_SECRETS", value: pairs.join(",") });
  return env;
}

/** The dind container's mount of the registry CA, so the runner's daemon pulls step images from the registry. */
export function dindRegistryCaMount(props: DroneCiProps): { volume?: k8s.Volume; mount?: k8s.VolumeMount } {
  const reg = props.pipelineRegistry;
  if (!reg || reg.caPem === undefined) return {};
  return {
    volume: { name: "registry-ca", configMap: { name: CA_CONFIGMAP, items: [{ key: "ca.crt", path: "ca.crt" }] } },
    mount: { name: "registry-ca", mountPath: dockerCertsDir(reg.endpoint), readOnly: true },
  };
}

/**
 * The objects behind `pipelineRunnerEnv`: the CI user's credentials (a Secret), the registry CA (a ConfigMap: a CA
 * certificate is public), and the deployer ServiceAccount with its token Secret and one Role + RoleBinding per
 * deploy namespace.
 */
export class PipelineAccess extends Construct {
  constructor(scope: Construct, id: string, props: DroneCiProps) {
    super(scope, id);
    const ns = props.spec.runner.namespace;
    const labels = droneLabels("pipelines");
    const reg: PipelineRegistry | undefined = props.pipelineRegistry;
    if (reg) {
      new k8s.KubeSecret(this, "credentials", {
        metadata: { name: CREDENTIALS, namespace: ns, labels },
        type: "Opaque",
        stringData: { username: reg.username, auth: dockerAuth(reg.username, reg.password) },
      });
      if (reg.caPem !== undefined)
        new k8s.KubeConfigMap(this, "registry-ca", {
          metadata: { name: CA_CONFIGMAP, namespace: ns, labels },
          data: { "ca.crt": reg.caPem, "ca.b64": Buffer.from(reg.caPem, "utf8").toString("base64") },
        });
    }
    const targets = props.spec.pipelines.deployNamespaces;
    if (targets.length === 0) return;
    new k8s.KubeServiceAccount(this, "deployer", {
      metadata: { name: PIPELINE_DEPLOYER, namespace: ns, labels },
      automountServiceAccountToken: false,
    });
    // a long-lived token the token controller fills (Kubernetes "Manually create a long-lived API token for a
    // ServiceAccount": type kubernetes.io/service-account-token + the service-account.name annotation)
    new k8s.KubeSecret(this, "deployer-token", {
      metadata: {
        name: `${PIPELINE_DEPLOYER}-token`,
        namespace: ns,
        labels,
        annotations: { "kubernetes.io/service-account.name": PIPELINE_DEPLOYER },
      },
      type: "kubernetes.io/service-account-token",
    });
    for (const target of targets) {
      new k8s.KubeRole(this, `deploy-${target}`, {
        metadata: { name: PIPELINE_DEPLOYER, namespace: target, labels },
        rules: DEPLOY_RULES.map((r) => ({
          apiGroups: [...r.apiGroups],
          resources: [...r.resources],
          verbs: [...r.verbs],
        })),
      });
      new k8s.KubeRoleBinding(this, `deploy-${target}-binding`, {
        metadata: { name: PIPELINE_DEPLOYER, namespace: target, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: PIPELINE_DEPLOYER },
        subjects: [{ kind: "ServiceAccount", name: PIPELINE_DEPLOYER, namespace: ns }],
      });
    }
  }
}
