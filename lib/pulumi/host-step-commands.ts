import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { Host } from "../hosts/host";
import { HostStep } from "../steps/host-step";
import { makePlan } from "../steps/plan";
import { chainName, groupStepChains, renderChainBundle, renderChainDeleteBundle } from "../steps/step-chains";
import { ProvisioningLimits, provisioningLimits, stepPriorities, WaveProgress } from "../steps/provisioning";
import { hostConnection, hostStepConnection, runAsRootCommand } from "./connection";
import { HostStepRun, rootCommand, rootStdin } from "./host-step-run";

/** What runs host steps: Pulumi's command provider (a plugin) or `HostStepRun` over SSH from the program itself. */
export type HostStepExecutor = "command" | "in-process";

/** A resource that ran one host step, whichever executor made it: `remote.Command` or `HostStepRun`. */
export type StepResource = pulumi.CustomResource & { readonly stdout: pulumi.Output<string> };

/**
 * Steps whose structure (ids, dependencies, delete scripts) is known now, and whose full content may depend on
 * secret material known only at deploy time. `render(material)` must return steps with the same ids.
 */
export interface StepSource<M> {
  readonly structure: readonly HostStep[];
  readonly material?: pulumi.Output<M>;
  readonly render?: (material: M) => readonly HostStep[];
  /**
   * The same steps rendered with a second placeholder material, different from the structure's in every value. A
   * step rendered the same both ways reads no material: its bundle is the structure's, known at once, and it waits on
   * none of the material's resources (a dozen certificates and the token per step otherwise). Checked against the
   * real rendering at deploy time: a step that renders differently with the material fails the deployment.
   * @default - every step waits on the material
   */
  readonly alternate?: readonly HostStep[];
}

export interface HostStepCommandsOptions {
  readonly parent: pulumi.Resource;
  /** Child name prefix: `${prefix}-${host}-${step}`. */
  readonly prefix: string;
  readonly hosts: readonly Host[];
  /** Extra resources every step waits for (e.g. another component's steps). */
  readonly dependsOn?: readonly pulumi.Resource[];
  /** Commands created earlier (another `hostStepCommands` call) that steps here may name in `dependsOn`. */
  readonly existing?: ReadonlyMap<string, StepResource>;
  /** A gate every command here waits on (e.g. the cross-host pre-flight): see {@link HostStepGate}. */
  readonly gate?: HostStepGate;
  /**
   * `"command"`: one `remote.Command` per step (needs the `pulumi-resource-command` plugin). `"in-process"`: one
   * `HostStepRun` per step, SSH from the program itself (no plugin; for air-gapped operators). Same names,
   * dependencies, gate and triggers either way.
   * @default "command"
   */
  readonly executor?: HostStepExecutor;
  /**
   * How many steps run at once (validated here too). `"in-process"`: every HostStepRun of the stack shares one limiter
   * (overall, per host, hosts at once), the longest waiting chain first. `"command"`: the engine alone bounds it
   * (`pulumi up --parallel N`; Pulumi v3.259.0's default is 4 × the CPUs).
   * @default - ProvisioningLimits' defaults
   */
  readonly provisioning?: ProvisioningLimits;
  /**
   * Where the per-wave progress goes during an update (never in a preview): one line when the steps are registered and
   * one per completed wave, names and counts only.
   * @default - `pulumi.log.info` on the parent when an engine is attached (nothing under mocks)
   */
  readonly log?: (message: string) => void;
}

/**
 * A gate every command waits on: one resource (a `StepGate`) that each command depends on and whose verdict is part
 * of each command's triggers, so that when the verdict fails none of the commands is created; and per host a key
 * (e.g. the hash of that host's own pre-flight) in the triggers of that host's commands only. Each command gets O(1)
 * dependencies from the gate whatever the number of hosts the gate checks.
 */
export interface HostStepGate {
  readonly resource: pulumi.Resource;
  /** The gate's single output: a fixed string once the check passed. */
  readonly verdict: pulumi.Output<string>;
  /** Host name → what re-triggers that host's commands when it changes (its own pre-flight's hash). @default - none */
  readonly hostKeys?: ReadonlyMap<string, string>;
}

/**
 * One resource per host step (`remote.Command`, or `HostStepRun` with `executor: "in-process"`): the bundle goes
 * over stdin (a secret when it carries secret files), the trigger is the bundle's hash, the delete is the inverse
 * bundle, and dependencies mirror the step plan.
 */
