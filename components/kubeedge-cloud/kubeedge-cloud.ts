import * as k8s from "@pulumi/kubernetes";
import { ProvisioningLimits, provisioningLimits } from "../../lib/steps/provisioning";
import * as pulumi from "@pulumi/pulumi";
import { HostInput } from "../../lib/hosts/host";
import { chartObjects } from "../../lib/manifests/chart";
import { applyObjects, clusterProvider, validObjects } from "../../lib/pulumi/manifests";
import { HostStepExecutor, hostStepCommands, StepResource } from "../../lib/pulumi/host-step-commands";
import { HostStep } from "../../lib/steps/host-step";
import { IssueCollector } from "../../lib/validation/issues";
import { cloudCoreChart, edgeAvoidancePatches } from "./cloudcore-chart";
import { STREAM_CERT_STEP, streamCertHost } from "./stream-cert-step";
import { EDGE_STEPS, TOKEN_PLACEHOLDER } from "./edge-node-steps";
import { FIREWALL_STEP } from "./firewall-steps";
import { kubeEdgeHostSteps } from "./host-steps";
import { KEADM_STEPS } from "./keadm-init-steps";
import { TOKEN_WAIT_STEP, tokenWaitHost } from "./token-wait-step";
import { JoinParameters, KubeEdgeCloudProps, KubeEdgeCloudSpecInput, TOKEN_SECRET } from "./spec";
import { checkKubeEdgeCloud } from "./validate";
import { JoinBundle, renderJoinBundle } from "./edge-pool";
import { mintKubeEdgeJoinToken } from "./join-token";
import type { K3sRegistries } from "../../lib/k3s/registries";

export interface KubeEdgeCloudArgs {
  /** Every host of the cluster; those with the role "edge" are joined. */
  readonly hosts: readonly HostInput[];
  readonly spec: KubeEdgeCloudSpecInput;
  /** The cluster's kubeconfig (a secret), e.g. `K3sHaCluster.kubeconfig`. */
  readonly kubeconfig: pulumi.Input<string>;
  /** Resources to wait for: the cluster being ready (e.g. the K3s cluster component). @default [] */
  readonly dependsOn?: readonly pulumi.Resource[];
  /** @deprecated the same as `dependsOn` (every component names its dependencies `dependsOn`). @default [] */
  readonly clusterReady?: readonly pulumi.Resource[];
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
  /** Registries the edge nodes' containerd mirrors, e.g. a Registry component's `k3sRegistries` (a secret Output). @default - none */
  readonly registries?: pulumi.Input<K3sRegistries>;
}

/**
 * KubeEdge's cloud side (cloudcore, in manifests or keadm mode) and the edge nodes joined over SSH. Order:
 * cloudcore ready → `kubeedge/tokensecret` read (a secret) → each edge node's edgecore config written 0600 → joined.
 */
export class KubeEdgeCloud extends pulumi.ComponentResource {
  static readonly TYPE = "edgecloud:edge:KubeEdgeCloud";
  /** `<address>:<port>` edge nodes dial. */
  readonly cloudcoreAddress: pulumi.Output<string>;
  /** Where the join token lives. */
  readonly tokenSecretRef: pulumi.Output<typeof TOKEN_SECRET>;
  /** Everything an edge node needs to join, except the token. */
  readonly joinParameters: pulumi.Output<JoinParameters>;
  /** The current join token (secret). */
  readonly joinToken: pulumi.Output<string>;
  /** Names of the joined edge nodes. */
  readonly edgeNodes: pulumi.Output<string[]>;
  /**
   * Per edge pool (`spec.edgePools`), its join bundle: cloud-init user-data and a plain script carrying the pool's
   * short-lived join credential (a secret; never cloudcore's `tokensecret`). Empty without pools.
   */
  readonly joinBundles: pulumi.Output<Record<string, JoinBundle>>;
  /** The validated model (plain). */
  readonly props: KubeEdgeCloudProps;

