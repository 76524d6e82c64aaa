import * as pulumi from "@pulumi/pulumi";
import { isSecret, recorded, settle, valueOf, setupPulumiMocks } from "../../support/pulumi-mocks";

setupPulumiMocks();
const { DroneCi } =
  require("../../../components/drone-ci/drone-ci") as typeof import("../../../components/drone-ci/drone-ci");

describe("DroneCi (Pulumi mocks)", () => {
  describe("GIVEN Gitea in-cluster with a secret OAuth client secret and no RPC secret", () => {
    const drone = new DroneCi("ci", {
      spec: {
        server: { host: "drone.example.com" },
        provider: { kind: "gitea", clientId: "app", clientSecret: pulumi.secret("oauth-secret") },
        git: { kind: "gitea", rootUrl: "https://git.example.com" },
      },
      kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n"),
    });

    test("THEN it is an edgecloud:services:DroneCi that generates the RPC, database and Gitea secrets once", async () => {
      await valueOf(drone.rpcSecret);
      await settle();
      expect(recorded.find((r) => r.name === "ci")!.type).toBe("edgecloud:services:DroneCi");
      const generated = recorded
        .filter((r) => r.type.startsWith("pulumi-nodejs:dynamic") && r.name.startsWith("ci-"))
        .map((r) => [r.name, r.inputs.bytes]);
      expect(generated).toEqual(
        expect.arrayContaining([
          ["ci-rpc-secret", 32],
          ["ci-database-secret", 16],
          ["ci-git-secret-key", 32],
          ["ci-git-internal-token", 32],
          ["ci-git-jwt-secret", 32],
        ]),
      );
      expect(drone.serverUrl).toBe("https://drone.example.com");
      expect(drone.providerServer).toBe("https://git.example.com");
    });

    test("THEN the RPC secret output is secret and the objects go to the cluster as one secret value", async () => {
      expect(await isSecret(drone.rpcSecret)).toBe(true);
      await valueOf(drone.objects.urn);
      await settle();
      const group = recorded.find((r) => r.type === "kubernetes:yaml/v2:ConfigGroup" && r.name === "ci-objects")!;
      expect(group.inputs.objs["4dabf18193072939515e22adb298388d"]).toBe("1b47061264138c4ac30d75fd1eb44270");
      const objs = group.inputs.objs.value as {
        kind: string;
        metadata: { name: string };
        stringData?: Record<string, string>;
      }[];
      const server = objs.find((o) => o.kind === "Secret" && o.metadata.name === "drone-server-secrets")!;
      expect(server.stringData).toEqual({
        DRONE_RPC_SECRET: "MOCK-value-ci-rpc-secret",
        DRONE_DATABASE_SECRET: "MOCK-value-ci-database-secret",
        DRONE_GITEA_CLIENT_SECRET: "oauth-secret",
      });
      const runner = objs.find((o) => o.kind === "Secret" && o.metadata.name === "drone-runner-secrets")!;
      expect(runner.stringData).toEqual({ DRONE_RPC_SECRET: "MOCK-value-ci-rpc-secret" });
    });
  });

  test("GIVEN an RPC secret WHEN constructed THEN none is generated", async () => {
    new DroneCi("given", {
      spec: {
        server: { host: "d.lan" },
        provider: { kind: "github", clientId: "i", clientSecret: "s" },
        rpcSecret: pulumi.secret("mine"),
      },
      kubeconfig: "x",
    });
    await settle();
    expect(recorded.some((r) => r.name === "given-rpc-secret")).toBe(false);
    expect(recorded.some((r) => r.name === "given-database-secret")).toBe(true);
  });

  test("GIVEN a host with a scheme WHEN constructed THEN it throws before creating anything", () => {
    const before = recorded.length;
    expect(
      () =>
        new DroneCi("bad", {
          spec: { server: { host: "https://d.lan" }, provider: { kind: "github", clientId: "i", clientSecret: "s" } },
          kubeconfig: "x",
        }),
    ).toThrow(
      'invalid DroneCi: 1 problem\n  - drone.server.host "https://d.lan" must not include a scheme; DRONE_SERVER_HOST is host[:port] (the scheme goes in server.proto)',
    );
    expect(recorded.length).toBe(before);
  });
});
