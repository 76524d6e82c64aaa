import { renderDeleteBundle, renderStepBundle } from "../../../lib/steps/bundle";
import { makePlan } from "../../../lib/steps/plan";
import { IssueCollector } from "../../../lib/validation/issues";
import { edgeNodeSteps, EDGECORE_CONFIG, TOKEN_PLACEHOLDER } from "../../../components/kubeedge-cloud/edge-node-steps";
import { keadmInitSteps, keadmSetValues } from "../../../components/kubeedge-cloud/keadm-init-steps";
import { KubeEdgeCloudProps } from "../../../components/kubeedge-cloud/spec";
import { checkKubeEdgeCloud } from "../../../components/kubeedge-cloud/validate";
import { parse } from "yaml";
import { baseSpec, clusterHosts } from "./fixtures";
import { shellcheck } from "./shellcheck";
import { firewallHost } from "../../support/firewall-stubs";

const TOKEN = "0123abcd.eyJhbGciOiJIUzI1NiJ9.secret-part";

function props(spec: object = {}): KubeEdgeCloudProps {
  const issues = new IssueCollector();
  const p = checkKubeEdgeCloud({ hosts: clusterHosts(), spec: { ...baseSpec, ...spec } }, issues);
  issues.throwIfAny();
  return p!;
}

