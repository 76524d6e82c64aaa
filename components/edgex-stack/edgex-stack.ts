import * as pulumi from "@pulumi/pulumi";
import { Host, hasRole } from "../../lib/hosts/host";
import { chartObjects } from "../../lib/manifests/chart";
import { applyObjects, clusterProvider, validObjects } from "../../lib/pulumi/manifests";
import { IssueCollector } from "../../lib/validation/issues";
import { edgeXChart, entryPoints } from "./chart";
import { EdgeXStackProps, EdgeXStackSpecInput } from "./spec";
import { checkEdgeXStack } from "./validate";

export interface EdgeXStackArgs {
  readonly spec: EdgeXStackSpecInput;
  /** The cluster's kubeconfig (a secret). */
  readonly kubeconfig: pulumi.Input<string>;
  /** Resources to wait for, e.g. the KubeEdgeCloud whose edge nodes EdgeX runs on. @default [] */
  readonly dependsOn?: readonly pulumi.Resource[];
  /** @deprecated the same as `dependsOn` (every component names its dependencies `dependsOn`). @default [] */
  readonly after?: readonly pulumi.Resource[];
}

/** EdgeX Foundry on the selected (edge) nodes: the chart from {@link edgeXChart}, applied as one ConfigGroup. */
export class EdgeXStack extends pulumi.ComponentResource {
  static readonly TYPE = "edgecloud:edge:EdgeXStack";
  readonly namespace: pulumi.Output<string>;
  /** `edgex-<svc>` and ports reachable from outside the namespace (the gateway with security on). */
  readonly entryPoints: pulumi.Output<{ service: string; ports: number[] }[]>;
  /** DaemonSets (single-pod) or Deployments (per-service) rendered. */
  readonly workloads: pulumi.Output<string[]>;
  readonly props: EdgeXStackProps;

  constructor(name: string, args: EdgeXStackArgs, opts?: pulumi.ComponentResourceOptions) {
    const issues = new IssueCollector();
    const props = checkEdgeXStack(args.spec, issues);
    issues.throwIfAny(`EdgeXStack "${name}"`);
    const objects = validObjects(chartObjects(edgeXChart(props!)));
    super(EdgeXStack.TYPE, name, {}, opts);
    this.props = props!;

    const provider = clusterProvider(`${name}-provider`, args.kubeconfig, this);
    applyObjects(`${name}-edgex`, objects, {
      parent: this,
      provider,
      dependsOn: [...(args.dependsOn ?? []), ...(args.after ?? [])],
    });

    this.namespace = pulumi.output(this.props.spec.namespace);
    this.entryPoints = pulumi.output(entryPoints(this.props));
    this.workloads = pulumi.output(
      objects.filter((o) => o.kind === "DaemonSet" || o.kind === "Deployment").map((o) => o.metadata.name),
    );
    this.registerOutputs({ namespace: this.namespace, entryPoints: this.entryPoints, workloads: this.workloads });
  }
}

/** The distinct arches of hosts with the role "edge" — what `spec.arches` should list for EdgeX on them. */
export function edgeArches(hosts: readonly Host[]): ("amd64" | "arm64" | "arm" | "riscv64" | "loong64")[] {
  return [...new Set(hosts.filter((h) => hasRole(h, "edge")).map((h) => h.arch))];
}
