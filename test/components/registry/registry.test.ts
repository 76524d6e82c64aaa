import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { isSecret, recorded, settle, valueOf, setupPulumiMocks } from "../../support/pulumi-mocks";
import { testHosts } from "./fixtures";

setupPulumiMocks();
const { Registry } =
  require("../../../components/registry/registry") as typeof import("../../../components/registry/registry");

const children = (prefix: string) => recorded.filter((r) => r.name.startsWith(prefix));

describe("Registry (Pulumi mocks)", () => {
  describe("GIVEN in-cluster mode with a generated certificate and a secret password", () => {
    const registry = new Registry("reg", {
      spec: {
        mode: { kind: "in-cluster", nodePort: 32500 },
        auth: { users: [{ username: "node", password: pulumi.secret("node-password") }] },
      },
      hosts: testHosts(),
      kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n"),
    });

    test("THEN it is an edgecloud:services:Registry with the http secret, CA, certificate, provider and objects as children", async () => {
      await valueOf(registry.k3sRegistries);
      await settle();
      expect(recorded.find((r) => r.name === "reg")!.type).toBe("edgecloud:services:Registry");
      const names = children("reg-").map((r) => `${r.type} ${r.name}`);
      expect(names).toEqual(
        expect.arrayContaining([
          "pulumi-nodejs:dynamic/edgecloud:RandomSecret reg-http-secret",
          "pulumi-nodejs:dynamic/edgecloud:CertificateAuthority reg-ca",
          "pulumi-nodejs:dynamic/edgecloud:Certificate reg-cert",
          "pulumi:providers:kubernetes reg-provider",
          "kubernetes:yaml/v2:ConfigGroup reg-objects",
        ]),
      );
      expect(registry.endpoint).toBe("10.0.0.11:32500");
      expect(registry.steps.size).toBe(0);
    });

    test("THEN the certificate covers the endpoint, every node and the Service names", async () => {
      await settle();
      const cert = recorded.find((r) => r.name === "reg-cert")!;
      expect(cert.inputs.request).toMatchObject({
        commonName: "10.0.0.11",
        ips: ["10.0.0.11", "10.0.0.12", "10.0.0.21", "127.0.0.1"],
        usages: ["server"],
      });
      expect(cert.inputs.request.dnsNames).toContain("registry.registry.svc.cluster.local");
    });

    test("THEN k3sRegistries is secret and carries the node credentials and the CA", async () => {
      expect(await isSecret(registry.k3sRegistries)).toBe(true);
      const r = await valueOf(registry.k3sRegistries);
      expect(r.configs!["10.0.0.11:32500"].auth).toEqual({ username: "node", password: "node-password" });
      expect(r.files![0].content).toBe("MOCK-certPem-reg-ca");
    });

    test("THEN the applied objects hold the generated HTTP secret in a Secret and validate", async () => {
      await settle();
      const group = recorded.find((r) => r.name === "reg-objects")!;
      // the objects reach the engine as one secret value (the Secrets' data never lands in state in plaintext)
      expect(group.inputs.objs["4dabf18193072939515e22adb298388d"]).toBe("1b47061264138c4ac30d75fd1eb44270");
      const objs = group.inputs.objs.value as {
        kind: string;
        metadata: { name: string };
        stringData?: Record<string, string>;
      }[];
      expect(objs.find((o) => o.metadata.name === "registry-env")!.stringData).toEqual({
        REGISTRY_HTTP_SECRET: "MOCK-value-reg-http-secret",
      });
      expect(objs.find((o) => o.metadata.name === "registry-tls")!.stringData!["tls.key"]).toBe("MOCK-keyPem-reg-cert");
      expect(objs.map((o) => o.kind)).toContain("NetworkPolicy");
      expect(objs.map((o) => o.kind)).not.toContain("CronJob"); // GC runs in the pod before it serves
    });
  });

  describe("GIVEN host mode", () => {
    const registry = new Registry("hreg", {
      spec: { mode: { kind: "host", host: "store-1" }, auth: { users: [{ username: "ci", password: "ci-password" }] } },
      hosts: testHosts(),
    });

    test("THEN one remote command runs the registry step on its host with a secret stdin and a secret-free delete", async () => {
      const cmd = registry.steps.get("store-1/registry")! as command.remote.Command;
      expect(await isSecret(cmd.stdin as pulumi.Output<unknown>)).toBe(true);
      const stdin = await valueOf(cmd.stdin);
      expect(stdin).toContain("ec_put /etc/edgecloud/registry/htpasswd 0600 root:root");
      await settle();
      const rec = recorded.find((r) => r.name === "hreg-store-1-registry")!;
      expect(rec.type).toBe("command:remote:Command");
      expect(rec.inputs.create).toBe("bash -s");
      expect(Buffer.from(rec.inputs.delete.split(" ")[1], "base64").toString()).not.toMatch(/ci-password|MOCK-/);
      expect(recorded.some((r) => r.name === "hreg-provider")).toBe(false);
    });

    test("THEN nodes get the host's endpoint", async () => {
      const r = await valueOf(registry.k3sRegistries);
      expect(Object.keys(r.mirrors!)).toEqual(["10.0.0.31:5000"]);
    });
  });

  test("GIVEN in-cluster mode without a kubeconfig WHEN constructed THEN it throws before creating anything", () => {
    const before = recorded.length;
    expect(
      () => new Registry("bad", { spec: { mode: { kind: "in-cluster", nodePort: 32500 } }, hosts: testHosts() }),
    ).toThrow(
      "invalid Registry: 1 problem\n  - kubeconfig: is required in in-cluster mode (the registry is deployed into the cluster)",
    );
    expect(recorded.length).toBe(before);
  });
});