describe("edge node steps", () => {
  test("GIVEN three edge hosts WHEN steps are rendered THEN each gets pre-flight → runtime → install → join, in a valid plan", () => {
    const steps = edgeNodeSteps(props(), TOKEN);
    expect(steps.map((s) => s.id)).toEqual([
      "edge-1/kubeedge-preflight",
      "edge-1/kubeedge-runtime",
      "edge-1/kubeedge-install",
      "edge-1/kubeedge-join",
      "edge-2/kubeedge-preflight",
      "edge-2/kubeedge-runtime",
      "edge-2/kubeedge-install",
      "edge-2/kubeedge-join",
      "edge-3/kubeedge-preflight",
      "edge-3/kubeedge-runtime",
      "edge-3/kubeedge-install",
      "edge-3/kubeedge-join",
    ]);
    expect(() => makePlan(steps)).not.toThrow();
    expect(steps.find((s) => s.id === "edge-1/kubeedge-join")!.dependsOn).toEqual(["edge-1/kubeedge-install"]);
    expect(steps.find((s) => s.id === "edge-1/kubeedge-runtime")!.dependsOn).toEqual(["edge-1/kubeedge-preflight"]);
  });

  test("GIVEN the join token WHEN the join step is rendered THEN the token is only in the 0600 edgecore.yaml, never in a script", () => {
    const join = edgeNodeSteps(props(), TOKEN).find((s) => s.id === "edge-1/kubeedge-join")!;
    expect(join.secret).toBe(true);
    const cfg = join.files.find((f) => f.path === EDGECORE_CONFIG)!;
    expect(cfg.mode).toBe("0600");
    expect(cfg.secret).toBe(true);
    expect(parse(cfg.content).modules.edgeHub.token).toBe(TOKEN);
    expect(join.script).not.toContain(TOKEN);
    expect(join.deleteScript).not.toContain(TOKEN);
    expect(renderStepBundle(join)).not.toContain(TOKEN); // base64 in a heredoc on stdin
    expect(join.script).not.toContain("--token");
  });

  test("GIVEN a refreshed token WHEN the join step is re-rendered THEN its hash changes (the executor re-runs it) and only the config differs", () => {
    const a = edgeNodeSteps(props(), TOKEN).find((s) => s.id === "edge-1/kubeedge-join")!;
    const b = edgeNodeSteps(props(), `${TOKEN}-rotated`).find((s) => s.id === "edge-1/kubeedge-join")!;
    expect(a.hash).not.toBe(b.hash);
    expect(a.script).toBe(b.script);
    expect(a.deleteScript).toBe(b.deleteScript);
  });

  test("GIVEN an arm64 Ubuntu edge host WHEN edgecore.yaml is rendered THEN it dials the advertised address, registers the edge role and host labels", () => {
    const join = edgeNodeSteps(props(), TOKEN).find((s) => s.id === "edge-1/kubeedge-join")!;
    const cfg = parse(join.files.find((f) => f.path === EDGECORE_CONFIG)!.content);
    expect(cfg.modules.edgeHub.httpServer).toBe("https://10.0.0.11:10002");
    expect(cfg.modules.edgeHub.websocket.server).toBe("10.0.0.11:10000");
    expect(cfg.modules.edged.hostnameOverride).toBe("edge-1");
    expect(cfg.modules.edged.nodeLabels).toEqual({
      "node-role.kubernetes.io/edge": "",
      "node-role.kubernetes.io/agent": "",
      site: "plant-a",
    });
    expect(cfg.modules.edged.tailoredKubeletConfig).toEqual({
      cgroupDriver: "systemd",
      containerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
      registerWithTaints: [{ key: "node-role.kubernetes.io/edge", effect: "NoSchedule" }],
    });
    const install = edgeNodeSteps(props(), TOKEN).find((s) => s.id === "edge-1/kubeedge-install")!;
    expect(install.script).toContain(
      "https://github.com/kubeedge/kubeedge/releases/download/v1.23.1/keadm-v1.23.1-linux-arm64.tar.gz",
    );
  });

  test("GIVEN NodePort exposure WHEN edgecore.yaml is rendered THEN edge nodes dial the node ports", () => {
    const join = edgeNodeSteps(props({ exposure: { kind: "NodePort" } }), TOKEN).find(
      (s) => s.id === "edge-2/kubeedge-join",
    )!;
    const cfg = parse(join.files.find((f) => f.path === EDGECORE_CONFIG)!.content);
    expect(cfg.modules.edgeHub.websocket.server).toBe("10.0.0.11:30000");
    expect(cfg.modules.edgeHub.httpServer).toBe("https://10.0.0.11:30002");
    expect(cfg.modules.edgeStream.server).toBe("10.0.0.11:30004");
  });

  test("GIVEN KubeEdge v1.13 with docker WHEN edgecore.yaml is rendered THEN the legacy edged runtime fields are used", () => {
    const p = props({ version: "v1.13.4", kubernetesVersion: "v1.23.17+k3s1", edge: { runtime: "docker" } });
    const join = edgeNodeSteps(p, TOKEN).find((s) => s.id === "edge-3/kubeedge-join")!;
    const cfg = parse(join.files.find((f) => f.path === EDGECORE_CONFIG)!.content);
    expect(cfg.modules.edged.containerRuntime).toBe("docker");
    expect(join.deleteScript).toContain("/usr/local/bin/keadm reset --force");
    const rt = edgeNodeSteps(p, TOKEN).find((s) => s.id === "edge-3/kubeedge-runtime")!;
    expect(rt.script).toContain("ec_pkg dnf docker-ce containerd.io");
  });

  test("GIVEN sha512 sums WHEN the install step is rendered THEN the tarballs are checked before install, and shellcheck is clean", () => {
    const sum = "a".repeat(128);
    const install = edgeNodeSteps(
      props({ edge: { install: { kind: "online", sha512: { "keadm-v1.23.1-linux-arm64.tar.gz": sum } } } }),
      TOKEN,
    ).find((s) => s.id === "edge-1/kubeedge-install")!;
    expect(install.script).toContain(
      `echo '${sum}  keadm-v1.23.1-linux-arm64.tar.gz' | (cd "$work" && sha512sum -c --quiet -)`,
    );
    expect(install.script).not.toContain("kubeedge-v1.23.1-linux-arm64.tar.gz' |");
    expect(shellcheck(renderStepBundle(install))).toBe("");
  });

  test("GIVEN a release needing containerd 1.6 WHEN the runtime step is rendered THEN an older containerd fails the step with a message", () => {
    const rt = edgeNodeSteps(props(), TOKEN).find((s) => s.id === "edge-1/kubeedge-runtime")!;
    expect(rt.script).toContain("is older than 1.6, which KubeEdge v1.23.1 needs");
  });

  test("GIVEN pre-staged tarballs WHEN the install step is rendered THEN nothing is downloaded", () => {
    const install = edgeNodeSteps(
      props({ edge: { install: { kind: "prestaged", dir: "/opt/kubeedge" } } }),
      TOKEN,
    ).find((s) => s.id === "edge-2/kubeedge-install")!;
    expect(install.script).not.toContain("curl");
    expect(install.script).toContain("keadm-v1.23.1-linux-arm.tar.gz");
  });

  test("GIVEN a joined node WHEN it is deleted THEN keadm reset runs and edgecore's unit and state are removed", () => {
    const join = edgeNodeSteps(props(), TOKEN).find((s) => s.id === "edge-1/kubeedge-join")!;
    expect(join.deleteScript).toContain("/usr/local/bin/keadm reset edge --force");
    expect(join.deleteScript).toContain("ec_unit_remove edgecore.service");
    expect(join.deleteScript).toContain("ec_rm /etc/kubeedge /var/lib/kubeedge /var/log/kubeedge");
  });

  const variants: [string, object][] = [
    ["v1.23.1 containerd online", {}],
    [
      "v1.23.1 NodePort prestaged",
      {
        exposure: { kind: "NodePort" },
        edge: { install: { kind: "prestaged", dir: "/opt/kubeedge" }, cgroupDriver: "cgroupfs" },
      },
    ],
    [
      "v1.20.0 quic",
      {
        version: "v1.20.0",
        kubernetesVersion: "v1.30.8+k3s1",
        cloudHub: { advertiseAddress: ["10.0.0.11"], quic: true },
        edge: { hubProtocol: "quic" },
      },
    ],
    ["v1.13.4 docker", { version: "v1.13.4", kubernetesVersion: "v1.23.17+k3s1", edge: { runtime: "docker" } }],
  ];
  test.each(variants)(
    "GIVEN %s WHEN every step and delete bundle is rendered THEN shellcheck is clean and the steps match the snapshot",
    (_n, spec) => {
      const steps = edgeNodeSteps(props(spec), TOKEN_PLACEHOLDER);
      for (const s of steps) {
        expect(shellcheck(renderStepBundle(s))).toBe("");
        expect(shellcheck(renderDeleteBundle(s))).toBe("");
      }
      expect(
        steps.map((s) => ({ id: s.id, script: s.script, files: s.files, deleteScript: s.deleteScript })),
      ).toMatchSnapshot();
    },
  );
});