  constructor(name: string, args: KubeEdgeCloudArgs, opts?: pulumi.ComponentResourceOptions) {
    const issues = new IssueCollector();
    const props = checkKubeEdgeCloud({ hosts: args.hosts, spec: args.spec }, issues);
    issues.throwIfAny(`KubeEdgeCloud "${name}"`);
    // cloudcore's objects, validated strictly before any resource exists
    const cloudcoreObjects = validObjects(props!.spec.mode === "manifests" ? chartObjects(cloudCoreChart(props!)) : []);
    provisioningLimits(args.provisioning); // throws a ValidationError naming each problem, before any resource
    super(KubeEdgeCloud.TYPE, name, {}, opts);
    this.props = props!;
    const p = this.props;

    const provider = clusterProvider(`${name}-provider`, args.kubeconfig, this);
    const ready = [...(args.dependsOn ?? []), ...(args.clusterReady ?? [])];
    let cloudcoreReady: pulumi.Resource[];
    // An output unknown in a preview that creates cloudcore: the token read waits for it, so a first preview does
    // not fail on a Secret cloudcore has not created yet.
    let gate: pulumi.Output<unknown>;

    // every host step in one plan (keadm init, cloud firewall, edge nodes); the join steps get the real token later
    const hostSteps = kubeEdgeHostSteps(p, TOKEN_PLACEHOLDER);
    const isJoin = (s: HostStep) => s.name === EDGE_STEPS.join && p.edgeHosts.some((h) => h.name === s.host);
    let cloudCmds = new Map<string, StepResource>();

    if (p.spec.mode === "manifests") {
      const objects = cloudcoreObjects;
      const namespace = applyObjects(
        `${name}-namespace`,
        objects.filter((o) => o.kind === "Namespace"),
        { parent: this, provider, dependsOn: ready },
      );
      // the stream certificate is issued on a server by K3s's server CA (the API server verifies it against that CA
      // and the edge node's IP): a host step, after the namespace, before cloudcore (stream-cert-step.ts)
      const streamHost = streamCertHost(p);
      const streamCmds = streamHost
        ? hostStepCommands(
            { structure: hostSteps.filter((s) => s.name === STREAM_CERT_STEP) },
            {
              parent: this,
              prefix: `${name}-cloud`,
              hosts: [streamHost],
              dependsOn: [namespace],
              executor: args.executor,
              provisioning: args.provisioning,
            },
          )
        : new Map<string, StepResource>();
      const certs = streamHost ? streamCmds.get(`${streamHost.name}/${STREAM_CERT_STEP}`) : undefined;
      // ConfigGroup v2 waits for the Deployment's rollout: cloudcore is ready when it resolves
      const cloudcore = applyObjects(
        `${name}-cloudcore`,
        objects.filter((o) => o.kind !== "Namespace"),
        { parent: this, provider, dependsOn: [namespace, ...(certs ? [certs] : [])] },
      );
      cloudCmds = streamCmds;
      cloudcoreReady = [cloudcore];
      gate = certs ? certs.stdout : pulumi.output(cloudcore.urn);
      // then wait on a server until cloudcore created the token Secret (#4103)
      const waitHost = tokenWaitHost(p);
      if (waitHost) {
        const wait = hostStepCommands(
          { structure: hostSteps.filter((s) => s.name === TOKEN_WAIT_STEP) },
          {
            parent: this,
            prefix: `${name}-cloud`,
            hosts: [waitHost],
            dependsOn: [cloudcore],
            executor: args.executor,
            provisioning: args.provisioning,
          },
        );
        cloudCmds = new Map([...streamCmds, ...wait]);
        const cmd = wait.get(`${waitHost.name}/${TOKEN_WAIT_STEP}`)!;
        cloudcoreReady = [cloudcore, cmd];
        gate = pulumi.all([gate, cmd.stdout]);
      }
    } else {
      const keadm = hostSteps.filter(
        (s) => s.host === p.keadmHost!.name && (s.name === KEADM_STEPS.install || s.name === KEADM_STEPS.init),
      );
      const cmds = hostStepCommands(
        { structure: keadm },
        {
          parent: this,
          prefix: `${name}-keadm`,
          hosts: [p.keadmHost!],
          dependsOn: ready,
          executor: args.executor,
          provisioning: args.provisioning,
        },
      );
      const init = cmds.get(`${p.keadmHost!.name}/${KEADM_STEPS.init}`)!;
      // the chart's stream certificate (a private CA) replaced by one from K3s's server CA, cloudcore restarted
      const streamHost = streamCertHost(p);
      const streamCmds = streamHost
        ? hostStepCommands(
            { structure: hostSteps.filter((s) => s.name === STREAM_CERT_STEP) },
            {
              parent: this,
              prefix: `${name}-keadm`,
              hosts: [streamHost],
              existing: cmds,
              executor: args.executor,
              provisioning: args.provisioning,
            },
          )
        : new Map<string, StepResource>();
      const stream = streamHost ? streamCmds.get(`${streamHost.name}/${STREAM_CERT_STEP}`) : undefined;
      cloudCmds = new Map([...cmds, ...streamCmds]);
      cloudcoreReady = [init, ...(stream ? [stream] : [])];
      gate = stream ? pulumi.all([init.stdout, stream.stdout]) : init.stdout;
      // keadm's chart renders its own mosquitto DaemonSet (mosquitto.enable, see keadmSetValues): nothing to apply
    }

    const patches = edgeAvoidancePatches(p.spec.avoidEdgeDaemonSets).map(
      (o, i) =>
        new k8s.apps.v1.DaemonSetPatch(`${name}-avoid-edge-${i}`, o as unknown as k8s.apps.v1.DaemonSetPatchArgs, {
          parent: this,
          provider,
          dependsOn: ready,
        }),
    );

    const tokenId = gate.apply(() => `${TOKEN_SECRET.namespace}/${TOKEN_SECRET.name}`);
    const tokenSecret = k8s.core.v1.Secret.get(`${name}-token`, tokenId, {
      parent: this,
      provider,
      dependsOn: cloudcoreReady,
    });
    const token = pulumi.secret(
      tokenSecret.data.apply((d) => {
        const b64 = d?.[TOKEN_SECRET.key];
        if (!b64)
          throw new Error(
            `Secret ${TOKEN_SECRET.namespace}/${TOKEN_SECRET.name} has no "${TOKEN_SECRET.key}"; is cloudcore running (kubeedge#4103)?`,
          );
        return Buffer.from(b64, "base64").toString("utf8").trim();
      }),
    );

    const firewallSteps = hostSteps.filter((s) => s.name === FIREWALL_STEP);
    const firewall = hostStepCommands(
      { structure: firewallSteps },
      {
        parent: this,
        prefix: `${name}-cloud`,
        hosts: p.cloudHosts,
        dependsOn: ready,
        executor: args.executor,
        provisioning: args.provisioning,
      },
    );
    const isPrepare = (s: HostStep) => p.edgeHosts.some((h) => h.name === s.host) && !isJoin(s);
    const prepare = hostStepCommands(
      args.registries === undefined
        ? { structure: hostSteps.filter(isPrepare) }
        : {
            // the runtime step carries the registry's credentials: rendered with them at deploy time, stdin secret
            structure: hostSteps.filter(isPrepare),
            material: pulumi.output(args.registries as pulumi.Input<K3sRegistries>),
            render: (r: K3sRegistries) =>
              kubeEdgeHostSteps({ ...p, registries: r }, TOKEN_PLACEHOLDER).filter(isPrepare),
          },
      {
        parent: this,
        prefix: `${name}-edge`,
        hosts: p.edgeHosts,
        executor: args.executor,
        provisioning: args.provisioning,
      },
    );
    hostStepCommands(
      {
        structure: hostSteps.filter(isJoin),
        material: token,
        render: (t: string) => kubeEdgeHostSteps(p, t).filter(isJoin),
      },
      {
        parent: this,
        prefix: `${name}-edge`,
        hosts: p.edgeHosts,
        existing: new Map([...cloudCmds, ...firewall, ...prepare]),
        dependsOn: [tokenSecret, ...cloudcoreReady, ...patches],
        executor: args.executor,
        provisioning: args.provisioning,
      },
    );

    this.joinBundles = this.edgePools(name, provider, gate, cloudcoreReady);

    this.cloudcoreAddress = pulumi.output(p.join.cloudcoreIpPort);
    this.tokenSecretRef = pulumi.output(TOKEN_SECRET);
    this.joinParameters = pulumi.output(p.join);
    this.joinToken = token;
    this.edgeNodes = pulumi.output(p.edgeHosts.map((h) => h.name));
    this.registerOutputs({
      cloudcoreAddress: this.cloudcoreAddress,
      tokenSecretRef: this.tokenSecretRef,
      joinParameters: this.joinParameters,
      joinToken: this.joinToken,
      edgeNodes: this.edgeNodes,
      joinBundles: this.joinBundles,
    });
  }