export function hostStepCommands<M>(source: StepSource<M>, opts: HostStepCommandsOptions): Map<string, StepResource> {
  const hosts = new Map(opts.hosts.map((h) => [h.name, h]));
  const cmds = new Map<string, StepResource>();
  const alternate = new Map((source.alternate ?? []).map((s) => [s.id, s.hash]));
  const free = new Set(source.structure.filter((s) => alternate.get(s.id) === s.hash).map((s) => s.id));
  const rendered =
    source.material && source.render ? memoRender(source.material, source.render, source.structure, free) : undefined;
  // one connection per host, shared by its steps (the key file read once, one secret Output per host)
  const memo = <T>(make: (h: Host) => T) => {
    const cache = new Map<string, T>();
    return (h: Host): T => {
      let v = cache.get(h.name);
      if (v === undefined) cache.set(h.name, (v = make(h)));
      return v;
    };
  };
  const limits = provisioningLimits(opts.provisioning ?? {});
  const stepConnection = memo(hostStepConnection);
  const commandConnection = memo(hostConnection);
  const byId = new Map(source.structure.map((s) => [s.id, s]));
  const inside = new Set(byId.keys());
  for (const s of source.structure) {
    for (const d of s.dependsOn) {
      if (!inside.has(d) && !opts.existing?.has(d))
        throw new Error(`step "${s.id}" depends on "${d}", which is neither among these steps nor in opts.existing`);
    }
  }
  // plan order (over the steps here): every dependency is created before its dependents
  const ordered = makePlan(
    source.structure.map((s) => ({ ...s, dependsOn: s.dependsOn.filter((d) => inside.has(d)) })),
  ).steps.map((s) => byId.get(s.id)!);
  const priorities = stepPriorities(ordered);
  const chains = groupStepChains(ordered, opts.provisioning?.stepResources ?? "per-step");
  // the delete programs (and commands) first: one that cannot be run fails before any resource is registered
  const deletes = new Map(
    chains.map((c) => {
      const bundle = renderChainDeleteBundle(c.members);
      const host = hosts.get(c.host);
      return [c, { bundle, command: opts.executor !== "in-process" && host ? deleteCommand(host, bundle) : "" }];
    }),
  );
  for (const chain of chains) {
    const members = chain.members;
    const first = members[0]!;
    const host = hosts.get(chain.host);
    if (!host) throw new Error(`step "${first.id}" targets host "${chain.host}", which is not among the hosts`);
    const bundle: pulumi.Output<string> =
      rendered && members.some((m) => !free.has(m.id))
        ? rendered.apply((byId) =>
            renderChainBundle(
              members.map((m) => {
                const s = byId.get(m.id);
                if (!s) throw new Error(`step "${m.id}" disappeared when rendered with its material`);
                return s;
              }),
            ),
          )
        : pulumi.output(renderChainBundle(members));
    const gate = opts.gate;
    const deps = [
      ...chain.dependsOn.map((d) => cmds.get(d) ?? opts.existing!.get(d)!),
      ...(opts.dependsOn ?? []),
      ...(gate ? [gate.resource] : []),
    ];
    const name = `${opts.prefix}-${chain.host}-${chainName(chain)}`;
    const resourceOpts = { parent: opts.parent, dependsOn: deps };
    const deleteBundle = deletes.get(chain)!.bundle;
    // the bundle's hash, the host's own gate key (when it has one), the gate's verdict
    const hostKey = gate?.hostKeys?.get(chain.host);
    const keys = hostKey !== undefined ? [hostKey] : [];
    // every member's id names the chain's resource (a dependent of any member waits on the whole chain)
    const add = (r: StepResource) => {
      for (const m of members) cmds.set(m.id, r);
    };
    if (opts.executor === "in-process") {
      const trigger = gate
        ? pulumi.all([bundle, gate.verdict]).apply(([b, v]) => [sha256(b), ...keys, v].join(" "))
        : bundle.apply(sha256);
      add(
        new HostStepRun(
          name,
          {
            connection: stepConnection(host),
            bundle,
            deleteBundle,
            trigger,
            limits,
            priority: Math.max(...members.map((m) => priorities.get(m.id) ?? 0)),
          },
          resourceOpts,
        ),
      );
      continue;
    }
    const sudoPassword = host.ssh.sudoPassword as pulumi.Input<string> | undefined;
    // the password never shares a stream with the program bash reads (see rootCommand)
    const stdin =
      sudoPassword !== undefined && host.ssh.user !== "root"
        ? pulumi.all([sudoPassword, bundle]).apply(([pw, b]) => rootStdin({ user: host.ssh.user, sudoPassword: pw }, b))
        : bundle;
    add(
      new command.remote.Command(
        name,
        {
          connection: commandConnection(host),
          create: runAsRootCommand(host),
          update: runAsRootCommand(host),
          stdin: members.some((m) => m.secret) || rendered || sudoPassword !== undefined ? pulumi.secret(stdin) : stdin,
          triggers: [bundle.apply(sha256), ...(gate ? [...keys, gate.verdict] : [])],
          delete: deletes.get(chain)!.command,
          logging: "stdoutAndStderr",
          addPreviousOutputInEnv: false,
        },
        { ...resourceOpts, additionalSecretOutputs: ["stdin"], deleteBeforeReplace: false },
      ),
    );
  }
  // an engine to log to (not under mocks, not in a preview), or a log given
  const log =
    opts.log ?? (pulumi.runtime.hasEngine() ? (m: string) => void pulumi.log.info(m, opts.parent) : undefined);
  if (log && !pulumi.runtime.isDryRun() && ordered.length > 0)
    reportProgress(ordered, cmds, opts.prefix, opts.executor, limits, log);
  return cmds;
}