describe("keadm mode", () => {
  test("GIVEN keadm mode on the host network with mosquitto WHEN the chart values are rendered THEN cloudcore is pinned to the advertised node and the chart's own mosquitto is switched on, tolerating the edge taint", () => {
    const values = keadmSetValues(props({ mode: "keadm", mosquitto: true }));
    expect(values).toEqual(
      expect.arrayContaining([
        "cloudCore.hostNetWork=true",
        "cloudCore.nodeSelector.kubernetes\\.io/hostname=cp-1",
        "mosquitto.enable=true",
        "mosquitto.tolerations[0].key=node-role.kubernetes.io/edge",
        "mosquitto.tolerations[0].operator=Exists",
        "mosquitto.tolerations[0].effect=NoSchedule",
      ]),
    );
    // off means off: the chart's default (mosquitto.enable: true) would take host port 1883 on every edge node
    expect(keadmSetValues(props({ mode: "keadm" }))).toContain("mosquitto.enable=false");
    const np = keadmSetValues(props({ mode: "keadm", exposure: { kind: "NodePort" } }));
    expect(np.some((v) => v.startsWith("cloudCore.nodeSelector"))).toBe(false);
  });

  test("GIVEN mode keadm WHEN steps are rendered THEN keadm init runs on the first server with the advertise addresses and typed options, shellcheck-clean", () => {
    const p = props({
      mode: "keadm",
      exposure: { kind: "NodePort" },
      cloudHub: { advertiseAddress: ["10.0.0.11", "10.0.0.12"] },
    });
    expect(p.keadmHost!.name).toBe("cp-1");
    const steps = keadmInitSteps(p, p.keadmHost!);
    expect(steps.map((s) => s.id)).toEqual(["cp-1/kubeedge-install", "cp-1/kubeedge-keadm-init"]);
    const init = steps[1];
    expect(init.script).toContain(
      "/usr/local/bin/keadm init --advertise-address=10.0.0.11,10.0.0.12 --kubeedge-version=1.23.1 --kube-config=/etc/rancher/k3s/k3s.yaml",
    );
    expect(init.script).toContain("--set cloudCore.service.type=NodePort");
    expect(init.deleteScript).toContain("keadm reset cloud --force");
    expect(keadmSetValues(p)).toContain("cloudCore.service.cloudhubNodePort=30000");
    for (const s of steps) {
      expect(shellcheck(renderStepBundle(s))).toBe("");
      expect(shellcheck(renderDeleteBundle(s))).toBe("");
    }
    expect(steps.map((s) => ({ id: s.id, script: s.script, deleteScript: s.deleteScript }))).toMatchSnapshot();
  });
});

