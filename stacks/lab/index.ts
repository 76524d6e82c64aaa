import * as pulumi from "@pulumi/pulumi";
import { K3sHaCluster, K3sHaClusterSpecInput } from "../../components/k3s-ha-cluster";
import { HostInput } from "../../lib/hosts/host";
import { ProvisioningLimits } from "../../lib/steps/provisioning";

/**
 * The lab stack: the library's K3sHaCluster on the lab's machines. The engine tests set its config from a running
 * lab (`hosts`: addresses, SSH key path, pinned host keys; `spec`: the lab's cluster spec, etcd from the distro;
 * `executor`: `command` (default, needs the pulumi-resource-command plugin) or `in-process` (HostStepRun, no plugin);
 * `provisioning`: the ProvisioningLimits, e.g. `{"maxConcurrentSteps":16,"maxStepsPerHost":1}`).
 *
 *   pulumi config set --path hosts '[{"name":"etcd-1","address":"10.213.0.11","roles":["etcd"],...}]'
 */
const config = new pulumi.Config();
const hosts = config.requireObject<HostInput[]>("hosts");
const spec = config.getObject<K3sHaClusterSpecInput>("spec");
const executor = config.get("executor") ?? "command";
if (executor !== "command" && executor !== "in-process")
  throw new Error(`executor "${executor}" is not an executor; use command or in-process`);

const provisioning = config.getObject<ProvisioningLimits>("provisioning");

const cluster = new K3sHaCluster("lab", { hosts, spec, executor, provisioning });

export const etcdEndpoints = cluster.etcdEndpoints;
export const registrationAddress = cluster.registrationAddress;
export const certificateExpiry = cluster.certificateExpiry;
export const steps = [...cluster.steps.keys()];
