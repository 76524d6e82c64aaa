import { Chart } from "cdk8s";
import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { DockerRunner } from "./docker-runner";
import { GitServer } from "./git-service";
import { KubeRunner } from "./kube-runner";
import { PipelineAccess } from "./pipeline-access";
import { dronePodSecurityLabels } from "./labels";
import { DroneServer } from "./server";
import { DroneCiProps } from "./spec";

/**
 * Drone CI: the server in a `restricted` namespace; the runner in its own namespace — `privileged` for the docker
 * runner (DinD), the only namespace allowed to run privileged pods — or `baseline` for the kube runner with a
 * separate `baseline` build namespace; optionally Gogs or Gitea in a `restricted` namespace.
 */
export class DroneCiChart extends Chart {
  constructor(scope: Construct, id: string, props: DroneCiProps) {
    super(scope, id);
    const { spec } = props;
    const ns = (name: string, level: "restricted" | "baseline" | "privileged") =>
      new k8s.KubeNamespace(this, `namespace-${name}`, { metadata: { name, labels: dronePodSecurityLabels(level) } });
    ns(spec.namespace, "restricted");
    ns(spec.runner.namespace, spec.runner.kind === "docker" ? "privileged" : "baseline");
    if (spec.runner.kind === "kube") ns(spec.runner.buildNamespace, "baseline");
    // Gogs and Gitea both run as non-root with every capability dropped (git-service.ts): restricted
    if (spec.git) ns(spec.git.namespace, "restricted");
    for (const target of spec.pipelines.deployNamespaces) ns(target, "baseline");
    new DroneServer(this, "server", props);
    if (spec.runner.kind === "docker") new DockerRunner(this, "runner", props);
    else new KubeRunner(this, "runner", props);
    if (spec.git) new GitServer(this, "git", props);
    new PipelineAccess(this, "pipelines", props);
  }
}
