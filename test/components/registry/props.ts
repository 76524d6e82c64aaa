import { RegistryProps, RegistrySpecInput, validateRegistry } from "../../../components/registry";
import { IssueCollector } from "../../../lib/validation/issues";
import { FAKE_CA, FAKE_CERT, FAKE_KEY, testHosts } from "./fixtures";

/** Validated registry props with test secrets. */
export function registryProps(input: RegistrySpecInput): RegistryProps {
  const issues = new IssueCollector();
  const plan = validateRegistry(input, testHosts(), issues);
  issues.throwIfAny();
  const spec = plan!.spec;
  return {
    spec,
    endpoint: plan!.endpoint,
    mirrorEndpoints: plan!.mirrorEndpoints,
    nodeAddresses: plan!.nodeAddresses,
    host: plan!.host,
    users: (spec.auth?.users ?? []).map((u) => ({ username: u.username, password: String(u.password) })),
    nodeUser: plan!.nodeUser,
    httpSecret: "0123456789abcdef0123456789abcdef",
    tls:
      spec.tls.kind === "none"
        ? { kind: "none" }
        : { kind: "tls", certPem: FAKE_CERT, keyPem: FAKE_KEY, caPem: FAKE_CA },
    proxyPassword: spec.proxy?.password !== undefined ? String(spec.proxy.password) : undefined,
  };
}

export const AUTH = {
  users: [
    { username: "ci", password: "ci-password" },
    { username: "node", password: "node-password" },
  ],
  nodeUser: "node",
};