/**
 * Logs one line when the steps are registered and one per wave once every step of it has run (its resource's outputs
 * resolved): `<prefix>: wave 2/4 done: 33 steps on 33 hosts; 39 of 80 steps done (+41.2 s)`. No secret: ids and counts.
 */
function reportProgress(
  ordered: readonly HostStep[],
  cmds: ReadonlyMap<string, StepResource>,
  prefix: string,
  executor: HostStepExecutor | undefined,
  limits: ReturnType<typeof provisioningLimits>,
  log: (message: string) => void,
): void {
  const progress = new WaveProgress(ordered);
  const hosts = new Set(ordered.map((s) => s.host)).size;
  const t0 = Date.now();
  log(
    `${prefix}: ${ordered.length} host steps in ${progress.waves} waves on ${hosts} hosts; ` +
      (executor === "in-process"
        ? `at most ${limits.maxConcurrentSteps} at once, ${limits.maxStepsPerHost} per host, ${limits.maxConcurrentHosts} hosts at once`
        : "as many at once as `pulumi up --parallel` allows"),
  );
  for (const step of ordered) {
    // no changed count: a step that did not run in this update keeps the stdout (and count) of its last run
    cmds.get(step.id)!.stdout.apply(() => {
      const line = progress.finished(step.id);
      if (line) log(`${prefix}: ${line} (+${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    });
  }
}

/** Linux's longest single argv string (include/uapi/linux/binfmts.h: 32 × 4 KiB pages). */
const MAX_ARG_STRLEN = 131_072;

/**
 * The delete command carries its (secret-free) bundle inline, base64-encoded. It runs with the stdin stored from the
 * create (pulumi-command v1.2.1 provider/pkg/provider/remote/commandController.go: Delete runs `props.run` on the
 * stored state, whose Stdin commandOutputs.go:73 feeds to the session): with a sudo password that stdin starts with
 * the password line `rootCommand` reads, so a delete takes the same `sudo -S` path as the create.
 */
export function deleteCommand(host: Host, bundle: string): string {
  const b64 = Buffer.from(bundle, "utf8").toString("base64");
  const sudo = host.ssh.sudoPassword !== undefined ? "set" : undefined;
  const cmd = rootCommand({ user: host.ssh.user, sudoPassword: sudo }, b64);
  // sshd runs the command as one argument of the login shell (`$SHELL -c <command>`): Linux refuses a single
  // argument longer than MAX_ARG_STRLEN, 32 pages = 128 KiB (include/uapi/linux/binfmts.h), with E2BIG
  if (Buffer.byteLength(cmd) >= MAX_ARG_STRLEN)
    throw new Error(
      `${bundle.split("\n", 2)[1]?.slice(2) ?? "a step"} on ${host.name}: its delete command is ${Buffer.byteLength(cmd)} bytes, more than one argument may hold (${MAX_ARG_STRLEN}); use executor "in-process" (its delete goes over stdin) or per-step resources`,
    );
  return cmd;
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

function memoRender<M>(
  material: pulumi.Output<M>,
  render: (m: M) => readonly HostStep[],
  structure: readonly HostStep[],
  free: ReadonlySet<string>,
): pulumi.Output<Map<string, HostStep>> {
  return material.apply((m) => {
    const byId = new Map(render(m).map((s) => [s.id, s]));
    for (const s of structure) {
      if (free.has(s.id) && byId.get(s.id)?.hash !== s.hash)
        throw new Error(
          `step "${s.id}" rendered the same with two placeholder materials but differently with the real one: it reads the material and must wait on it`,
        );
    }
    return byId;
  });
}