describe("edge taint", () => {
  test("GIVEN the default WHEN edgecore.yaml is rendered THEN the node registers with the edge NoSchedule taint plus the host's own taints", () => {
    const issues = new IssueCollector();
    const hosts = clusterHosts();
    hosts[3] = { ...hosts[3], taints: ["dedicated=plant:NoExecute"] };
    const p = checkKubeEdgeCloud({ hosts, spec: baseSpec }, issues)!;
    const join = edgeNodeSteps(p, TOKEN).find((s) => s.id === "edge-1/kubeedge-join")!;
    const cfg = parse(join.files.find((f) => f.path === EDGECORE_CONFIG)!.content);
    expect(cfg.modules.edged.tailoredKubeletConfig.registerWithTaints).toEqual([
      { key: "node-role.kubernetes.io/edge", effect: "NoSchedule" },
      { key: "dedicated", value: "plant", effect: "NoExecute" },
    ]);
  });

  test("GIVEN taint: false WHEN edgecore.yaml is rendered THEN no taint is registered", () => {
    const join = edgeNodeSteps(props({ edge: { taint: false } }), TOKEN).find((s) => s.id === "edge-2/kubeedge-join")!;
    const cfg = parse(join.files.find((f) => f.path === EDGECORE_CONFIG)!.content);
    expect(cfg.modules.edged.tailoredKubeletConfig.registerWithTaints).toBeUndefined();
  });
});

