import { z } from "zod";
import { ARCHES } from "../platform/arch";
import { HostCapabilitiesSchema } from "./capabilities";
import { OS_IDS } from "../platform/os";
import { dnsLabel, labels, taint } from "../validation/kubernetes";
import { address } from "../validation/net";
import { publicKeyLine, publicKeyWithoutComment, sshUser } from "../validation/ssh";
import { httpOrHttpsUrl, insecureFlag, requireHttpsUnlessInsecure } from "../validation/url";

/** A value that may still be unknown at validation time (a Pulumi Output or Promise); checked at render time. */
export const deferred = z.custom<unknown>((v) => v !== null && typeof v === "object" && ("apply" in v || "then" in v));

export const HOST_ROLES = ["etcd", "server", "agent", "edge", "nfs", "registry"] as const;
export type HostRole = (typeof HOST_ROLES)[number];

const sshEndpoint = {
  /** @default "root" */
  user: sshUser.default("root"),
  /** @default 22 */
  port: z.number().int().min(1).max(65535).default(22),
};

/** A pinned host public key: one `.pub` line (`ssh-ed25519 AAAA… comment`); the comment is dropped. */
const hostKey = publicKeyLine.transform(publicKeyWithoutComment);

export const JumpHostSchema = z.strictObject({
  /** IPv4, IPv6 or DNS name of the bastion. */
  address,
  ...sshEndpoint,
  /** @default - the target host's key */
  privateKey: z.union([z.string().min(1), deferred]).optional(),
  /** Pinned host public key of the jump host. @default - the first key seen is trusted */
  hostKey: hostKey.optional(),
});

export const SshSchema = z.strictObject({
  ...sshEndpoint,
  /** PEM/OpenSSH private key; a secret (Pulumi config `--secret`). */
  privateKey: z.union([z.string().min(1), deferred]).optional(),
  /** Path of a private key file on the machine that runs edgecloud (read only when connecting). */
  privateKeyPath: z.string().min(1).optional(),
  /** Pinned host public key (`ssh-ed25519 AAAA… [comment]`, the `.pub` file); without it the first key seen is trusted. */
  hostKey: hostKey.optional(),
  /** For a non-root user whose sudo asks for a password; a secret, sent on stdin only. */
  sudoPassword: z.union([z.string().min(1), deferred]).optional(),
  jumpHost: JumpHostSchema.optional(),
});

/** `key[=value]:Effect`. */
export const TaintSchema = taint;

export const PreflightMinimaSchema = z.strictObject({
  cpus: z.number().int().min(1).optional(),
  memoryGiB: z.number().positive().optional(),
  diskGiB: z.number().positive().optional(),
});

/**
 * Where a CentOS 7 host gets its packages. CentOS 7 reached its end of life on 2024-06-30: its stock repositories
 * (mirrorlist.centos.org) are gone and the content lives on only at vault.centos.org and its mirrors. edgecloud
 * points yum at `<baseUrl>/{os,updates,extras}/$basearch/` (the vault's layout, e.g.
 * https://vault.centos.org/7.9.2009; aarch64 lives under https://vault.centos.org/altarch/7.9.2009) and moves the
 * stock CentOS-Base.repo aside; the inverse restores it.
 */
export const PackageMirrorSchema = z
  .strictObject({
    baseUrl: httpOrHttpsUrl,
    /** Accept a plain http:// mirror (packages are still gpg-checked). */
    insecure: insecureFlag,
  })
  .superRefine(requireHttpsUnlessInsecure("baseUrl"));

export const HostSchema = z.strictObject({
  /** Node name: K3s registers nodes by it, so it must be unique. */
  name: dnsLabel,
  /** Address edgecloud connects to and the cluster uses (IPv4, IPv6 or DNS name). */
  address,
  /** @default - `address` */
  internalAddress: address.optional(),
  ssh: SshSchema,
  os: z.enum(OS_IDS),
  arch: z.enum(ARCHES),
  roles: z.array(z.enum(HOST_ROLES)).min(1),
  /** @default {} */
  labels: labels.default({}),
  /** @default [] */
  taints: z.array(TaintSchema).default([]),
  /** Overrides of the per-role minima checked by pre-flight. @default - the role's minima */
  minima: PreflightMinimaSchema.optional(),
  /** centos-7 only: the vault or a mirror its packages come from. @default - the host's own yum configuration */
  packageMirror: PackageMirrorSchema.optional(),
  /**
   * GPU, Kata, KVM, real-time, hugepages, SR-IOV: installed, checked by pre-flight, labelled (and GPU/real-time
   * nodes tainted) by edgecloud. @default - none
   */
  capabilities: HostCapabilitiesSchema.optional(),
});

export type HostInput = z.input<typeof HostSchema>;
export type Host = z.output<typeof HostSchema>;
export type SshConnection = z.output<typeof SshSchema>;

/** The address peers use to reach the host. */
export function internalAddress(h: Host): string {
  return h.internalAddress ?? h.address;
}

export function hasRole(h: Host, role: HostRole): boolean {
  return h.roles.includes(role);
}
