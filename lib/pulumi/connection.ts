import * as pulumi from "@pulumi/pulumi";
import type * as command from "@pulumi/command";
import { readFileSync } from "fs";
import { Host } from "../hosts/host";

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
  if (host.ssh.user === "root") return "bash -s";
  return host.ssh.sudoPassword !== undefined ? "sudo -S -p '' bash -s" : "sudo -n bash -s";
}