describe("cloud firewall", () => {
  const { cloudFirewallSteps, cloudcoreFirewallPorts } =
    require("../../../components/kubeedge-cloud/firewall-steps") as typeof import("../../../components/kubeedge-cloud/firewall-steps");

  test("GIVEN hostNetwork pinned to cp-1 (Ubuntu, ufw) WHEN rendered THEN only cp-1 opens cloudcore's ports; on an active ufw they are allowed and the inverse deletes them", () => {
    const steps = cloudFirewallSteps(props());
    expect(steps.map((s) => s.id)).toEqual(["cp-1/kubeedge-firewall"]);
    const fw = firewallHost("ufw");
    try {
      expect(fw.run(renderStepBundle(steps[0])).status).toBe(0);
      expect(fw.rules().ufw).toEqual([
        "allow 10000/tcp",
        "allow 10002/tcp",
        "allow 10004/tcp",
        "allow from 10.0.0.12 to any port 10003 proto tcp",
      ]);
      expect(fw.run(renderDeleteBundle(steps[0])).status).toBe(0);
      expect(fw.rules().ufw).toEqual([]);
    } finally {
      fw.dispose();
    }
  });

  test("GIVEN the stream port (no authentication on logs/exec) WHEN the firewall step runs THEN 10003 is open only to the other K3s servers and an earlier opening to everyone is closed", () => {
    const [step] = cloudFirewallSteps(props());
    const fw = firewallHost("ufw");
    try {
      fw.run("ufw allow 10003/tcp"); // what an earlier rendering did
      expect(fw.run(renderStepBundle(step)).status).toBe(0);
      const stream = fw.rules().ufw.filter((r) => r.includes("10003"));
      // not cp-1 itself (its API server reaches cloudcore locally), not the agent (it runs no API server)
      expect(stream).toEqual(["allow from 10.0.0.12 to any port 10003 proto tcp"]);
    } finally {
      fw.dispose();
    }
    expect(shellcheck(renderStepBundle(step))).toBe("");
    expect(shellcheck(renderDeleteBundle(step))).toBe("");
    const rocky = cloudFirewallSteps(props({ exposure: { kind: "NodePort" } })).find((s) => s.host === "worker-1")!;
    const fwd = firewallHost("firewalld");
    try {
      expect(fwd.run(renderStepBundle(rocky)).status).toBe(0);
      expect(fwd.rules().rich).toEqual([
        'rule family="ipv4" source address="10.0.0.11" port port="30003" protocol="tcp" accept',
        'rule family="ipv4" source address="10.0.0.12" port port="30003" protocol="tcp" accept',
      ]);
      expect(fwd.rules().ports).not.toContain("30003/tcp");
    } finally {
      fwd.dispose();
    }
    expect(shellcheck(renderStepBundle(rocky))).toBe("");
  });

  test("GIVEN the edgecore unit WHEN rendered THEN it keeps keadm's KillMode=process (a NodeUpgradeJob's keadm survives edgecore's stop)", () => {
    const join = edgeNodeSteps(props(), TOKEN).find((s) => s.id === "edge-1/kubeedge-join")!;
    const unit = join.files.find((f) => f.path === "/etc/systemd/system/edgecore.service")!.content;
    expect(unit).toContain("\nType=simple\nKillMode=process\n");
  });

  test("GIVEN NodePort with QUIC WHEN rendered THEN every cloud host opens the node ports in whichever firewall runs there (not only where the OS profile has one), QUIC as udp", () => {
    const p = props({ exposure: { kind: "NodePort" }, cloudHub: { advertiseAddress: ["10.0.0.11"], quic: true } });
    expect(cloudcoreFirewallPorts(p)).toEqual([
      { port: 30000, protocol: "tcp" },
      { port: 30001, protocol: "udp" },
      { port: 30002, protocol: "tcp" },
      { port: 30003, protocol: "tcp" },
      { port: 30004, protocol: "tcp" },
    ]);
    const steps = cloudFirewallSteps(p);
    expect(steps.map((s) => s.id)).toEqual([
      "cp-1/kubeedge-firewall",
      "cp-2/kubeedge-firewall",
      "worker-1/kubeedge-firewall",
    ]);
    const fwd = firewallHost("firewalld");
    try {
      expect(fwd.run(renderStepBundle(steps[2])).status).toBe(0);
      expect(fwd.rules().ports).toEqual(["30000/tcp", "30001/udp", "30002/tcp", "30004/tcp"]);
      expect(fwd.rules().runtime.ports).toEqual(["30000/tcp", "30001/udp", "30002/tcp", "30004/tcp"]);
    } finally {
      fwd.dispose();
    }
    for (const s of steps) {
      expect(shellcheck(renderStepBundle(s))).toBe("");
      expect(shellcheck(renderDeleteBundle(s))).toBe("");
    }
  });
});

describe("kubeEdgeHostSteps", () => {
  const { kubeEdgeHostSteps } =
    require("../../../components/kubeedge-cloud/host-steps") as typeof import("../../../components/kubeedge-cloud/host-steps");

  test("GIVEN keadm mode WHEN every host step is planned THEN joins wait for keadm init and the cloud firewall, in one valid plan", () => {
    const steps = kubeEdgeHostSteps(props({ mode: "keadm" }), TOKEN);
    expect(() => makePlan(steps)).not.toThrow();
    expect(steps.find((s) => s.id === "edge-2/kubeedge-join")!.dependsOn).toEqual([
      "edge-2/kubeedge-install",
      "cp-1/kubeedge-firewall",
      "cp-1/kubeedge-keadm-init",
    ]);
  });

  test("GIVEN manifests mode WHEN planned THEN there is no keadm step; joins wait for the firewall and for the token Secret on the first server", () => {
    const steps = kubeEdgeHostSteps(props(), TOKEN);
    expect(steps.some((s) => s.name === "kubeedge-keadm-init")).toBe(false);
    expect(steps.find((s) => s.id === "edge-1/kubeedge-join")!.dependsOn).toEqual([
      "edge-1/kubeedge-install",
      "cp-1/kubeedge-firewall",
      "cp-1/kubeedge-token-wait",
    ]);
    const wait = steps.find((s) => s.id === "cp-1/kubeedge-token-wait")!;
    expect(wait.script).toContain("ec_retry 60 5 /usr/local/bin/k3s kubectl -n kubeedge get secret tokensecret");
    expect(wait.secret).toBe(false);
    expect(shellcheck(renderStepBundle(wait))).toBe("");
    expect(() => makePlan(steps)).not.toThrow();
  });
});