  /**
   * Edge pools: cloudcore's CA read from `kubeedge/casecret` once cloudcore made it (kubeedge/kubeedge v1.23.1
   * cloud/pkg/cloudhub/servers/httpserver/pre_server.go: `cadata`, `cakeydata`), one EdgeJoinCredential per pool minted
   * from it, and each pool's bundle rendered around its credential. No resource per node.
   */
  private edgePools(
    name: string,
    provider: k8s.Provider,
    gate: pulumi.Output<unknown>,
    cloudcoreReady: pulumi.Resource[],
  ): pulumi.Output<Record<string, JoinBundle>> {
    const pools = this.props.spec.edgePools;
    if (pools.length === 0) return pulumi.output<Record<string, JoinBundle>>({});
    const ca = k8s.core.v1.Secret.get(
      `${name}-ca`,
      gate.apply(() => `${TOKEN_SECRET.namespace}/casecret`),
      { parent: this, provider, dependsOn: cloudcoreReady },
    );
    const field = (key: "cadata" | "cakeydata") =>
      ca.data.apply((d) => {
        const v = d?.[key];
        if (!v) throw new Error(`Secret ${TOKEN_SECRET.namespace}/casecret has no "${key}"; is cloudcore running?`);
        return v;
      });
    const bundles = pools.map((pool) => {
      const cred = new EdgeJoinCredential(
        `${name}-pool-${pool.name}`,
        { ca: field("cadata"), caKey: pulumi.secret(field("cakeydata")), ...pool.credential },
        { parent: this },
      );
      return pulumi
        .all([cred.token, cred.notAfter])
        .apply(([t, n]) => [pool.name, renderJoinBundle(this.props, pool, t, new Date(n))] as const);
    });
    return pulumi.secret(pulumi.all(bundles).apply((entries) => Object.fromEntries(entries)));
  }
}

