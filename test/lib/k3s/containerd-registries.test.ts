import { CONTAINERD_AUTH_FILE, containerdRegistryFiles } from "../../../lib/k3s/containerd-registries";
import { K3sRegistries } from "../../../lib/k3s/registries";

const registries: K3sRegistries = {
  mirrors: { "registry.local:5000": { endpoint: ["https://10.0.0.21:32500", "https://10.0.0.22:32500"] } },
  configs: {
    "10.0.0.21:32500": {
      auth: { username: "node", password: "s3cr3t" },
      tls: { caFile: "/etc/rancher/k3s/registry-ca/r.crt" },
    },
    "10.0.0.22:32500": {
      auth: { username: "node", password: "s3cr3t" },
      tls: { caFile: "/etc/rancher/k3s/registry-ca/r.crt" },
    },
  },
  files: [
    {
      path: "/etc/rancher/k3s/registry-ca/r.crt",
      mode: "0644",
      content: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n",
      secret: false,
    },
  ],
};

describe("containerd registry files (edge nodes)", () => {
  const files = containerdRegistryFiles(registries);
  const byPath = new Map(files.map((f) => [f.path, f]));

  test("GIVEN a mirror with two endpoints THEN hosts.toml lists both in order with the registry's CA", () => {
    expect(byPath.get("/etc/containerd/certs.d/registry.local:5000/hosts.toml")!.content).toBe(
      [
        'server = "https://registry.local:5000"',
        "",
        '[host."https://10.0.0.21:32500"]',
        '  capabilities = ["pull", "resolve"]',
        '  ca = "/etc/containerd/certs.d/10.0.0.21:32500/ca.crt"',
        "",
        '[host."https://10.0.0.22:32500"]',
        '  capabilities = ["pull", "resolve"]',
        '  ca = "/etc/containerd/certs.d/10.0.0.22:32500/ca.crt"',
        "",
      ].join("\n"),
    );
    expect(byPath.get("/etc/containerd/certs.d/10.0.0.21:32500/ca.crt")).toMatchObject({
      mode: "0644",
      secret: false,
      content: registries.files![0]!.content,
    });
  });

  test("GIVEN credentials THEN they go only into a secret 0600 fragment for the CRI plugin's registry table", () => {
    const auth = byPath.get(CONTAINERD_AUTH_FILE)!;
    expect(auth).toMatchObject({ mode: "0600", secret: true });
    expect(auth.content).toContain(
      '[@CRI_REGISTRY@.configs."10.0.0.21:32500".auth]\n  username = "node"\n  password = "s3cr3t"\n',
    );
    for (const f of files.filter((f) => f.path !== CONTAINERD_AUTH_FILE)) expect(f.content).not.toContain("s3cr3t");
  });

  test("GIVEN no credentials and no TLS THEN only hosts.toml, with skip_verify only where asked", () => {
    const plain = containerdRegistryFiles({ mirrors: { "r:5000": { endpoint: ["http://10.0.0.21:32500"] } } });
    expect(plain.map((f) => f.path)).toEqual(["/etc/containerd/certs.d/r:5000/hosts.toml"]);
    expect(plain[0]!.content).not.toContain("ca =");
  });
});

describe("edge runtime step with the registry", () => {
  const { checkKubeEdgeCloud } =
    require("../../../components/kubeedge-cloud/validate") as typeof import("../../../components/kubeedge-cloud/validate");
  const { runtimeStep } =
    require("../../../components/kubeedge-cloud/edge-node-steps") as typeof import("../../../components/kubeedge-cloud/edge-node-steps");
  const { clusterHosts, baseSpec } =
    require("../../components/kubeedge-cloud/fixtures") as typeof import("../../components/kubeedge-cloud/fixtures");
  const { IssueCollector } =
    require("../../../lib/validation/issues") as typeof import("../../../lib/validation/issues");
  const { renderStepBundle } = require("../../../lib/steps/bundle") as typeof import("../../../lib/steps/bundle");
  const { shellcheck } = require("../../support/shellcheck") as typeof import("../../support/shellcheck");

  test("GIVEN registries THEN containerd gets config_path, hosts.toml and the credentials appended, config.toml 0600, the step secret", () => {
    const issues = new IssueCollector();
    const p = checkKubeEdgeCloud({ hosts: clusterHosts(), spec: baseSpec }, issues)!;
    const edge = p.edgeHosts[0]!;
    const plain = runtimeStep(p, edge);
    expect(plain.secret).toBe(false);
    expect(plain.script).not.toContain("config_path");
    const step = runtimeStep({ ...p, registries }, edge);
    expect(step.secret).toBe(true);
    expect(step.script).toContain(`sed -E 's#^([[:space:]]*config_path =).*#\\1 "/etc/containerd/certs.d"#'`);
    expect(step.script).toContain(`sed "s#@CRI_REGISTRY@#$cri#" ${CONTAINERD_AUTH_FILE} >>"$want"`);
    expect(step.script).toContain('chmod 0600 "$want"');
    expect(step.script).not.toContain("s3cr3t");
    expect(step.deleteScript).toContain(CONTAINERD_AUTH_FILE);
    expect(shellcheck(renderStepBundle(step))).toBe("");
  });
});
