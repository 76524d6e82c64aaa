import * as k8s from "@pulumi/kubernetes";
import { ProvisioningLimits, provisioningLimits } from "../../lib/steps/provisioning";
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../../lib/hosts/host";
import { K3sRegistries } from "../../lib/k3s/registries";
import { assertValidObjects, chartObjects, newApp } from "../../lib/manifests";
import { Certificate, CertificateAuthority } from "../../lib/pulumi/certificates";
import { HostStepExecutor, hostStepCommands, StepResource } from "../../lib/pulumi/host-step-commands";
import { clusterProvider } from "../../lib/pulumi/manifests";
import { RandomSecret } from "../../lib/pulumi/random-secret";
import { REGISTRY_HTTP_SECRET_BYTES } from "./material";
import { IssueCollector } from "../../lib/validation/issues";
import { registryCertRequests } from "./cert-requests";
import { RegistryChart } from "./chart";
import { registryHostSteps } from "./host-steps";
import { registryK3sRegistries } from "./k3s-registries";
import { RegistryCiAccess, registryCiAccess } from "./ci-user";
import { RegistryPlan, RegistryProps, RegistrySpecInput, RegistryTlsMaterial, validateRegistry } from "./spec";

export interface RegistryArgs {
  /** The registry: mode, auth, TLS, proxy, GC. Passwords and keys may be Pulumi secrets. */
  readonly spec: RegistrySpecInput;
  /** The environment's hosts: host mode's target, and the K3s nodes whose addresses the certificate covers. */
  readonly hosts: readonly Host[];
  /** Kubeconfig of the cluster (a secret). Required in in-cluster mode. */
  readonly kubeconfig?: pulumi.Input<string>;
  /** Resources to wait for, e.g. the NfsProvisioner that makes the default StorageClass. @default [] */
  readonly dependsOn?: readonly pulumi.Resource[];
  /**
   * What runs the host steps: `"command"` (Pulumi's command provider, needs the `pulumi-resource-command` plugin)
   * or `"in-process"` (`HostStepRun`: SSH from the program itself, no plugin). See K3sHaClusterArgs.executor.
   * @default "command"
   */
  readonly executor?: HostStepExecutor;
  /**
   * How many host steps run at once: over every host, per host, hosts at once (validated; see
   * docs/provisioning.md). The in-process executor enforces it; the command executor is bounded by
   * `pulumi up --parallel N` alone.
   * @default - 32 steps at once, 4 per host
   */
  readonly provisioning?: ProvisioningLimits;
}

/**
 * A container registry: the distribution registry in the cluster, or Debian's docker-registry as a systemd service
 * on a host; htpasswd auth, TLS (generated once or provided), a stable HTTP secret and garbage collection.
 * `k3sRegistries` is what every K3s node needs to pull from it — hand it to K3sHaCluster's `registries`.
 */
export class Registry extends pulumi.ComponentResource {
  static readonly TYPE = "edgecloud:services:Registry";
  /** `host:port` the nodes pull from (the K3s mirror name). */
  readonly endpoint: string;
  /** registries.yaml content for every node: mirror, node credentials, CA (secret: it holds a password). */
  readonly k3sRegistries: pulumi.Output<K3sRegistries>;
  /** The CA clients must trust. @default - undefined when TLS is off */
  readonly caPem?: pulumi.Output<string>;
  /**
   * What CI pipelines push with (`auth.ciUser`): endpoint, user, password, CA — a secret; hand it to DroneCi's
   * `pipelineRegistry`. @default - undefined without `auth.ciUser`
   */
  readonly ciAccess?: pulumi.Output<RegistryCiAccess>;
  /** Host mode: one resource per host step, by step id. @default - empty in in-cluster mode */
  readonly steps: ReadonlyMap<string, StepResource>;
  /** In-cluster mode: the applied objects. @default - undefined in host mode */
  readonly objects?: k8s.yaml.v2.ConfigGroup;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    const plan = validateRegistryArgs(args);
    provisioningLimits(args.provisioning); // throws a ValidationError naming each problem, before any resource
    super(Registry.TYPE, name, {}, opts);
    this.endpoint = plan.endpoint;
    const spec = plan.spec;
    const httpSecret: pulumi.Output<string> =
      spec.httpSecret !== undefined
        ? pulumi.secret(spec.httpSecret as pulumi.Input<string>)
        : new RandomSecret(`${name}-http-secret`, { bytes: REGISTRY_HTTP_SECRET_BYTES }, { parent: this }).value;
    const tls = this.tlsMaterial(name, plan);
    this.caPem = tls?.caPem;
    const tlsOut: pulumi.Output<RegistryTlsMaterial> = tls
      ? pulumi
          .all([tls.certPem, tls.keyPem, tls.caPem])
          .apply(([certPem, keyPem, caPem]): RegistryTlsMaterial => ({ kind: "tls", certPem, keyPem, caPem }))
      : pulumi.output<RegistryTlsMaterial>({ kind: "none" });
    const passwords: pulumi.Output<string[]> = pulumi.all(
      (spec.auth?.users ?? []).map((u) => pulumi.output(u.password as pulumi.Input<string>)),
    );
    const proxyPassword = pulumi.output(spec.proxy?.password as pulumi.Input<string> | undefined);
    const props = pulumi.all([httpSecret, tlsOut, passwords, proxyPassword]).apply(([h, t, pw, pp]): RegistryProps => ({
      spec,
      endpoint: plan.endpoint,
      mirrorEndpoints: plan.mirrorEndpoints,
      nodeAddresses: plan.nodeAddresses,
      host: plan.host,
      users: (spec.auth?.users ?? []).map((u, i) => ({ username: u.username, password: pw[i] })),
      nodeUser: plan.nodeUser,
      httpSecret: h,
      tls: t,
      proxyPassword: pp,
    }));
    const secretProps = pulumi.secret(props);
    this.k3sRegistries = pulumi.secret(secretProps.apply(registryK3sRegistries));
    if (spec.auth?.ciUser !== undefined) this.ciAccess = pulumi.secret(secretProps.apply((p) => registryCiAccess(p)!));

