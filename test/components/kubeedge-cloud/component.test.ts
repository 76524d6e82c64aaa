import * as pulumi from "@pulumi/pulumi";
import {
  dependenciesOf,
  isSecret,
  mockRead,
  recordDependencies,
  recorded,
  SECRET_SIG,
  settle,
  setupPulumiMocks,
  valueOf,
} from "../../support/pulumi-mocks";
import { baseSpec, clusterHosts } from "./fixtures";

const TOKEN = "cafe.eyJleHAiOjE3OTk5OTk5OTl9.signature";

// a read of kubeedge/tokensecret answers with a token, as cloudcore would have created it
mockRead.state = (type, id) =>
  type === "kubernetes:core/v1:Secret" && id === "kubeedge/tokensecret"
    ? { data: { tokendata: Buffer.from(TOKEN).toString("base64") } }
    : undefined;
setupPulumiMocks();
recordDependencies();
const { KubeEdgeCloud } =
  require("../../../components/kubeedge-cloud/kubeedge-cloud") as typeof import("../../../components/kubeedge-cloud/kubeedge-cloud");

describe("KubeEdgeCloud (Pulumi mocks)", () => {
  const hosts = clusterHosts().map((h) => ({ ...h, ssh: { privateKey: pulumi.secret("KEY") } }));
  const cloud = new KubeEdgeCloud("edge", {
    hosts,
    spec: baseSpec,
    kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n"),
  });
  const byName = (n: string) => recorded.find((r) => r.name === n);

  test("GIVEN manifests mode THEN namespace, stream certs, cloudcore, token read and one command per edge step are registered", async () => {
    await valueOf(cloud.joinToken);
    await settle();
    const types = recorded.map((r) => `${r.type} ${r.name}`);
    expect(types).toEqual(
      expect.arrayContaining([
        "kubernetes:yaml/v2:ConfigGroup edge-namespace",
        "command:remote:Command edge-cloud-cp-1-kubeedge-stream-cert",
        "kubernetes:yaml/v2:ConfigGroup edge-cloudcore",
        "kubernetes:core/v1:Secret edge-token",
        "command:remote:Command edge-edge-edge-1-kubeedge-runtime",
        "command:remote:Command edge-edge-edge-1-kubeedge-install",
        "command:remote:Command edge-edge-edge-1-kubeedge-join",
        "command:remote:Command edge-edge-edge-3-kubeedge-join",
        "command:remote:Command edge-cloud-cp-1-kubeedge-firewall",
      ]),
    );
    expect(recorded.filter((r) => r.type === "command:remote:Command" && r.name.startsWith("edge-edge-"))).toHaveLength(
      12,
    );
  });

  test("GIVEN the graph THEN cloudcore waits for the stream certificate (issued on a server by K3s's CA after the namespace), the token read waits for cloudcore, joins wait for the token", async () => {
    await valueOf(cloud.joinToken);
    expect(await dependenciesOf("edge-cloud-cp-1-kubeedge-stream-cert")).toEqual(["edge-namespace"]);
    expect(await dependenciesOf("edge-cloudcore")).toEqual(["edge-cloud-cp-1-kubeedge-stream-cert", "edge-namespace"]);
    expect(await dependenciesOf("edge-cloud-cp-1-kubeedge-token-wait")).toEqual(["edge-cloudcore"]);
    expect(await dependenciesOf("edge-token")).toEqual(["edge-cloud-cp-1-kubeedge-token-wait", "edge-cloudcore"]);
    expect(await dependenciesOf("edge-edge-edge-1-kubeedge-join")).toEqual(
      expect.arrayContaining([
        "edge-edge-edge-1-kubeedge-install",
        "edge-token",
        "edge-cloudcore",
        "edge-cloud-cp-1-kubeedge-firewall",
        "edge-cloud-cp-1-kubeedge-token-wait",
      ]),
    );
    expect(await dependenciesOf("edge-edge-edge-1-kubeedge-install")).toEqual(["edge-edge-edge-1-kubeedge-runtime"]);
    expect(await dependenciesOf("edge-edge-edge-1-kubeedge-runtime")).toEqual(["edge-edge-edge-1-kubeedge-preflight"]);
    expect(await dependenciesOf("edge-edge-edge-1-kubeedge-preflight")).toEqual([]);
  });

  test("GIVEN the token THEN it is a secret output, reaches the host only inside the secret stdin, and never a create/delete string", async () => {
    expect(await isSecret(cloud.joinToken)).toBe(true);
    expect(await valueOf(cloud.joinToken)).toBe(TOKEN);
    const join = byName("edge-edge-edge-1-kubeedge-join")!;
    // a secret input arrives wrapped with Pulumi's secret signature
    expect(join.inputs.stdin[SECRET_SIG]).toBe("1b47061264138c4ac30d75fd1eb44270");
    const stdin = join.inputs.stdin.value as string;
    expect(stdin).toContain("ec_put /etc/kubeedge/config/edgecore.yaml 0600 root:root");
    expect(stdin).not.toContain(TOKEN); // base64 in the heredoc
    const b64 =
      /ec_put \/etc\/kubeedge\/config\/edgecore.yaml 0600 root:root <<'EC_FILE_EOF'\n([\s\S]*?)EC_FILE_EOF/.exec(
        stdin,
      )![1];
    expect(Buffer.from(b64.replace(/\n/g, ""), "base64").toString()).toContain(`token: ${TOKEN}`);
    for (const c of recorded.filter((r) => r.type === "command:remote:Command")) {
      expect(JSON.stringify([c.inputs.create, c.inputs.update, c.inputs.delete])).not.toContain(TOKEN);
    }
    const runtime = byName("edge-edge-edge-1-kubeedge-runtime")!;
    expect(runtime.inputs.stdin).not.toContain("edgecore.yaml");
    expect(byName("edge-token")!.inputs).toEqual({});
  });

  test("GIVEN the outputs THEN address, token Secret reference and join parameters are plain; edge nodes listed", async () => {
    expect(await valueOf(cloud.cloudcoreAddress)).toBe("10.0.0.11:10000");
    expect(await valueOf(cloud.tokenSecretRef)).toEqual({
      namespace: "kubeedge",
      name: "tokensecret",
      key: "tokendata",
    });
    expect((await valueOf(cloud.joinParameters)).certServer).toBe("https://10.0.0.11:10002");
    expect(await valueOf(cloud.edgeNodes)).toEqual(["edge-1", "edge-2", "edge-3"]);
    // no stream key in Pulumi state: it is made on the server and never leaves it
    expect(recorded.some((r) => r.name === "edge-stream-certs" || r.name === "edge-stream-ca")).toBe(false);
  });

  test("GIVEN keadm mode THEN keadm init runs on the server over SSH and the token read waits for it", async () => {
    const k = new KubeEdgeCloud("ke", {
      hosts,
      spec: { ...baseSpec, mode: "keadm", mosquitto: true },
      kubeconfig: "apiVersion: v1\nkind: Config\n",
    });
    await valueOf(k.joinToken);
    await settle();
    expect(byName("ke-keadm-cp-1-kubeedge-keadm-init")).toBeDefined();
    // the chart's own mosquitto DaemonSet (mosquitto.enable): no second one applied beside it ("already exists")
    expect(byName("ke-mosquitto")).toBeUndefined();
    const init = byName("ke-keadm-cp-1-kubeedge-keadm-init")!;
    expect(JSON.stringify(init.inputs.stdin)).toContain("mosquitto.enable=true");
    expect(await dependenciesOf("ke-edge-edge-1-kubeedge-join")).toEqual(
      expect.arrayContaining(["ke-keadm-cp-1-kubeedge-keadm-init", "ke-cloud-cp-1-kubeedge-firewall", "ke-token"]),
    );
    expect(byName("ke-cloudcore")).toBeUndefined();
    // the chart's private-CA stream certificate is replaced by one from K3s's server CA once keadm init ran
    expect(await dependenciesOf("ke-keadm-cp-1-kubeedge-stream-cert")).toEqual(["ke-keadm-cp-1-kubeedge-keadm-init"]);
    expect(await dependenciesOf("ke-token")).toEqual([
      "ke-keadm-cp-1-kubeedge-keadm-init",
      "ke-keadm-cp-1-kubeedge-stream-cert",
    ]);
  });

  test("GIVEN an invalid spec THEN it throws before registering any resource", () => {
    const before = recorded.length;
    expect(
      () =>
        new KubeEdgeCloud("bad", { hosts, spec: { ...baseSpec, edge: { joinAddress: "10.9.9.9" } }, kubeconfig: "x" }),
    ).toThrow(
      /KubeEdgeCloud "bad": 1 problem\n {2}- kubeedge.edge.joinAddress "10.9.9.9" is not in kubeedge.cloudHub.advertiseAddress/,
    );
    expect(recorded.length).toBe(before);
  });
});

