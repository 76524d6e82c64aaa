import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { assertValidObjects, chartObjects, newApp } from "../../lib/manifests";
import { clusterProvider } from "../../lib/pulumi/manifests";
import { RandomSecret } from "../../lib/pulumi/random-secret";
import { DroneSecretRequest, droneSecretRequests } from "./secret-requests";
import { IssueCollector } from "../../lib/validation/issues";
import { DroneCiChart } from "./chart";
import {
  DroneCiPlan,
  DroneCiProps,
  DroneCiSpecInput,
  GitServiceSecrets,
  PipelineRegistry,
  validateDroneCi,
} from "./spec";

export interface DroneCiArgs {
  /** Server, git provider, runner, optional in-cluster git service. Secrets may be Pulumi secrets. */
  readonly spec: DroneCiSpecInput;
  /** Kubeconfig of the cluster (a secret). */
  readonly kubeconfig: pulumi.Input<string>;
  /** Resources to wait for, e.g. the NfsProvisioner that makes the default StorageClass. @default [] */
  readonly dependsOn?: readonly pulumi.Resource[];
  /**
   * The registry pipelines push to, with its CI user (e.g. `Registry.ciAccess`): reaches every pipeline as the
   * `registry_*` secrets, and the runner's daemon trusts its CA. @default - none
   */
  readonly pipelineRegistry?: pulumi.Input<PipelineRegistry>;
}

/**
 * Drone CI on the cluster: server, runner (docker with DinD, or kube), optional Gogs/Gitea, every secret in a
 * Secret; the RPC and database secrets are generated once when not given.
 */
export class DroneCi extends pulumi.ComponentResource {
  static readonly TYPE = "edgecloud:services:DroneCi";
  /** `<proto>://<host>`: the URL users open and the OAuth redirect base. */
  readonly serverUrl: string;
  /** The git provider's URL Drone uses (the in-cluster service's when there is one). */
  readonly providerServer: string;
  /** `DRONE_RPC_SECRET` (secret), for runners outside the cluster. */
  readonly rpcSecret: pulumi.Output<string>;
  readonly objects: k8s.yaml.v2.ConfigGroup;

  constructor(name: string, args: DroneCiArgs, opts?: pulumi.ComponentResourceOptions) {
    const plan = validateDroneCiArgs(args);
    super(DroneCi.TYPE, name, {}, opts);
    const spec = plan.spec;
    this.serverUrl = `${spec.server.proto}://${spec.server.host}`;
    this.providerServer = plan.providerServer;
    // what to generate, and how many bytes: the same requests synth's material uses
    const sizes = new Map(droneSecretRequests(spec).map((r) => [r.role, r.bytes]));
    const generated = (role: DroneSecretRequest["role"]) =>
      pulumi.secret(new RandomSecret(`${name}-${role}`, { bytes: sizes.get(role)! }, { parent: this }).value);
    this.rpcSecret =
      spec.rpcSecret !== undefined ? pulumi.secret(spec.rpcSecret as pulumi.Input<string>) : generated("rpc-secret");
    const databaseSecret =
      spec.databaseSecret !== undefined
        ? pulumi.output(spec.databaseSecret as pulumi.Input<string>)
        : generated("database-secret");
    const p = spec.provider;
    const clientSecret = pulumi.output(p.kind === "gogs" ? undefined : (p.clientSecret as pulumi.Input<string>));
    const db = spec.server.database;
    const datasource = pulumi.output(db.driver === "sqlite3" ? undefined : (db.datasource as pulumi.Input<string>));
    const git = spec.git;
    const gitSecrets: pulumi.Output<GitServiceSecrets | undefined> = git
      ? pulumi
          .all([
            generated("git-secret-key"),
            git.kind === "gitea" ? generated("git-internal-token") : "",
            git.kind === "gitea" ? generated("git-jwt-secret") : "",
          ])
          .apply(([secretKey, internalToken, jwtSecret]) => ({ secretKey, internalToken, jwtSecret }))
      : pulumi.output(undefined);
    const pipelineRegistry = pulumi.output(args.pipelineRegistry);
    const props = pulumi
      .all([this.rpcSecret, databaseSecret, clientSecret, datasource, gitSecrets, pipelineRegistry])
      .apply(([rpc, dbSecret, cs, ds, gs, pr]): DroneCiProps => ({
        spec,
        providerServer: plan.providerServer,
        rpcSecret: rpc,
        databaseSecret: dbSecret,
        clientSecret: cs,
        databaseDatasource: ds,
        gitSecrets: gs,
        ...(pr ? { pipelineRegistry: pr } : {}),
      }));
    const objects = pulumi.secret(props).apply((pr) => {
      const objs = chartObjects(new DroneCiChart(newApp(), "drone", pr));
      assertValidObjects(objs);
      return objs;
    });
    const provider = clusterProvider(`${name}-provider`, args.kubeconfig, this);
    this.objects = new k8s.yaml.v2.ConfigGroup(
      `${name}-objects`,
      { objs: objects },
      { parent: this, provider, dependsOn: [...(args.dependsOn ?? [])] },
    );
    this.registerOutputs({ serverUrl: this.serverUrl, providerServer: this.providerServer, rpcSecret: this.rpcSecret });
  }
}

/** Validates the args before any resource exists; throws one ValidationError listing every problem. */
export function validateDroneCiArgs(args: DroneCiArgs): DroneCiPlan {
  const issues = new IssueCollector();
  const plan = validateDroneCi(args.spec, issues, "drone");
  issues.throwIfAny("invalid DroneCi");
  return plan!;
}