    if (spec.mode.kind === "in-cluster") {
      const provider = clusterProvider(`${name}-provider`, args.kubeconfig!, this);
      const objects = secretProps.apply((p) => {
        const objs = chartObjects(new RegistryChart(newApp(), "registry", p));
        assertValidObjects(objs);
        return objs;
      });
      this.steps = new Map();
      this.objects = new k8s.yaml.v2.ConfigGroup(
        `${name}-objects`,
        { objs: objects },
        { parent: this, provider, dependsOn: [...(args.dependsOn ?? [])] },
      );
    } else {
      const structure = registryHostSteps(placeholderProps(plan));
      this.steps = hostStepCommands(
        { structure, material: secretProps, render: registryHostSteps },
        {
          parent: this,
          prefix: name,
          hosts: [plan.host!],
          dependsOn: args.dependsOn,
          executor: args.executor,
          provisioning: args.provisioning,
        },
      );
    }
    this.registerOutputs({ endpoint: this.endpoint, k3sRegistries: this.k3sRegistries, caPem: this.caPem });
  }

  private tlsMaterial(
    name: string,
    plan: RegistryPlan,
  ): { certPem: pulumi.Output<string>; keyPem: pulumi.Output<string>; caPem: pulumi.Output<string> } | undefined {
    const tls = plan.spec.tls;
    if (tls.kind === "none") return undefined;
    if (tls.kind === "provided") {
      return {
        certPem: pulumi.output(tls.certPem as pulumi.Input<string>),
        keyPem: pulumi.secret(tls.keyPem as pulumi.Input<string>),
        caPem: pulumi.output(tls.caPem as pulumi.Input<string>),
      };
    }
    const req = registryCertRequests(plan)!;
    const ca = new CertificateAuthority(`${name}-ca`, req.ca, { parent: this });
    const cert = new Certificate(`${name}-cert`, { ca, request: req.server }, { parent: this });
    return { certPem: cert.certPem, keyPem: cert.keyPem, caPem: ca.certPem };
  }
}

/** Validates the args before any resource exists; throws one ValidationError listing every problem. */
export function validateRegistryArgs(args: RegistryArgs): RegistryPlan {
  const issues = new IssueCollector();
  const plan = validateRegistry(args.spec, args.hosts, issues, "registry");
  if (plan?.spec.mode.kind === "in-cluster" && args.kubeconfig === undefined) {
    issues.add("kubeconfig", undefined, "is required in in-cluster mode (the registry is deployed into the cluster)");
  }
  issues.throwIfAny("invalid Registry");
  return plan!;
}

/** Props with placeholder secrets: enough to know the host steps' ids, dependencies and delete scripts. */
function placeholderProps(plan: RegistryPlan): RegistryProps {
  const spec = plan.spec;
  return {
    spec,
    endpoint: plan.endpoint,
    mirrorEndpoints: plan.mirrorEndpoints,
    nodeAddresses: plan.nodeAddresses,
    host: plan.host,
    users: (spec.auth?.users ?? []).map((u) => ({ username: u.username, password: "<secret>" })),
    nodeUser: plan.nodeUser,
    httpSecret: "<secret>",
    tls:
      spec.tls.kind === "none"
        ? { kind: "none" }
        : { kind: "tls", certPem: "<cert>", keyPem: "<secret>", caPem: "<cert>" },
    proxyPassword: spec.proxy?.password !== undefined ? "<secret>" : undefined,
  };
}