describe("KubeEdgeCloud with edge pools (Pulumi mocks)", () => {
  const CA = Buffer.from("ca-der").toString("base64");
  const CA_KEY = Buffer.from("ca-key-der").toString("base64");
  const before = mockRead.state;
  beforeAll(() => {
    mockRead.state = (type, id) =>
      type === "kubernetes:core/v1:Secret" && id === "kubeedge/casecret"
        ? { data: { cadata: CA, cakeydata: CA_KEY } }
        : before(type, id);
  });
  afterAll(() => {
    mockRead.state = before;
  });

  test("GIVEN two edge pools THEN one credential per pool minted from cloudcore's CA (the key a secret input), a secret bundle per pool, and no resource per pool node", async () => {
    const hosts = clusterHosts().map((h) => ({ ...h, ssh: { privateKey: pulumi.secret("KEY") } }));
    const cloud = new KubeEdgeCloud("pools", {
      hosts,
      spec: {
        ...baseSpec,
        edgePools: [
          { name: "plant-a", os: "debian-12", arch: "arm64", labels: { site: "a" } },
          { name: "plant-b", os: "ubuntu-22.04", arch: "amd64", credential: { ttlHours: 2, rotateBeforeHours: 1 } },
        ],
      },
      kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n"),
    });
    const bundles = await valueOf(cloud.joinBundles);
    await settle();
    expect(await isSecret(cloud.joinBundles)).toBe(true);
    expect(Object.keys(bundles).sort()).toEqual(["plant-a", "plant-b"]);
    const creds = recorded.filter((r) => r.type === "pulumi-nodejs:dynamic/edgecloud:EdgeJoinCredential");
    expect(creds.map((r) => r.name).sort()).toEqual(["pools-pool-plant-a", "pools-pool-plant-b"]);
    const b = creds.find((r) => r.name === "pools-pool-plant-b")!.inputs;
    expect({ ...b, caKey: SECRET_SIG in b.caKey }).toMatchObject({
      ca: CA,
      caKey: true,
      ttlHours: 2,
      rotateBeforeHours: 1,
      revision: 0,
    });
    expect(recorded.find((r) => r.name === "pools-ca")).toMatchObject({ id: "kubeedge/casecret" });
    // every step resource is one of the SSH-joined hosts' (edge-1..3) or the cloud side's: none for pool nodes
    expect(
      recorded.filter((r) => r.name.startsWith("pools-") && /plant|pool-node/.test(r.name) && !creds.includes(r)),
    ).toEqual([]);
    for (const bundle of Object.values(bundles)) {
      expect(bundle.script).not.toContain(TOKEN);
      expect(bundle.userData.startsWith("#cloud-config\n")).toBe(true);
    }
    expect(bundles["plant-a"]!.notAfter).toBe("2036-01-01T00:00:00.000Z");
  });
});
