import * as pulumi from "@pulumi/pulumi";
import { existsSync } from "fs";
import { isAbsolute, resolve } from "path";
import type { HostStepExecutor } from "../lib/pulumi/host-step-commands";
import { ProvisioningLimits, provisioningLimits } from "../lib/steps/provisioning";
import { environmentFile, readEnvironmentFile, refuseInlineSecrets } from "./environment";
import { resolveSecretRefs } from "./secret-refs";

/** Typed stack config (`Pulumi.<stack>.yaml`, namespace `edgecloud`). */
export interface StackConfig {
  /** A bundled environment name (`environments/<name>.yaml`) or a path to an environment file. */
  readonly environment: string;
  /** One private key for every host, overriding the files' `ssh.privateKeyPath` (`pulumi config set --secret edgecloud:sshPrivateKey < key`). @default - each host's ssh settings */
  readonly sshPrivateKey?: pulumi.Output<string>;
  /** Rancher's registration manifest URL (secret; multi-site stacks). @default - none */
  readonly rancherManifestUrl?: pulumi.Output<string>;
  /**
   * What runs the host steps (`edgecloud:executor`): `command` (Pulumi's command provider plugin) or `in-process`
   * (SSH from the program itself, no plugin: for air-gapped operators). @default "command"
   */
  readonly executor?: HostStepExecutor;
  /**
   * How many host steps run at once (`edgecloud:provisioning`, an object: `pulumi config set --path
   * edgecloud:provisioning.maxConcurrentSteps 16`), validated here; see docs/provisioning.md.
   * @default - ProvisioningLimits' defaults
   */
  readonly provisioning?: ProvisioningLimits;
}

const EXECUTORS: readonly HostStepExecutor[] = ["command", "in-process"];

export function readStackConfig(config = new pulumi.Config("edgecloud")): StackConfig {
  const executor = config.get("executor");
  if (executor !== undefined && !EXECUTORS.includes(executor as HostStepExecutor)) {
    throw new Error(`edgecloud:executor "${executor}" is not an executor; use one of: ${EXECUTORS.join(", ")}`);
  }
  const provisioning = config.getObject<ProvisioningLimits>("provisioning");
  if (provisioning !== undefined) provisioningLimits(provisioning, "edgecloud:provisioning");
  return {
    // Pulumi.yaml declares the key with the default "": empty means the stack name
    environment: config.get("environment") || pulumi.getStack(),
    ...(config.get("sshPrivateKey") !== undefined ? { sshPrivateKey: config.requireSecret("sshPrivateKey") } : {}),
    ...(config.get("rancherManifestUrl") !== undefined
      ? { rancherManifestUrl: config.requireSecret("rancherManifestUrl") }
      : {}),
    ...(executor !== undefined ? { executor: executor as HostStepExecutor } : {}),
    ...(provisioning !== undefined ? { provisioning } : {}),
  };
}

/**
 * The environment file of a stack, parsed (secrets written inline in it refused, as by `loadEnvironment`), with every
 * `{ secret: name }` reference replaced by the secret stack config `edgecloud:<name>` and, when `sshPrivateKey` is
 * set, every host's key replaced by it.
 */
export function stackEnvironment(cfg: StackConfig, config = new pulumi.Config("edgecloud")): Record<string, unknown> {
  const file = /[/\\]|\.ya?ml$|\.json$/.test(cfg.environment)
    ? isAbsolute(cfg.environment)
      ? cfg.environment
      : resolve(cfg.environment)
    : environmentFile(cfg.environment);
  if (!existsSync(file)) throw new Error(`edgecloud:environment "${cfg.environment}": ${file} does not exist`);
  const raw = readEnvironmentFile(file);
  // the same refusal as the CLI's loadEnvironment: a secret written in the file is named, unless it opts in
  refuseInlineSecrets(raw, file);
  return prepareEnvironment(raw, {
    secrets: (name) => config.requireSecret(name),
    sshPrivateKey: cfg.sshPrivateKey,
  });
}

/** Resolves secret references and applies the one-key-for-all-hosts override to a parsed environment. */
export function prepareEnvironment(
  raw: unknown,
  opts: { secrets: (name: string) => unknown; sshPrivateKey?: pulumi.Input<string> },
): Record<string, unknown> {
  const env = resolveSecretRefs(raw, opts.secrets) as Record<string, unknown>;
  if (opts.sshPrivateKey !== undefined && Array.isArray(env.hosts)) {
    env.hosts = env.hosts.map((h: Record<string, unknown>) => {
      const { privateKeyPath: _drop, ...ssh } = (h.ssh ?? {}) as Record<string, unknown>;
      void _drop;
      return { ...h, ssh: { ...ssh, privateKey: opts.sshPrivateKey } };
    });
  }
  return env;
}
