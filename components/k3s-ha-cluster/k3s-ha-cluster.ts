import * as command from "@pulumi/command";
import { ProvisioningLimits, provisioningLimits } from "../../lib/steps/provisioning";
import * as pulumi from "@pulumi/pulumi";
import { Host, HostInput } from "../../lib/hosts/host";
import { K3sRegistries } from "../../lib/k3s/registries";
import { Certificate, CertificateAuthority } from "../../lib/pulumi/certificates";
import { hostConnection, hostStepConnection, runAsRootCommand } from "../../lib/pulumi/connection";
import { HostStepExecutor, hostStepCommands, StepResource } from "../../lib/pulumi/host-step-commands";
import { HostStepRun, rootStdin } from "../../lib/pulumi/host-step-run";
import { RandomSecret } from "../../lib/pulumi/random-secret";
import { StepGate } from "../../lib/pulumi/step-gate";
import { stepId } from "../../lib/steps/host-step";
import { packageReposStepIds, serversStartedStepId } from "./anchors";
import { ClusterMaterial, EtcdPki, EtcdS3Credentials, etcdCertRequests, placeholderMaterial } from "./material";
import { preflightKeys, renderK3sHaClusterSteps } from "./plan";
import { PreflightFacts, checkPreflightFacts, parsePreflightFacts } from "./preflight-step";
import { K3sHaClusterProps, K3sHaClusterSpecInput } from "./spec";
import { clusterTopology } from "./topology";
import { validateK3sHaCluster } from "./validate";
import { joinHostPort } from "../../lib/validation/net";

export interface K3sHaClusterArgs {
  /** Every host of the environment; roles etcd/server/agent select what runs where. */
  readonly hosts: readonly HostInput[];
  /** @default - K3s v1.31.4+k3s1, etcd v3.5.17 from the release mirror, containerd, flannel vxlan */
  readonly spec?: K3sHaClusterSpecInput;
  /** K3s token. @default - generated once and kept (encrypted) in state */
  readonly token?: pulumi.Input<string>;
  /** registries.yaml for every node (e.g. a Registry component's `k3sRegistries`, a secret Output). @default - none */
  readonly registries?: pulumi.Input<K3sRegistries>;
  /**
   * What runs the host steps: `"command"`, Pulumi's command provider (`remote.Command`, needs the
   * `pulumi-resource-command` plugin), or `"in-process"`, SSH from the program itself (`HostStepRun`, no plugin:
   * for air-gapped operators who cannot install provider plugins). Same steps, names and order either way.
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
 * K3s servers on an external etcd cluster this component provisions itself (TLS on every port, per-member and
 * per-server certificates), agents joining through a fixed registration address; a single server on SQLite
 * when no host has the etcd role.
 */
export class K3sHaCluster extends pulumi.ComponentResource {
  static readonly TYPE = "edgecloud:k3s:K3sHaCluster";
  /** Admin kubeconfig addressed to the registration address (secret). */
  readonly kubeconfig: pulumi.Output<string>;
  readonly nodeNames: string[];
  readonly etcdEndpoints: string[];
  readonly registrationAddress: string;
  /** Certificate name → ISO expiry. */
  readonly certificateExpiry: pulumi.Output<Record<string, string>>;
  /** K3s version running. */
  readonly version: string;
  /** Host step resources by step id (`host/name`), for components that must wait for a node. */
  readonly steps: ReadonlyMap<string, StepResource>;
  /** Anchor: every server serves the API (the last server's start). */
  readonly serversStarted: StepResource;
  /** Anchor: the hosts' package repositories are in place (empty unless a host needs one); install packages after. */
  readonly packageRepos: readonly StepResource[];
  readonly props: K3sHaClusterProps;

