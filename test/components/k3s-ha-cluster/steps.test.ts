import { renderK3sHaClusterSteps } from "../../../components/k3s-ha-cluster/plan";
import { placeholderMaterial } from "../../../components/k3s-ha-cluster/material";
import { validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { k3sStartStep } from "../../../components/k3s-ha-cluster/k3s/start-step";
import { etcdRollingRestartSteps } from "../../../components/k3s-ha-cluster/etcd/rolling-restart";
import { HostInput } from "../../../lib/hosts/host";
import { ARCHES } from "../../../lib/platform/arch";
import { DISTRO_ETCD_OS, supportsArch } from "../../../lib/platform/support-matrix";
import { OS_IDS } from "../../../lib/platform/os";
import { renderDeleteBundle, renderStepBundle } from "../../../lib/steps/bundle";
import { makePlan } from "../../../lib/steps/plan";
import { haHosts, haSpec } from "../../fixtures/cluster";
import { shellcheck } from "../../support/shellcheck";
import { parse } from "yaml";

const ssh = { privateKeyPath: "/k" };
const props = validateK3sHaCluster({ name: "demo", hosts: haHosts, spec: haSpec });
const steps = renderK3sHaClusterSteps(props, placeholderMaterial(props));
const byId = new Map(steps.map((s) => [s.id, s]));

describe("K3sHaCluster host steps", () => {
  test("GIVEN the HA example THEN the plan orders etcd → gate → servers one at a time → agents", () => {
    const plan = makePlan(steps);
    const order = plan.steps.map((s) => s.id);
    const idx = (id: string) => order.indexOf(id);
    expect(byId.get("server-1/etcd-health-gate")!.dependsOn).toEqual([
      "etcd-1/etcd-member",
      "etcd-2/etcd-member",
      "etcd-3/etcd-member",
      "server-1/k3s-config",
    ]);
    expect(byId.get("server-1/k3s-start")!.dependsOn).toEqual(["server-1/k3s-install", "server-1/etcd-health-gate"]);
    expect(byId.get("server-2/k3s-start")!.dependsOn).toContain("server-1/k3s-start");
    expect(byId.get("server-3/k3s-start")!.dependsOn).toContain("server-2/k3s-start");
    expect(byId.get("agent-1/k3s-start")!.dependsOn).toContain("server-3/k3s-start");
    expect(byId.get("etcd-2/etcd-member")!.dependsOn).toContain("etcd-1/etcd-member");
    expect(idx("server-1/etcd-health-gate")).toBeGreaterThan(idx("etcd-3/etcd-member"));
    for (const s of steps) if (s.name !== "preflight") expect(s.dependsOn.length).toBeGreaterThan(0);
  });

  test("every step's bundle and delete bundle pass shellcheck", () => {
    for (const s of steps) {
      expect({ id: s.id, findings: shellcheck(renderStepBundle(s)) }).toEqual({ id: s.id, findings: "" });
      expect({ id: s.id, findings: shellcheck(renderDeleteBundle(s)) }).toEqual({ id: s.id, findings: "" });
    }
  });

  test("the token and keys live only in secret 0600 files", () => {
    const config = byId.get("server-2/k3s-config")!;
    const cfgFile = config.files.find((f) => f.path === "/etc/rancher/k3s/config.yaml")!;
    expect(cfgFile).toMatchObject({ mode: "0600", secret: true });
    const cfg = parse(cfgFile.content);
    expect(cfg).toMatchObject({
      token: "<token>",
      "node-name": "server-2",
      "datastore-endpoint": "https://192.168.10.11:2379,https://192.168.10.12:2379,https://192.168.10.13:2379",
      "datastore-cafile": "/etc/rancher/k3s/etcd/ca.crt",
      "datastore-certfile": "/etc/rancher/k3s/etcd/client.crt",
      "datastore-keyfile": "/etc/rancher/k3s/etcd/client.key",
      "tls-san": ["192.168.10.100", "192.168.10.22"],
      disable: ["traefik"],
    });
    expect(config.files.find((f) => f.path.endsWith("client.key"))).toMatchObject({
      mode: "0600",
      secret: true,
      content: "<k3s-server-2.key>",
    });
    const member = byId.get("etcd-2/etcd-member")!;
    for (const f of member.files.filter((f) => f.path.endsWith(".key")))
      expect(f).toMatchObject({ mode: "0600", secret: true });
    for (const s of steps) {
      expect(s.script).not.toContain("<token>");
      expect(s.deleteScript).not.toContain("<token>");
    }
  });

  test("etcd runs TLS-only with client and peer certificate auth", () => {
    const env = byId.get("etcd-1/etcd-member")!.files.find((f) => f.path === "/etc/etcd/edgecloud-etcd.env")!.content;
    expect(env).toContain('ETCD_CLIENT_CERT_AUTH="true"\n');
    expect(env).toContain('ETCD_PEER_CLIENT_CERT_AUTH="true"\n');
    // the initial cluster sits apart from the restart fingerprint: a membership change restarts no running member
    const cluster = byId
      .get("etcd-1/etcd-member")!
      .files.find((f) => f.path === "/etc/etcd/edgecloud-etcd.cluster.env")!.content;
    expect(cluster).toBe(
      'ETCD_INITIAL_CLUSTER="etcd-1=https://192.168.10.11:2380,etcd-2=https://192.168.10.12:2380,etcd-3=https://192.168.10.13:2380"\n',
    );
    expect(env).not.toContain("ETCD_INITIAL_CLUSTER=");
    expect(byId.get("etcd-1/etcd-member")!.script).not.toMatch(/ec_fingerprint [^\n]*cluster\.env/);
    expect(env).not.toMatch(/http:\/\//);
  });

  test("agents join through the registration address; kube-vip goes to the servers' manifests", () => {
    const agent = parse(byId.get("agent-1/k3s-config")!.files[0]!.content);
    expect(agent.server).toBe("https://192.168.10.100:6443");
    expect(agent["node-label"]).toEqual(["zone=a"]);
    const kv = byId.get("server-1/k3s-config")!.files.find((f) => f.path.endsWith("edgecloud-kube-vip.yaml"));
    expect(kv?.content).toContain("value: 192.168.10.100");
  });

  test("single node: one server on SQLite, no etcd steps", () => {
    const one = validateK3sHaCluster({ name: "dev", hosts: [{ ...haHosts[3]! }], spec: {} });
    const s = renderK3sHaClusterSteps(one, placeholderMaterial(one));
    expect(s.map((x) => x.id)).toEqual([
      "server-1/preflight",
      "server-1/k3s-prereqs",
      "server-1/k3s-config",
      "server-1/k3s-install",
      "server-1/k3s-start",
    ]);
    expect(parse(s[2]!.files[0]!.content)["datastore-endpoint"]).toBeUndefined();
  });

  test("install: sha256-verified download from the pinned release; CN mirror; air-gap from a pre-staged directory; per-host override", () => {
    // kube-vip from a registry the servers reach (ghcr.io is refused with mirror cn and air-gap)
    const reg = { ...haSpec.registrationAddress!, image: "registry.example.lan/kube-vip/kube-vip:v0.8.9" };
    const install = (spec: object, host = 3) => {
      const p = validateK3sHaCluster({
        name: "demo",
        hosts: haHosts,
        spec: { ...haSpec, registrationAddress: reg, ...spec },
      });
      return renderK3sHaClusterSteps(p, placeholderMaterial(p)).find(
        (s) => s.id === `${haHosts[host]!.name}/k3s-install`,
      )!.script;
    };
    const online = install({});
    expect(online).toContain(
      'curl -fsSL --retry 3 --proto =https --proto-redir =https -o "$work/k3s" -- https://github.com/k3s-io/k3s/releases/download/v1.31.4%2Bk3s1/k3s',
    );
    expect(online).toContain('echo "$expected  $work/k3s" | sha256sum -c --quiet');
    expect(online).toContain(
      "INSTALL_K3S_SKIP_DOWNLOAD=binary INSTALL_K3S_SKIP_START=true INSTALL_K3S_SKIP_ENABLE=true INSTALL_K3S_VERSION=v1.31.4+k3s1",
    );
    expect(install({}, 5)).toContain("/v1.31.4%2Bk3s1/k3s-arm64");
    const cn = install({ install: { kind: "online", mirror: "cn" } });
    expect(cn).toContain("https://rancher-mirror.rancher.cn/k3s/v1.31.4-k3s1/k3s");
    expect(cn).not.toContain("%2B");
    expect(cn).toContain("INSTALL_K3S_MIRROR=cn");
    const airgap = install({ install: { kind: "airgap", dir: "/opt/k3s" } });
    expect(airgap).not.toContain("curl");
    expect(airgap).toContain('cp -- /opt/k3s/k3s "$work/k3s"');
    // the release's own checksum file, pre-staged with the binary, is checked by default
    expect(airgap).toContain("for f in /opt/k3s/k3s /opt/k3s/install.sh /opt/k3s/sha256sum-amd64.txt; do");
    expect(airgap).toContain("expected=$(awk -v f=k3s '$2 == f { print $1 }' /opt/k3s/sha256sum-amd64.txt)");
    expect(airgap).toContain("INSTALL_K3S_SKIP_SELINUX_RPM=true");
    expect(airgap).toContain("INSTALL_K3S_SKIP_DOWNLOAD=true");
    expect(install({ install: { kind: "airgap", dir: "/opt/k3s" } }, 5)).toContain(
      'cp -- /opt/k3s/k3s-arm64 "$work/k3s"',
    );
    expect(airgap).toContain("/opt/k3s/k3s-airgap-images-amd64.tar*");
    const sha = "ab".repeat(32);
    const override = install({ artifactOverrides: { "server-1": { source: "/opt/custom/k3s", sha256: sha } } });
    expect(override).toContain('cp -- /opt/custom/k3s "$work/k3s"');
    expect(override).toContain(`echo '${sha}  '"$work/k3s" | sha256sum -c --quiet`);
    expect(override).not.toContain("sha256sum-");
    const fetched = install({ artifactOverrides: { "server-1": { source: "https://m.local/k3s", sha256: sha } } });
    expect(fetched).toContain(
      'curl -fsSL --retry 3 --proto =https --proto-redir =https -o "$work/k3s" -- https://m.local/k3s',
    );
    const insecure = install({
      artifactOverrides: { "server-1": { source: "http://m.local/k3s", sha256: sha, insecure: true } },
    });
    expect(insecure).toContain('curl -fsSL --retry 3  -o "$work/k3s" -- http://m.local/k3s');
    expect(insecure).toContain(`echo '${sha}  '"$work/k3s" | sha256sum -c --quiet`);
  });

  test("GIVEN mirror cn THEN the servers pull K3s's system images through the CN registry (system-default-registry), agents get no such key", () => {
    const reg = { ...haSpec.registrationAddress!, image: "registry.example.lan/kube-vip/kube-vip:v0.8.9" };
    const p = validateK3sHaCluster({
      name: "demo",
      hosts: haHosts,
      spec: { ...haSpec, registrationAddress: reg, install: { kind: "online", mirror: "cn" } },
    });
    const all = renderK3sHaClusterSteps(p, placeholderMaterial(p));
    const cfg = (id: string) => parse(all.find((s) => s.id === id)!.files[0]!.content);
    expect(cfg("server-1/k3s-config")["system-default-registry"]).toBe("registry.cn-hangzhou.aliyuncs.com");
    expect(cfg("agent-1/k3s-config")["system-default-registry"]).toBeUndefined();
    expect(parse(byId.get("server-1/k3s-config")!.files[0]!.content)["system-default-registry"]).toBeUndefined();
  });

  test("a new binary restarts through the chained start steps: the etcd and K3s binaries are part of the restart fingerprint", () => {
    expect(byId.get("etcd-1/etcd-member")!.script).toMatch(
      /want=\$\(ec_fingerprint .* \/usr\/local\/lib\/edgecloud\/etcd\/v3\.5\.17\/etcd\)/,
    );
    expect(byId.get("server-2/k3s-start")!.script).toMatch(/want=\$\(ec_fingerprint \/usr\/local\/bin\/k3s /);
  });

  test("maintenance: members defragment 10 minutes apart; the timers' services never start a stopped member (Requisite)", () => {
    const maintain = (m: string) =>
      byId.get(`${m}/etcd-maintenance`)!.files.find((f) => f.path.endsWith("etcd-maintain.sh"))!.content;
    expect(maintain("etcd-1")).toContain("sleep 0\n");
    expect(maintain("etcd-2")).toContain("sleep 600\n");
    expect(maintain("etcd-3")).toContain("sleep 1200\n");
    for (const f of byId.get("etcd-1/etcd-maintenance")!.files.filter((x) => x.path.endsWith(".service"))) {
      expect(f.content).toContain("Requisite=edgecloud-etcd.service");
      expect(f.content).not.toContain("Requires=");
    }
  });

  test("etcd-install moves a distribution's etcd data aside instead of deleting it", () => {
    const s = byId.get("etcd-1/etcd-install")!.script;
    expect(s).not.toContain("rm -rf /var/lib/etcd/default");
    expect(s).toContain('mv /var/lib/etcd/default "/var/lib/etcd/default.edgecloud-moved-');
  });

  test("GIVEN an IPv6 registration address WHEN an agent waits for it THEN the URL brackets the address", () => {
    const agent = props.hosts.find((h) => h.name === "agent-1")!;
    const s = k3sStartStep(agent, "agent", "fd00::10", []).script;
    expect(s).toContain("-o /dev/null 'https://[fd00::10]:6443/ping'\n");
  });

  test("rolling restart goes member by member", () => {
    const r = etcdRollingRestartSteps(
      props.hosts.filter((h) => h.roles.includes("etcd")),
      props.spec.etcd,
    );
    expect(r.map((s) => [s.id, s.dependsOn])).toEqual([
      ["etcd-1/etcd-restart", []],
      ["etcd-2/etcd-restart", ["etcd-1/etcd-restart"]],
      ["etcd-3/etcd-restart", ["etcd-2/etcd-restart"]],
    ]);
  });
});

describe("per OS family × arch", () => {
  const PICK = [
    "e1/etcd-install",
    "e1/etcd-member",
    "s1/k3s-prereqs",
    "s1/k3s-config",
    "s1/k3s-install",
    "a1/k3s-config",
  ];
  type Picked = Record<string, { script: string; delete: string | undefined; files: string[] }>;
  /** The picked steps of a 3-host cluster (etcd, server, agent) on one OS and arch, as the snapshot shows them. */
  function render(os: (typeof OS_IDS)[number], arch: (typeof ARCHES)[number]): Picked {
    const install =
      DISTRO_ETCD_OS.includes(os) && arch !== "arm"
        ? { kind: "distro" as const }
        : arch === "arm"
          ? { kind: "prestaged" as const, tarball: "/opt/etcd.tar.gz" }
          : { kind: "release" as const };
    const hosts: HostInput[] = [
      { name: "e1", address: "10.1.0.1", ssh, os, arch, roles: ["etcd"] },
      { name: "s1", address: "10.1.0.2", ssh, os, arch, roles: ["server"] },
      { name: "a1", address: "10.1.0.3", ssh, os, arch, roles: ["agent"] },
    ];
    const p = validateK3sHaCluster({
      name: "m",
      hosts,
      spec: { etcd: { install }, runtime: os.startsWith("ubuntu") ? "docker" : "containerd" },
    });
    const out: Picked = Object.fromEntries(
      renderK3sHaClusterSteps(p, placeholderMaterial(p))
        .filter((s) => PICK.includes(s.id))
        .map((s) => [
          s.id,
          {
            script: s.script,
            delete: s.deleteScript,
            files: s.files.map((f) => `${f.mode} ${f.owner ?? "root:root"} ${f.path}${f.secret ? " (secret)" : ""}`),
          },
        ]),
    );
    expect(Object.keys(out)).toHaveLength(PICK.length);
    return out;
  }
  const only = (o: Picked, prefix: string): Picked =>
    Object.fromEntries(Object.entries(o).filter(([id]) => id.startsWith(prefix)));
  /**
   * Another arch's rendering is the amd64 one with exactly these changes: the K3s binary's release asset and its
   * checksum file (k3s-io/k3s releases: `k3s`, `k3s-arm64`, `k3s-armhf`; `sha256sum-<amd64|arm64|arm>.txt`) and
   * etcd's release tarball (`etcd-<v>-linux-<arch>.tar.gz`).
   */
  function forArch(o: Picked, arch: "arm64" | "arm"): Picked {
    const asset = arch === "arm64" ? "k3s-arm64" : "k3s-armhf";
    const text = JSON.stringify(o)
      .replace(/(releases\/download\/[^" ]+)\/k3s\b(?!-)/g, `$1/${asset}`)
      .replaceAll("sha256sum-amd64.txt", `sha256sum-${arch}.txt`)
      .replaceAll("-v f=k3s '", `-v f=${asset} '`)
      .replaceAll("no checksum for k3s in", `no checksum for ${asset} in`)
      .replaceAll("-linux-amd64", `-linux-${arch}`);
    return JSON.parse(text) as Picked;
  }
  // One whole-output snapshot per OS, on amd64; the other arches are asserted as exact transformations of it.
  test.each(OS_IDS)("%s/amd64 renders etcd and K3s steps (snapshot)", (os) => {
    expect(render(os, "amd64")).toMatchSnapshot();
  });
  test.each(OS_IDS.filter(() => supportsArch("k3s", "arm64")))(
    "%s/arm64 renders exactly the amd64 steps with the arm64 release assets",
    (os) => {
      expect(render(os, "arm64")).toEqual(forArch(render(os, "amd64"), "arm64"));
    },
  );
  // 32-bit arm has no etcd release or distro package here: etcd comes pre-staged, the same script on every OS
  test("debian-12/arm renders the pre-staged etcd install (snapshot)", () => {
    expect(only(render("debian-12", "arm"), "e1/")).toMatchSnapshot();
  });
  test.each(OS_IDS.filter(() => supportsArch("k3s", "arm")))(
    "%s/arm renders the amd64 K3s steps with the armhf assets, and the pre-staged etcd steps of every OS",
    (os) => {
      const arm = render(os, "arm");
      expect(only(arm, "s1/")).toEqual(forArch(only(render(os, "amd64"), "s1/"), "arm"));
      expect(only(arm, "a1/")).toEqual(forArch(only(render(os, "amd64"), "a1/"), "arm"));
      expect(only(arm, "e1/")).toEqual(only(render("debian-12", "arm"), "e1/"));
    },
  );
});