export interface EdgeJoinCredentialArgs {
  /** cloudcore's CA certificate, base64 DER (`kubeedge/casecret` `cadata`). */
  readonly ca: pulumi.Input<string>;
  /** cloudcore's CA key, base64 SEC1 DER (`kubeedge/casecret` `cakeydata`); a secret. */
  readonly caKey: pulumi.Input<string>;
  /** How long the credential admits new nodes. */
  readonly ttlHours: number;
  /** A `pulumi up` (or preview) this close to the expiry replaces the credential. */
  readonly rotateBeforeHours: number;
  /** A new value mints a new credential now. */
  readonly revision: number;
}

interface CredentialInputs {
  readonly ca: string;
  readonly caKey: string;
  readonly ttlHours: number;
  readonly rotateBeforeHours: number;
  readonly revision: number;
}

interface CredentialOutputs extends CredentialInputs {
  readonly token: string;
  /** ISO 8601: the token's `exp`. */
  readonly notAfter: string;
  readonly issuedAt: string;
}

/*
 * Serialized by Pulumi into the dynamic-provider process: no relative import at run time (mintKubeEdgeJoinToken is
 * self-contained; see join-token.ts), packages required by name.
 */
export const edgeJoinCredentialProvider = {
  async create(inputs: CredentialInputs): Promise<{ id: string; outs: CredentialOutputs }> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { randomBytes } = require("crypto") as typeof import("crypto");
    const now = Date.now();
    const notAfter = Math.floor(now / 1000) + inputs.ttlHours * 3600;
    return {
      id: randomBytes(8).toString("hex"),
      outs: {
        ...inputs,
        token: mintKubeEdgeJoinToken(inputs.ca, inputs.caKey, notAfter),
        notAfter: new Date(notAfter * 1000).toISOString(),
        issuedAt: new Date(now).toISOString(),
      },
    };
  },
  async diff(_id: string, olds: CredentialOutputs, news: CredentialInputs): Promise<pulumi.dynamic.DiffResult> {
    const due = Date.now() >= Date.parse(olds.notAfter) - news.rotateBeforeHours * 3600_000;
    const replaces = [
      ...(["ca", "caKey", "ttlHours", "revision"] as const).filter((k) => olds[k] !== news[k]),
      ...(due ? ["notAfter"] : []),
    ];
    return {
      changes: replaces.length > 0 || olds.rotateBeforeHours !== news.rotateBeforeHours,
      replaces,
      deleteBeforeReplace: false,
    };
  },
  async update(_id: string, olds: CredentialOutputs, news: CredentialInputs): Promise<{ outs: CredentialOutputs }> {
    // only rotateBeforeHours changed (anything else replaces): the credential stays
    return { outs: { ...olds, rotateBeforeHours: news.rotateBeforeHours } };
  },
} satisfies pulumi.dynamic.ResourceProvider;

/**
 * One edge pool's join credential: a KubeEdge join token minted in-process from cloudcore's CA (no provider plugin),
 * valid for `ttlHours`, replaced by the `pulumi up` that runs within `rotateBeforeHours` of its expiry or after
 * `revision` changed. Token and CA key stay secret in state. There is no per-token revocation in cloudcore: a replaced
 * credential keeps admitting nodes until its own expiry (docs/kubeedge-cloud.md "Edge pools", trust model).
 */
export class EdgeJoinCredential extends pulumi.dynamic.Resource {
  declare readonly token: pulumi.Output<string>;
  declare readonly notAfter: pulumi.Output<string>;
  declare readonly issuedAt: pulumi.Output<string>;

  constructor(name: string, args: EdgeJoinCredentialArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      edgeJoinCredentialProvider,
      name,
      {
        ca: args.ca,
        caKey: pulumi.secret(args.caKey),
        ttlHours: args.ttlHours,
        rotateBeforeHours: args.rotateBeforeHours,
        revision: args.revision,
        token: undefined,
        notAfter: undefined,
        issuedAt: undefined,
      },
      { ...opts, additionalSecretOutputs: ["caKey", "token"] },
      "edgecloud",
      "EdgeJoinCredential",
    );
  }
}