  constructor(name: string, args: K3sHaClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    const props = validateK3sHaCluster({ name, hosts: args.hosts, spec: args.spec });
    provisioningLimits(args.provisioning); // throws a ValidationError naming each problem, before any resource
    super(K3sHaCluster.TYPE, name, {}, opts);
    this.props = props;
    const topo = clusterTopology(props);
    const token =
      args.token !== undefined
        ? pulumi.secret(args.token)
        : new RandomSecret(`${name}-token`, { bytes: 32 }, { parent: this }).value;
    const pki = topo.externalEtcd ? this.etcdPki(name, props) : undefined;
    // the S3 credentials of k3s.etcd.snapshot.s3: strings or secret Outputs (a `{ secret: name }` reference)
    const s3 = topo.externalEtcd ? props.spec.etcd.snapshot.s3 : undefined;
    const s3Credentials: pulumi.Output<EtcdS3Credentials | undefined> = s3
      ? pulumi.secret(
          pulumi
            .all([s3.accessKeyId as pulumi.Input<string>, s3.secretAccessKey as pulumi.Input<string>])
            .apply(([accessKeyId, secretAccessKey]) => ({ accessKeyId, secretAccessKey })),
        )
      : pulumi.output(undefined);
    const material: pulumi.Output<ClusterMaterial & { registries?: K3sRegistries }> = pulumi
      .all([
        token,
        pki?.material ?? pulumi.output(undefined),
        pulumi.output(args.registries as pulumi.Input<K3sRegistries | undefined>),
        s3Credentials,
      ])
      .apply(([t, e, r, c]) => ({
        token: t,
        ...(e ? { etcd: e } : {}),
        ...(r ? { registries: r as K3sRegistries } : {}),
        ...(c ? { etcdS3: c } : {}),
      }));
    const withRegistries = (m: { registries?: K3sRegistries }): K3sHaClusterProps => ({
      ...props,
      registries: m.registries,
    });
    // two different registries placeholders when registries are given (none when they are not)
    const placeholderRegistries: readonly [K3sRegistries?, K3sRegistries?] =
      args.registries === undefined
        ? [undefined, undefined]
        : [
            { mirrors: { "placeholder.invalid": { endpoint: ["https://placeholder.invalid"] } } },
            {
              mirrors: {
                "alternate-placeholder.invalid": { endpoint: ["https://alternate-placeholder.invalid:5000"] },
              },
              configs: { "alternate-placeholder.invalid": { auth: { username: "u", password: "p" } } },
            },
          ];
    const structure = renderK3sHaClusterSteps(
      withRegistries({ registries: placeholderRegistries[0] }),
      placeholderMaterial(props),
    );
    // the same with other placeholders: a step rendered the same both ways reads no secret material, so it waits on
    // none of the token and certificate resources (checked against the real rendering at deploy time)
    const alternate = renderK3sHaClusterSteps(
      withRegistries({ registries: placeholderRegistries[1] }),
      placeholderMaterial(props, "-alternate"),
    );
    const isPreflight = (s: { name: string }) => s.name === "preflight";
    const preflight = hostStepCommands(
      { structure: structure.filter(isPreflight) },
      { parent: this, prefix: name, hosts: props.hosts, executor: args.executor, provisioning: args.provisioning },
    );
    // cross-host pre-flight (duplicate hostnames / machine ids): nothing is installed unless it passes. One gate
    // resource reads every pre-flight and every other step waits on it alone (linear, not N × N, dependencies);
    // a step's triggers carry the gate's verdict and its own host's pre-flight key only.
    const gate = preflight.size
      ? new StepGate(
          `${name}-preflight-gate`,
          {
            verdict: pulumi.all([...preflight.values()].map((c) => c.stdout)).apply((outs) => {
              const problems = checkPreflightFacts(
                outs.map(parsePreflightFacts).filter((f): f is PreflightFacts => f !== undefined),
              );
              if (problems.length) throw new Error(`pre-flight failed:\n  - ${problems.join("\n  - ")}`);
              return "pre-flight passed";
            }),
          },
          { parent: this },
        )
      : undefined;
    const rest = hostStepCommands(
      {
        structure: structure.filter((s) => !isPreflight(s)),
        alternate: alternate.filter((s) => !isPreflight(s)),
        material,
        render: (m) => renderK3sHaClusterSteps(withRegistries(m), m).filter((s) => !isPreflight(s)),
      },
      {
        parent: this,
        prefix: name,
        hosts: props.hosts,
        existing: preflight,
        gate: gate ? { resource: gate, verdict: gate.verdict, hostKeys: preflightKeys(props) } : undefined,
        executor: args.executor,
        provisioning: args.provisioning,
      },
    );
    this.steps = new Map([...preflight, ...rest]);

    const first = topo.servers[0]!;
    const lastServerStart = this.steps.get(serversStartedStepId(topo))!;
    this.serversStarted = lastServerStart;
    this.packageRepos = packageReposStepIds(this.steps.keys()).map((id) => this.steps.get(id)!);
    // every node Ready (servers check their own, the first server every agent's) before the kubeconfig is handed out
    const allReady = this.steps.get(stepId(first.name, "k3s-nodes-ready")) ?? lastServerStart;
    const read = this.readKubeconfig(name, first, allReady, args.executor ?? "command");
    this.kubeconfig = pulumi.secret(
      read.stdout.apply((y) =>
        y.replace(/https:\/\/127\.0\.0\.1:6443/g, `https://${joinHostPort(topo.registrationAddress, 6443)}`),
      ),
    );
    this.nodeNames = [...topo.servers, ...topo.agents].map((h) => h.name);
    this.etcdEndpoints = [...topo.etcdEndpoints];
    this.registrationAddress = topo.registrationAddress;
    this.version = props.spec.version;
    this.certificateExpiry = pki?.expiry ?? pulumi.output<Record<string, string>>({});
    this.registerOutputs({
      kubeconfig: this.kubeconfig,
      nodeNames: this.nodeNames,
      etcdEndpoints: this.etcdEndpoints,
      registrationAddress: this.registrationAddress,
      certificateExpiry: this.certificateExpiry,
    });
  }

