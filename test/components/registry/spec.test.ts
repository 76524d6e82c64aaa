import { validateRegistry, RegistrySpecInput } from "../../../components/registry";
import { IssueCollector } from "../../../lib/validation/issues";
import { testHosts } from "./fixtures";

function problems(input: unknown): string[] {
  const issues = new IssueCollector();
  validateRegistry(input, testHosts(), issues);
  return issues.issues.map((i) =>
    i.value === undefined ? `${i.path}: ${i.message}` : `${i.path} ${JSON.stringify(i.value)} ${i.message}`,
  );
}

describe("validateRegistry", () => {
  test("GIVEN an in-cluster registry with a NodePort WHEN validated THEN the endpoint is the first server's address and the SANs cover every node", () => {
    const issues = new IssueCollector();
    const plan = validateRegistry({ mode: { kind: "in-cluster", nodePort: 32500 } }, testHosts(), issues);
    expect(issues.issues).toEqual([]);
    expect(plan!.endpoint).toBe("10.0.0.11:32500");
    expect(plan!.spec.version).toBe("3.0.0");
    expect(plan!.spec.tls).toEqual({ kind: "generated", validityDays: 3650, extraSans: [] });
    expect(plan!.sans.ips).toEqual(["10.0.0.11", "10.0.0.12", "10.0.0.21", "127.0.0.1"]);
    expect(plan!.sans.dnsNames).toEqual([
      "localhost",
      "registry",
      "registry.registry",
      "registry.registry.svc",
      "registry.registry.svc.cluster.local",
    ]);
  });

  test("GIVEN host mode WHEN validated THEN the endpoint is the host's address and port", () => {
    const issues = new IssueCollector();
    const plan = validateRegistry({ mode: { kind: "host", host: "store-1" } }, testHosts(), issues);
    expect(issues.issues).toEqual([]);
    expect(plan!.endpoint).toBe("10.0.0.31:5000");
    expect(plan!.host!.name).toBe("store-1");
  });

  test("GIVEN auth without nodeUser WHEN validated THEN the first user goes to the nodes", () => {
    const issues = new IssueCollector();
    const plan = validateRegistry(
      { mode: { kind: "in-cluster", nodePort: 32500 }, auth: { users: [{ username: "a", password: "p" }] } },
      testHosts(),
      issues,
    );
    expect(plan!.nodeUser).toBe("a");
  });

  const cases: [string, RegistrySpecInput | Record<string, unknown>, string[]][] = [
    [
      "a NodePort out of range",
      { mode: { kind: "in-cluster", nodePort: 99999 } },
      ["registry.mode.nodePort 99999 must be <= 32767"],
    ],
    [
      "an unknown field",
      { mode: { kind: "in-cluster", nodePort: 32500 }, bogus: 1 },
      ['registry: unknown field "bogus"'],
    ],
    [
      "an unknown mode",
      { mode: { kind: "docker" } },
      [expect.stringMatching(/^registry.mode.kind "docker" /) as unknown as string],
    ],
    [
      "an in-cluster registry nodes cannot reach",
      { mode: { kind: "in-cluster" } },
      [
        "registry.mode: gives the nodes no way to reach the registry; set nodePort (e.g. 32500), ingress or endpoint (containerd on the nodes cannot resolve cluster DNS)",
      ],
    ],
    [
      "an Ingress endpoint with TLS and no TLS secret",
      { mode: { kind: "in-cluster", ingress: { host: "registry.example.com" } } },
      [
        'registry.mode.ingress.tlsSecretName: is required when nodes pull through the Ingress with TLS on; set it, or set tls.kind "none" to terminate TLS elsewhere',
      ],
    ],
    [
      "two replicas on a ReadWriteOnce volume",
      { mode: { kind: "in-cluster", nodePort: 32500, replicas: 2 }, gc: { enabled: false } },
      [
        'registry.mode.replicas 2 needs storage.accessMode "ReadWriteMany"; replicas cannot share a ReadWriteOnce volume',
      ],
    ],
    [
      "more replicas than K3s nodes (one replica per node, required anti-affinity)",
      { mode: { kind: "in-cluster", nodePort: 32500, replicas: 4, storage: { accessMode: "ReadWriteMany" } } },
      [
        "registry.mode.replicas 4 exceeds the 3 K3s node(s) the registry's pods can run on: replicas are spread one per node (required pod anti-affinity), so a lost node loses one replica; use at most 3",
      ],
    ],
    [
      "a GC schedule for one in-cluster replica (GC runs at each registry start there)",
      { mode: { kind: "in-cluster", nodePort: 32500 }, gc: { schedule: "0 3 * * *" } },
      [
        'registry.gc.schedule "0 3 * * *" applies to host mode and to in-cluster mode with replicas >= 2; one in-cluster replica collects each time its pod starts, before it serves (restart the Deployment to collect)',
      ],
    ],
    [
      "an in-cluster allowFrom that is not a CIDR",
      { mode: { kind: "in-cluster", nodePort: 32500, allowFrom: ["10.42.0.0/33"] } },
      ['registry.mode.allowFrom[0] "10.42.0.0/33" must be an IPv4 CIDR such as 10.42.0.0/16 (a single host is /32)'],
    ],
    [
      "a host that does not exist",
      { mode: { kind: "host", host: "nope" } },
      ['registry.mode.host "nope" is not among the hosts (server-1, server-2, agent-1, store-1)'],
    ],
    [
      "a host that is not Debian",
      { mode: { kind: "host", host: "agent-1" } },
      [
        'registry.mode.host "agent-1" runs rocky-9; host mode needs a Debian or Ubuntu host (the docker-registry package)',
      ],
    ],
    [
      "a version in host mode",
      { mode: { kind: "host", host: "store-1" }, version: "3.0.0" },
      [
        'registry.version "3.0.0" applies to in-cluster mode only; host mode runs Debian\'s docker-registry (distribution 2.x)',
      ],
    ],
    [
      "a weekly GC schedule in host mode",
      { mode: { kind: "host", host: "store-1" }, gc: { schedule: "0 1 * * 0" } },
      [
        'registry.gc.schedule "0 1 * * 0" is not a daily schedule "M H * * *"; host mode runs garbage collection from a daily systemd timer',
      ],
    ],
    [
      "a user twice",
      {
        mode: { kind: "in-cluster", nodePort: 32500 },
        auth: {
          users: [
            { username: "a", password: "p" },
            { username: "a", password: "q" },
          ],
        },
      },
      ['registry.auth.users[1].username "a" is used twice (registry.auth.users[0]); user names must be unique'],
    ],
    [
      "a password bcrypt would truncate",
      { mode: { kind: "in-cluster", nodePort: 32500 }, auth: { users: [{ username: "a", password: "x".repeat(73) }] } },
      ["registry.auth.users[0].password: is longer than 72 bytes; bcrypt ignores everything after byte 72"],
    ],
    [
      "a node user that does not exist",
      {
        mode: { kind: "in-cluster", nodePort: 32500 },
        auth: { users: [{ username: "a", password: "p" }], nodeUser: "b" },
      },
      ['registry.auth.nodeUser "b" is not among auth.users (a)'],
    ],
    [
      "a proxy password without user",
      {
        mode: { kind: "in-cluster", nodePort: 32500 },
        proxy: { remoteUrl: "https://registry-1.docker.io", password: "x" },
      },
      ["registry.proxy.username: is required when proxy.password is set"],
    ],
    [
      "a plain-HTTP proxy remote",
      { mode: { kind: "in-cluster", nodePort: 32500 }, proxy: { remoteUrl: "http://mirror" } },
      [
        'registry.proxy.remoteUrl "http://mirror" uses plain http://, which anyone on the path can tamper with; use https://',
      ],
    ],
    [
      "a bad version",
      { mode: { kind: "in-cluster", nodePort: 32500 }, version: "latest" },
      ['registry.version "latest" must be a distribution release such as 3.0.0 or 2.8.3'],
    ],
    [
      "a bad size",
      { mode: { kind: "in-cluster", nodePort: 32500, storage: { size: "20GB" } } },
      ['registry.mode.storage.size "20GB" must be a binary quantity such as 20Gi'],
    ],
    [
      "a bad body size",
      { mode: { kind: "in-cluster", nodePort: 32500, ingress: { host: "r.example.com", maxBodySize: "lots" } } },
      ['registry.mode.ingress.maxBodySize "lots" must be 0 (unlimited) or a size such as 512m'],
    ],
    [
      "--delete-untagged in host mode (distribution 2.x)",
      { mode: { kind: "host", host: "store-1" }, gc: { deleteUntagged: true } },
      [
        "registry.gc.deleteUntagged true is refused in host mode: Debian's docker-registry is distribution 2.x, whose garbage-collect --delete-untagged deletes the platform images of multi-arch tags (fixed in v3.0.0 only)",
      ],
    ],
    [
      "an endpoint with a scheme",
      { mode: { kind: "in-cluster", endpoint: "https://r:5000" } },
      [
        'registry.mode.endpoint "https://r:5000" must be host[:port] without a scheme, e.g. 10.0.0.11:32500 or [fd00::11]:32500 (port 1-65535)',
      ],
    ],
  ];
  test("GIVEN host mode on ubuntu-20.04 THEN it is refused (systemd 245 has no LoadCredential=)", () => {
    const issues = new IssueCollector();
    const hosts = testHosts().map((h) => (h.name === "store-1" ? { ...h, os: "ubuntu-20.04" as const } : h));
    validateRegistry({ mode: { kind: "host", host: "store-1" } }, hosts, issues);
    expect(issues.issues.map((i) => `${i.path} ${JSON.stringify(i.value)} ${i.message}`)).toEqual([
      'registry.mode.host "store-1" runs ubuntu-20.04, whose systemd 245 lacks LoadCredential= (systemd 247), which the registry\'s unit uses for its key and htpasswd; use Ubuntu 22.04 or later, Debian 11 or later, or in-cluster mode',
    ]);
  });

  test("GIVEN 3 K3s nodes of which a GPU agent and a tainted server WHEN 2 replicas are asked THEN refused: the registry's pods tolerate neither taint", () => {
    const hosts = testHosts().map((h) =>
      h.name === "agent-1"
        ? { ...h, os: "ubuntu-22.04" as const, capabilities: { gpu: { vendor: "nvidia" as const, count: 1 } } }
        : h.name === "server-2"
          ? { ...h, taints: ["CriticalAddonsOnly=true:NoExecute"] }
          : h,
    );
    const ha = { mode: { kind: "in-cluster", nodePort: 32500, replicas: 2, storage: { accessMode: "ReadWriteMany" } } };
    const issues = new IssueCollector();
    validateRegistry(ha, hosts, issues);
    expect(issues.issues.map((i) => `${i.path} ${JSON.stringify(i.value)} ${i.message}`)).toEqual([
      "registry.mode.replicas 2 exceeds the 1 K3s node(s) the registry's pods can run on (server-2, agent-1 are tainted, which the registry does not tolerate): replicas are spread one per node (required pod anti-affinity), so a lost node loses one replica; use at most 1",
    ]);
    // a PreferNoSchedule taint does not keep the pods off
    const soft = hosts.map((h) => (h.name === "server-2" ? { ...h, taints: ["spare=true:PreferNoSchedule"] } : h));
    const again = new IssueCollector();
    validateRegistry(ha, soft, again);
    expect(again.issues).toEqual([]);
  });

  test.each(cases)("GIVEN %s WHEN validated THEN the exact problem is reported", (_what, input, expected) => {
    expect(problems(input)).toEqual(expected);
  });

  test("GIVEN several problems WHEN validated THEN all are reported together", () => {
    expect(
      problems({
        mode: { kind: "in-cluster", replicas: 4 },
        auth: { users: [{ username: "a", password: "p" }], nodeUser: "z" },
      }),
    ).toHaveLength(4);
  });
});
