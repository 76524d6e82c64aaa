import * as pulumi from "@pulumi/pulumi";
import { join } from "path";
import { environmentsDir, readEnvironmentFile } from "../../stacks/environment";
import { prepareEnvironment, readStackConfig } from "../../stacks/stack-config";
import { mockRead, recorded, settle, setupPulumiMocks, valueOf } from "../support/pulumi-mocks";

setupPulumiMocks();
// cloudcore's join token, as a running cloudcore would have created it
mockRead.state = (type, id) =>
  type === "kubernetes:core/v1:Secret" && id === "kubeedge/tokensecret"
    ? { data: { tokendata: Buffer.from("join.token.sig").toString("base64") } }
    : undefined;
const { EdgecloudEnvironment } =
  require("../../stacks/edgecloud-environment") as typeof import("../../stacks/edgecloud-environment");

const HOST_STEP_RUN = "pulumi-nodejs:dynamic/edgecloud:HostStepRun";
const key = pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n");
const load = (name: string) =>
  prepareEnvironment(readEnvironmentFile(join(environmentsDir(), `${name}.yaml`)), {
    secrets: (n) => pulumi.secret(`pw-${n}`),
    sshPrivateKey: key,
  });
const named = (type: string) => recorded.filter((r) => r.type === type).map((r) => r.name);

describe("EdgecloudEnvironment (Pulumi mocks): executor", () => {
  test.each([
    // a step of each component with host steps: the cluster, NFS, KubeEdge, the Rancher import, the registry on a host
    [
      "default",
      [
        "default-server-1-k3s-config",
        "default-kubeconfig",
        "default-nfs-nfs-1-nfs-server",
        "default-kubeedge-edge-edge-1-kubeedge-join",
      ],
    ],
    ["multi-site-beijing", ["multi-site-beijing-rancher-beijing-server-rancher-import"]],
    ["single-node", ["single-node-registry-dev-1-registry"]],
  ])(
    "GIVEN the %s environment WHEN executor is in-process THEN every host step of every component is a HostStepRun and no remote.Command exists",
    async (file, expected) => {
      const env = new EdgecloudEnvironment(file, {
        environment: load(file),
        executor: "in-process",
        rancherManifestUrl: pulumi.secret("https://rancher.example.com/v3/import/abc.yaml"),
      });
      await valueOf(env.kubeconfig);
      // the edge joins wait for cloudcore's token
      if (env.kubeedge) await valueOf(env.kubeedge.joinToken);
      await settle();
      expect(named("command:remote:Command")).toEqual([]);
      expect(named(HOST_STEP_RUN)).toEqual(expect.arrayContaining(expected));
    },
    // the whole environment through the mocks: ~4 s on an idle machine, 30 s and more at load 18; the limit is
    // setupPulumiMocks()'s (a hang fails, a slow machine does not)
  );

  test("GIVEN edgecloud:executor WHEN the stack config is read THEN it is passed on; an unknown executor is refused naming the key and the allowed values", () => {
    pulumi.runtime.setAllConfig({ "edgecloud:executor": "in-process" });
    expect(readStackConfig().executor).toBe("in-process");
    pulumi.runtime.setAllConfig({ "edgecloud:executor": "ssh" });
    expect(() => readStackConfig()).toThrow(
      'edgecloud:executor "ssh" is not an executor; use one of: command, in-process',
    );
    pulumi.runtime.setAllConfig({});
    expect(readStackConfig().executor).toBeUndefined();
  });

  test("GIVEN edgecloud:provisioning WHEN the stack config is read THEN the limits are passed on; invalid ones are refused naming the key", () => {
    pulumi.runtime.setAllConfig({ "edgecloud:provisioning": JSON.stringify({ maxConcurrentSteps: 16 }) });
    expect(readStackConfig().provisioning).toEqual({ maxConcurrentSteps: 16 });
    pulumi.runtime.setAllConfig({ "edgecloud:provisioning": JSON.stringify({ maxConcurrentSteps: "16" }) });
    expect(() => readStackConfig()).toThrow(
      'edgecloud:provisioning.maxConcurrentSteps "16" must be number, not string',
    );
    pulumi.runtime.setAllConfig({});
    expect(readStackConfig().provisioning).toBeUndefined();
  });
});
