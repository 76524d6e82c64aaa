/**
 * The Pulumi program (Pulumi.yaml `main: stacks/index.ts`): one stack per environment. `pulumi up -s <env>` reads
 * `edgecloud:environment` (default: the stack name) and deploys that environment.
 */
import { PIPELINE_SECRETS } from "../components/drone-ci/pipeline-access";
import { EdgecloudEnvironment } from "./edgecloud-environment";
import { readStackConfig, stackEnvironment } from "./stack-config";

const cfg = readStackConfig();
const stack = new EdgecloudEnvironment("edgecloud", {
  environment: stackEnvironment(cfg),
  rancherManifestUrl: cfg.rancherManifestUrl,
  executor: cfg.executor,
  ...(cfg.provisioning !== undefined ? { provisioning: cfg.provisioning } : {}),
});

/** Admin kubeconfig (secret). */
export const kubeconfig = stack.kubeconfig;
export const apiServer = stack.apiServer;
export const nodeNames = stack.cluster.nodeNames;
export const etcdEndpoints = stack.cluster.etcdEndpoints;
export const certificateExpiry = stack.cluster.certificateExpiry;
export const k3sVersion = stack.cluster.version;
export const registryEndpoint = stack.registry?.endpoint;
export const storageClass = stack.nfs?.storageClassName;
/** What edge nodes dial, and everything else they need to join except the token. */
export const cloudcoreAddress = stack.kubeedge?.cloudcoreAddress;
export const edgeJoin = stack.kubeedge?.joinParameters;
/** Per edge pool, its join bundle (cloud-init user-data and a plain script; secret): docs/kubeedge-cloud.md "Edge pools". */
export const edgeJoinBundles = stack.kubeedge?.joinBundles;
export const edgexEntryPoints = stack.edgex?.entryPoints;
export const droneUrl = stack.drone?.serverUrl;
export const gitUrl = stack.drone?.providerServer;
/** What a `.drone.yml` uses (docs/ci-pipeline.md): images are `<ciImagePrefix><repository>:<tag>`. */
export const ciImagePrefix = stack.drone && stack.registry?.ciAccess ? `${stack.registry.endpoint}/` : undefined;
export const ciSecretNames = stack.drone ? Object.values(PIPELINE_SECRETS) : undefined;
