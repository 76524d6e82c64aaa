import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import { readFileSync } from "fs";
import { Host } from "../hosts/host";
import { rootCommand, type HostStepConnectionArgs } from "./host-step-run";

type ConnectionArgs = command.types.input.remote.ConnectionArgs;

/**
 * The command provider's connection for a host: private key as a secret, pinned host key when given, jump host
 * as proxy, bounded dial retries (pulumi-command#199/#1238).
 */
export function hostConnection(host: Host): ConnectionArgs {
  const s = host.ssh;
  const key = s.privateKey !== undefined ? (s.privateKey as pulumi.Input<string>) : readFileSync(s.privateKeyPath!, "utf8");
  const jump = s.jumpHost;
  return {
    host: host.address,
    port: s.port,
    user: s.user,
    privateKey: pulumi.secret(key),
    ...(s.hostKey ? { hostKey: s.hostKey } : {}),
    dialErrorLimit: 20,
    perDialTimeout: 15,
    ...(jump
      ? {
          proxy: {
            host: jump.address,
            port: jump.port,
            user: jump.user,
            privateKey: pulumi.secret((jump.privateKey as pulumi.Input<string> | undefined) ?? key),
            ...(jump.hostKey ? { hostKey: jump.hostKey } : {}),
          },
        }
      : {}),
  };
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
  const s = host.ssh;
  const key = s.privateKey !== undefined ? (s.privateKey as pulumi.Input<string>) : readFileSync(s.privateKeyPath!, "utf8");
  const jump = s.jumpHost;
  return {
    host: host.address,
    port: s.port,
    user: s.user,
    privateKey: pulumi.secret(key),
    ...(s.hostKey ? { hostKey: s.hostKey } : {}),
    ...(s.sudoPassword !== undefined ? { sudoPassword: pulumi.secret(s.sudoPassword as pulumi.Input<string>) } : {}),
    ...(jump
      ? {
          jumpHost: {
            host: jump.address,
            port: jump.port,
            user: jump.user,
            privateKey: pulumi.secret((jump.privateKey as pulumi.Input<string> | undefined) ?? key),
            ...(jump.hostKey ? { hostKey: jump.hostKey } : {}),
          },
        }
      : {}),
  };
}
