import * as pulumi from "@pulumi/pulumi";
import { recorded, settle, valueOf, setupPulumiMocks } from "../../support/pulumi-mocks";
import { testHosts } from "../registry/fixtures";

setupPulumiMocks();
const { NfsProvisioner } =
  require("../../../components/nfs-provisioner/nfs-provisioner") as typeof import("../../../components/nfs-provisioner/nfs-provisioner");

describe("NfsProvisioner (Pulumi mocks)", () => {
  const nfs = new NfsProvisioner("nfs", {
    spec: { server: { kind: "host", host: "store-1" } },
    hosts: testHosts(),
    kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n"),
  });

  test("THEN it is an edgecloud:storage:NfsProvisioner with a server step, a client step per K3s node, a provider and the objects", async () => {
    await valueOf(nfs.objects.urn);
    await settle();
    expect(recorded.find((r) => r.name === "nfs")!.type).toBe("edgecloud:storage:NfsProvisioner");
    expect([...nfs.steps.keys()]).toEqual([
      "store-1/nfs-server",
      "server-1/nfs-client",
      "server-2/nfs-client",
      "agent-1/nfs-client",
    ]);
    const cmds = recorded.filter((r) => r.type === "command:remote:Command").map((r) => r.name);
    expect(cmds).toEqual(
      expect.arrayContaining([
        "nfs-store-1-nfs-server",
        "nfs-server-1-nfs-client",
        "nfs-server-2-nfs-client",
        "nfs-agent-1-nfs-client",
      ]),
    );
    expect(recorded.some((r) => r.type === "pulumi:providers:kubernetes" && r.name === "nfs-provider")).toBe(true);
    expect(nfs.storageClassName).toBe("nfs");
  });

  test("THEN the ConfigGroup holds the validated chart objects", async () => {
    await settle();
    const group = recorded.find((r) => r.type === "kubernetes:yaml/v2:ConfigGroup" && r.name === "nfs-objects")!;
    const kinds = (group.inputs.objs as { kind: string }[]).map((o) => o.kind);
    expect(kinds).toEqual(
      expect.arrayContaining(["Namespace", "CSIDriver", "Deployment", "DaemonSet", "StorageClass"]),
    );
  });

  test("THEN every command has a trigger hash and a delete", async () => {
    await settle();
    for (const c of recorded.filter((r) => r.type === "command:remote:Command" && r.name.startsWith("nfs-"))) {
      expect(c.inputs.triggers[0]).toMatch(/^[a-f0-9]{64}$/);
      expect(c.inputs.delete).toMatch(/^echo [A-Za-z0-9+/=]+ \| base64 -d \| bash -s$/);
    }
  });

  test("GIVEN an invalid spec WHEN constructed THEN one ValidationError lists every problem and nothing is created", () => {
    const before = recorded.length;
    expect(
      () =>
        new NfsProvisioner("bad", {
          spec: {
            server: { kind: "host", host: "agent-1", allowedClients: ["0.0.0.0/0"] },
            provisioner: { kind: "nfs-subdir-external-provisioner", version: "v3.1.0" },
          },
          hosts: testHosts(),
          kubeconfig: "x",
        }),
    ).toThrow(
      [
        "invalid NfsProvisioner: 3 problems",
        '  - nfs.server.host "agent-1" does not have the role "nfs"; add it to hosts[2].roles',
        '  - nfs.server.allowedClients[0] "0.0.0.0/0" exports to every address; list the nodes\' network(s) instead',
        '  - nfs.provisioner.version "v3.1.0" is older than v4.0.2; releases before v4.0.0 need selfLink, which Kubernetes removed (RemoveSelfLink=false is gone since 1.24)',
      ].join("\n"),
    );
    expect(recorded.length).toBe(before);
  });
});
