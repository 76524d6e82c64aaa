import { execFileSync } from "child_process";
import { Host, HostSchema } from "../../../lib/hosts/host";
import { renderDeleteBundle, renderStepBundle } from "../../../lib/steps/bundle";
import { HostStep } from "../../../lib/steps/host-step";

/** Hosts of a small edge environment: two servers, one agent (Rocky), one NFS/registry host. */
export function testHosts(): Host[] {
  const h = (name: string, address: string, os: string, roles: string[]) =>
    HostSchema.parse({ name, address, internalAddress: address, ssh: { privateKey: "KEY" }, os, arch: "amd64", roles });
  return [
    h("server-1", "10.0.0.11", "debian-12", ["server", "etcd"]),
    h("server-2", "10.0.0.12", "ubuntu-22.04", ["server", "etcd"]),
    h("agent-1", "10.0.0.21", "rocky-9", ["agent"]),
    h("store-1", "10.0.0.31", "debian-12", ["nfs", "registry"]),
  ];
}

/** Runs shellcheck on a step's bundle and its delete bundle; returns shellcheck's findings (empty when clean). */
export function shellcheckStep(step: HostStep): string {
  return [renderStepBundle(step), renderDeleteBundle(step)].map(shellcheck).join("");
}

function shellcheck(bundle: string): string {
  try {
    execFileSync("shellcheck", ["-s", "bash", "-"], { input: bundle, stdio: ["pipe", "pipe", "pipe"] });
    return "";
  } catch (e) {
    return String((e as { stdout?: Buffer }).stdout ?? e);
  }
}

/** Placeholder PEMs for renderer tests (renderers never parse them). */
export const FAKE_CERT = "-----BEGIN CERTIFICATE-----\nMIIBfakeleaf\n-----END CERTIFICATE-----\n";
export const FAKE_CA = "-----BEGIN CERTIFICATE-----\nMIIBfakeca\n-----END CERTIFICATE-----\n";
export const FAKE_KEY = "-----BEGIN PRIVATE KEY-----\nMIGHfakekey\n-----END PRIVATE KEY-----\n";