  /** Reads the first server's admin kubeconfig once the last server started (stdout kept secret). */
  private readKubeconfig(name: string, first: Host, after: StepResource, executor: HostStepExecutor): StepResource {
    const opts = { parent: this, dependsOn: [after], additionalSecretOutputs: ["stdout"] };
    if (executor === "in-process") {
      return new HostStepRun(
        `${name}-kubeconfig`,
        {
          connection: hostStepConnection(first),
          bundle: "cat /etc/rancher/k3s/k3s.yaml\n",
          trigger: after.id,
          secretStdout: true,
        },
        opts,
      );
    }
    // the same root path as every step: the program on stdin, after the sudo password line when there is one
    const program = "cat /etc/rancher/k3s/k3s.yaml\n";
    const sudoPassword = first.ssh.sudoPassword as pulumi.Input<string> | undefined;
    const stdin =
      sudoPassword !== undefined && first.ssh.user !== "root"
        ? pulumi.secret(
            pulumi.output(sudoPassword).apply((pw) => rootStdin({ user: first.ssh.user, sudoPassword: pw }, program)),
          )
        : pulumi.output(program);
    return new command.remote.Command(
      `${name}-kubeconfig`,
      {
        connection: hostConnection(first),
        create: runAsRootCommand(first),
        stdin,
        logging: "none",
        triggers: [after.id],
      },
      { ...opts, additionalSecretOutputs: ["stdout", "stdin"] },
    );
  }

  /** The CA and every certificate as stateful resources: generated once, re-issued only when their request changes. */
  private etcdPki(
    name: string,
    props: K3sHaClusterProps,
  ): { material: pulumi.Output<EtcdPki>; expiry: pulumi.Output<Record<string, string>> } {
    const req = etcdCertRequests(props);
    const ca = new CertificateAuthority(
      `${name}-etcd-ca`,
      { commonName: req.caCommonName, validityDays: props.spec.etcd.certValidityDays },
      { parent: this },
    );
    const issue = (id: string, r: typeof req.admin) =>
      new Certificate(`${name}-etcd-${id}`, { ca, request: r, rotation: props.spec.etcd.rotation }, { parent: this });
    const members = Object.entries(req.members).map(([host, r]) => ({
      host,
      server: issue(`${host}-server`, r.server),
      peer: issue(`${host}-peer`, r.peer),
    }));
    const clients = Object.entries(req.clients).map(([host, r]) => ({ host, cert: issue(`client-${host}`, r) }));
    const admin = issue("admin", req.admin);
    const out = (c: Certificate | CertificateAuthority) =>
      pulumi
        .all([c.certPem, c.keyPem, c.notAfter])
        .apply(([certPem, keyPem, notAfter]) => ({ certPem, keyPem, notAfter }));
    const material = pulumi
      .all([
        out(ca),
        pulumi.all(members.map((m) => pulumi.all([out(m.server), out(m.peer)]))),
        pulumi.all(clients.map((c) => out(c.cert))),
        out(admin),
      ])
      .apply(([caM, ms, cs, adminM]) => ({
        ca: caM,
        members: Object.fromEntries(members.map((m, i) => [m.host, { server: ms[i]![0], peer: ms[i]![1] }])),
        clients: Object.fromEntries(clients.map((c, i) => [c.host, cs[i]!])),
        admin: adminM,
      }));
    const expiry = pulumi
      .all([
        ca.notAfter,
        ...members.flatMap((m) => [m.server.notAfter, m.peer.notAfter]),
        ...clients.map((c) => c.cert.notAfter),
        admin.notAfter,
      ])
      .apply((dates) => {
        const names = [
          "etcd-ca",
          ...members.flatMap((m) => [`etcd-${m.host}-server`, `etcd-${m.host}-peer`]),
          ...clients.map((c) => `etcd-client-${c.host}`),
          "etcd-admin",
        ];
        return Object.fromEntries(names.map((n, i) => [n, dates[i]!]));
      });
    return { material: pulumi.secret(material), expiry };
  }
}
