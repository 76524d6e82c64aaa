import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import { readFileSync } from "fs";
import { Host } from "../hosts/host";
import { rootCommand, type HostStepConnectionArgs } from "./host-step-run";

type ConnectionArgs = command.types.input.remote.ConnectionArgs;

interface SshEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: pulumi.Output<string>;
  readonly hostKey?: string;
}

/** Where and how to reach a host and its optional jump host; keys as secrets, a key path read here. */
function sshEndpoints(host: Host): { target: SshEndpoint; jump?: SshEndpoint } {
  const s = host.ssh;
  const key =
    s.privateKey !== undefined ? (s.privateKey as pulumi.Input<string>) : readFileSync(s.privateKeyPath!, "utf8");
  const target = {
    host: host.address,
    port: s.port,
    user: s.user,
    privateKey: pulumi.secret(key),
    ...(s.hostKey ? { hostKey: s.hostKey } : {}),
  };
  const j = s.jumpHost;
  if (!j) return { target };
  const jumpKey = (j.privateKey as pulumi.Input<string> | undefined) ?? key;
  return {
    target,
    jump: {
      host: j.address,
      port: j.port,
      user: j.user,
      privateKey: pulumi.secret(jumpKey),
      ...(j.hostKey ? { hostKey: j.hostKey } : {}),
    },
  };
}

/**
 * The command provider's connection for a host: private key as a secret, pinned host key when given, jump host
 * as proxy, bounded dial retries (pulumi-command#199/#1238).
 */
export function hostConnection(host: Host): ConnectionArgs {
  const { target, jump } = sshEndpoints(host);
  return { ...target, dialErrorLimit: 20, perDialTimeout: 15, ...(jump ? { proxy: jump } : {}) };
}

/** The remote command that runs a bundle read from stdin, as root. */
export function runAsRootCommand(host: Host): string {
  return rootCommand({ user: host.ssh.user, sudoPassword: host.ssh.sudoPassword as string | undefined });
}

/**
 * The in-process executor's connection for a host (`HostStepRun`): the same key, pinned host key, jump host and
 * sudo password as `hostConnection`; the provider dials with bounded retries (15 s per try, 20 tries).
 */
export function hostStepConnection(host: Host): HostStepConnectionArgs {
  const { target, jump } = sshEndpoints(host);
  const sudo = host.ssh.sudoPassword;
  return {
    ...target,
    ...(sudo !== undefined ? { sudoPassword: pulumi.secret(sudo as pulumi.Input<string>) } : {}),
    ...(jump ? { jumpHost: jump } : {}),
  };
}
