import {
  NfsProvisionerProps,
  NfsProvisionerSpecInput,
  validateNfsProvisioner,
} from "../../../components/nfs-provisioner";
import { Host } from "../../../lib/hosts/host";
import { IssueCollector } from "../../../lib/validation/issues";
import { testHosts } from "../registry/fixtures";

export function nfsProps(input: NfsProvisionerSpecInput, hosts: Host[] = testHosts()): NfsProvisionerProps {
  const issues = new IssueCollector();
  const props = validateNfsProvisioner(input, hosts, issues);
  issues.throwIfAny();
  return props!;
}

export function nfsProblems(input: unknown, hosts: Host[] = testHosts()): string[] {
  const issues = new IssueCollector();
  validateNfsProvisioner(input, hosts, issues);
  return issues.issues.map((i) =>
    i.value === undefined ? `${i.path}: ${i.message}` : `${i.path} ${JSON.stringify(i.value)} ${i.message}`,
  );
}

/** testHosts() with the NFS host on another OS. */
export function hostsWithNfsOn(os: string): Host[] {
  return testHosts().map((h) => (h.name === "store-1" ? { ...h, os: os as Host["os"] } : h));
}
