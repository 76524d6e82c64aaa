import { droneProblems, droneProps, GOGS_IN_CLUSTER } from "./props";

describe("validateDroneCi", () => {
  test("GIVEN an in-cluster Gogs WHEN validated THEN Drone's provider server is the Gogs Service and the docker runner is the default", () => {
    const p = droneProps(GOGS_IN_CLUSTER);
    expect(p.providerServer).toBe("http://gogs.git.svc.cluster.local:3000");
    expect(p.spec.runner).toMatchObject({
      kind: "docker",
      namespace: "drone-runner",
      capacity: 2,
      terminationGracePeriodSeconds: 3600,
    });
    expect(p.spec.server.database).toEqual({ driver: "sqlite3" });
  });

  test("GIVEN an in-cluster Gitea WHEN validated THEN the provider server defaults to its rootUrl", () => {
    const p = droneProps({
      server: { host: "drone.example.com" },
      provider: { kind: "gitea", clientId: "id", clientSecret: "s" },
      git: { kind: "gitea", rootUrl: "https://git.example.com" },
    });
    expect(p.providerServer).toBe("https://git.example.com");
  });

  test("GIVEN GitHub WHEN validated THEN github.com is the default server", () => {
    expect(
      droneProps({
        server: { host: "drone.example.com" },
        provider: { kind: "github", clientId: "id", clientSecret: "s" },
      }).providerServer,
    ).toBe("https://github.com");
  });

  const gh = { kind: "github", clientId: "id", clientSecret: "s" };
  const cases: [string, unknown, string[]][] = [
    [
      "a server host with a scheme",
      { server: { host: "https://drone.example.com" }, provider: gh },
      [
        'drone.server.host "https://drone.example.com" must not include a scheme; DRONE_SERVER_HOST is host[:port] (the scheme goes in server.proto)',
      ],
    ],
    [
      "a server host with a path",
      { server: { host: "example.com/drone" }, provider: gh },
      ['drone.server.host "example.com/drone" must not include a path; DRONE_SERVER_HOST is host[:port]'],
    ],
    [
      "a server host with spaces",
      { server: { host: "Drone Server" }, provider: gh },
      [
        'drone.server.host "Drone Server" must be a DNS name or IP address with an optional :port (IPv6 in brackets: [fd00::1]:8080)',
      ],
    ],
    [
      "a server host with an octet above 255 and a bare IPv6 address with a port",
      { server: { host: "10.0.0.256:80" }, provider: gh },
      [
        'drone.server.host "10.0.0.256:80" must be a DNS name or IP address with an optional :port (IPv6 in brackets: [fd00::1]:8080)',
      ],
    ],
    [
      "two providers",
      {
        server: { host: "d.lan" },
        provider: { kind: "gogs", server: "http://g" },
        git: { kind: "gitea", rootUrl: "https://git.lan" },
      },
      ['drone.git.kind "gitea" does not match provider.kind "gogs"; Drone talks to exactly one git provider'],
    ],
    [
      "Gogs without a server",
      { server: { host: "d.lan" }, provider: { kind: "gogs" } },
      ["drone.provider.server: is required unless git runs an in-cluster Gogs"],
    ],
    [
      "Gitea without a server",
      { server: { host: "d.lan" }, provider: { kind: "gitea", clientId: "i", clientSecret: "s" } },
      ["drone.provider.server: is required unless git runs an in-cluster Gitea"],
    ],
    [
      "a Gitea provider URL that is not the in-cluster Gitea's",
      {
        server: { host: "d.lan" },
        provider: { kind: "gitea", server: "https://other.lan", clientId: "i", clientSecret: "s" },
        git: { kind: "gitea", rootUrl: "https://git.lan" },
      },
      [
        'drone.provider.server "https://other.lan" differs from git.rootUrl "https://git.lan"; Drone must send users to the Gitea that issues its OAuth tokens',
      ],
    ],
    [
      "GitLab without client id",
      { server: { host: "d.lan" }, provider: { kind: "gitlab", clientSecret: "s" } },
      ["drone.provider.clientId: is required (string)"],
    ],
    [
      "an unknown provider",
      { server: { host: "d.lan" }, provider: { kind: "bitbucket" } },
      [expect.stringMatching(/^drone.provider.kind "bitbucket" /) as unknown as string],
    ],
    [
      "the runner in the server's namespace",
      { server: { host: "d.lan" }, provider: gh, runner: { kind: "docker", namespace: "drone" } },
      [
        'drone.runner.namespace "drone" is the server\'s namespace; runners need their own (Pod Security: only the runner namespace may run privileged pods)',
      ],
    ],
    [
      "kube builds in the runner's namespace",
      { server: { host: "d.lan" }, provider: gh, runner: { kind: "kube", buildNamespace: "drone-runner" } },
      [
        "drone.runner.buildNamespace \"drone-runner\" must differ from the server's and the runner's namespaces (build pods must not see their Secrets)",
      ],
    ],
    [
      "git in the server's namespace",
      { server: { host: "d.lan" }, provider: { kind: "gogs" }, git: { kind: "gogs", namespace: "drone" } },
      [
        "drone.git.namespace \"drone\" is the server's namespace; the git service runs in its own (its Pod Security level is baseline, the server's restricted)",
      ],
    ],
    [
      "http with an Ingress TLS secret",
      { server: { host: "d.lan", proto: "http", ingress: { tlsSecretName: "drone-tls" } }, provider: gh },
      [
        'drone.server.proto "http" contradicts server.ingress.tlsSecretName; set proto "https" so Drone\'s links and OAuth redirects use TLS',
      ],
    ],
    [
      "Gitea in-cluster without rootUrl",
      {
        server: { host: "d.lan" },
        provider: { kind: "gitea", clientId: "i", clientSecret: "s" },
        git: { kind: "gitea" },
      },
      ["drone.git.rootUrl: is required (string)"],
    ],
    [
      "an external database without datasource",
      { server: { host: "d.lan", database: { driver: "postgres" } }, provider: gh },
      [expect.stringMatching(/^drone.server.database.datasource: /) as unknown as string],
    ],
    [
      "a bad allowFrom",
      { server: { host: "d.lan", allowFrom: ["everyone"] }, provider: gh },
      ['drone.server.allowFrom[0] "everyone" must be an IPv4 CIDR such as 10.42.0.0/16 (a single host is /32)'],
    ],
    [
      "a zero capacity",
      { server: { host: "d.lan" }, provider: gh, runner: { kind: "docker", capacity: 0 } },
      ["drone.runner.capacity 0 must be >= 1"],
    ],
  ];
  test.each(cases)("GIVEN %s WHEN validated THEN the exact problem is reported", (_w, input, expected) => {
    expect(droneProblems(input)).toEqual(expected);
  });
});
