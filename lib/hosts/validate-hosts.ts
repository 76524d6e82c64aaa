import { IssueCollector, parseInto } from "../validation/issues";
import { checkCapabilities, checkCapabilitiesAcrossHosts } from "./capabilities";
import { Host, HostSchema } from "./host";

/** Parses every host and applies the cross-host rules; problems are recorded, valid hosts returned. */
export function validateHosts(input: unknown, issues: IssueCollector, base = "hosts"): Host[] {
  if (!Array.isArray(input)) {
    issues.add(base, input, "must be a list of hosts");
    return [];
  }
  const hosts: Host[] = [];
  input.forEach((raw, i) => {
    const h = parseInto(HostSchema, raw, issues, `${base}[${i}]`);
    if (h) hosts.push(h);
  });
  if (hosts.length !== input.length) return hosts;
  const seenName = new Map<string, number>();
  const seenAddr = new Map<string, number>();
  hosts.forEach((h, i) => {
    const prev = seenName.get(h.name);
    if (prev !== undefined) {
      issues.add(
        `${base}[${i}].name`,
        h.name,
        `is used twice (${base}[${prev}]); host names must be unique (K3s registers nodes by name)`,
      );
    } else seenName.set(h.name, i);
    const prevA = seenAddr.get(h.address);
    if (prevA !== undefined) {
      issues.add(
        `${base}[${i}].address`,
        h.address,
        `is used twice (${base}[${prevA}]); each host needs its own address`,
      );
    } else seenAddr.set(h.address, i);
    if (h.packageMirror && h.os !== "centos-7") {
      issues.add(
        `${base}[${i}].packageMirror`,
        h.packageMirror.baseUrl,
        `is supported on centos-7 only (whose stock repositories are gone), not ${h.os}; configure that host's own package repositories`,
      );
    }
    checkCapabilities(h, issues, `${base}[${i}]`);
    const s = h.ssh;
    if (s.privateKey === undefined && s.privateKeyPath === undefined) {
      issues.add(
        `${base}[${i}].ssh`,
        undefined,
        "has no private key; set ssh.privateKey (a secret) or ssh.privateKeyPath",
      );
    }
    if (s.privateKey !== undefined && s.privateKeyPath !== undefined) {
      issues.add(`${base}[${i}].ssh`, undefined, "sets both privateKey and privateKeyPath; set exactly one");
    }
  });
  checkCapabilitiesAcrossHosts(hosts, issues, base);
  return hosts;
}
