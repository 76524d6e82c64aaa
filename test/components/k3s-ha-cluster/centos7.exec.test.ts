import { renderK3sHaClusterSteps } from "../../../components/k3s-ha-cluster/plan";
import { placeholderMaterial } from "../../../components/k3s-ha-cluster/material";
import { CENTOS7_REPO_FILE } from "../../../components/k3s-ha-cluster/package-repos-step";
import { validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { HostInput } from "../../../lib/hosts/host";
import { renderDeleteBundle, renderStepBundle } from "../../../lib/steps/bundle";
import { makePlan } from "../../../lib/steps/plan";
import { haHosts, haSpec } from "../../fixtures/cluster";
import { canRunStubHost, stubHost } from "../../support/stub-host";

const maybe = canRunStubHost ? describe : describe.skip;
const machine = process.arch === "arm64" ? "arm64" : "amd64";
const CENTOS7 = 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nVERSION_ID="7"\n';
// yum as on a stock CentOS 7 image since 2024-07: the mirrorlist host is gone
const DEAD_YUM = `echo "yum $*" >>"$STUB_STATE/log"
echo "Could not resolve host: mirrorlist.centos.org; Unknown error" >&2; exit 1`;
const small = { cpus: 1, memoryGiB: 0.1, diskGiB: 0.1 };

const stepsFor = (agent: Partial<HostInput>) => {
  const hosts = haHosts.map((h) => (h.name === "agent-1" ? { ...h, arch: machine, minima: small, ...agent } : h));
  const p = validateK3sHaCluster({ name: "demo", hosts, spec: haSpec });
  return renderK3sHaClusterSteps(p, placeholderMaterial(p));
};
const byId = (steps: ReturnType<typeof stepsFor>, id: string) => steps.find((s) => s.id === id)!;

maybe("CentOS 7 (end-of-life): pre-flight and packageMirror, executed on a stub host", () => {
  test("GIVEN a stock CentOS 7 agent WHEN pre-flight runs THEN it fails before anything is installed, saying why and naming packageMirror", () => {
    const host = stubHost({ osRelease: CENTOS7, stubs: { yum: DEAD_YUM } });
    try {
      const steps = stepsFor({});
      const r = host.run(renderStepBundle(byId(steps, "agent-1/preflight")));
      expect(r.status).toBe(1);
      expect(r.out).toContain(
        'pre-flight agent-1: yum cannot reach its repositories (CentOS 7 is end-of-life since 2024-06-30 and mirrorlist.centos.org no longer resolves); set packageMirror of host "agent-1" to https://vault.centos.org/7.9.2009 or a mirror of it',
      );
      // every installing step on that host waits for the pre-flight
      for (const s of steps.filter((x) => x.host === "agent-1" && x.name !== "preflight"))
        expect(makePlan(steps).steps.findIndex((x) => x.id === s.id)).toBeGreaterThan(
          makePlan(steps).steps.findIndex((x) => x.id === "agent-1/preflight"),
        );
    } finally {
      host.dispose();
    }
  });

  test("GIVEN packageMirror WHEN the package-repos step runs THEN yum is pointed at the vault layout, the stock repo file is moved aside, the mirror is proven with makecache; k3s-prereqs waits for it; the inverse restores the stock file", () => {
    const host = stubHost({ osRelease: CENTOS7 });
    try {
      host.put("/etc/yum.repos.d/CentOS-Base.repo", "[base]\nmirrorlist=http://mirrorlist.centos.org/?release=7\n");
      const steps = stepsFor({ packageMirror: { baseUrl: "https://vault.centos.org/7.9.2009" } });
      const repos = byId(steps, "agent-1/package-repos");
      expect(byId(steps, "agent-1/k3s-prereqs").dependsOn).toContain("agent-1/package-repos");
      // with a mirror set, pre-flight does not probe the stock repositories
      expect(byId(steps, "agent-1/preflight").script).not.toContain("yum -q repolist");
      const r = host.run(renderStepBundle(repos));
      expect(r.status).toBe(0);
      const repo = host.file(CENTOS7_REPO_FILE)!;
      expect(repo).toContain("baseurl=https://vault.centos.org/7.9.2009/os/$basearch/");
      expect(repo).toContain("baseurl=https://vault.centos.org/7.9.2009/updates/$basearch/");
      expect(repo).toContain("baseurl=https://vault.centos.org/7.9.2009/extras/$basearch/");
      expect(repo).toContain("gpgcheck=1");
      expect(host.file("/etc/yum.repos.d/CentOS-Base.repo")).toBeUndefined();
      expect(r.calls).toContain("yum -q makecache");
      expect(host.run(renderStepBundle(repos)).out).toContain("edgecloud-step: changed=0");
      expect(host.run(renderDeleteBundle(repos)).status).toBe(0);
      expect(host.file("/etc/yum.repos.d/CentOS-Base.repo")).toContain("mirrorlist.centos.org");
      expect(host.file(CENTOS7_REPO_FILE)).toBeUndefined();
    } finally {
      host.dispose();
    }
  });

  test("GIVEN a packageMirror that does not answer THEN the package-repos step fails naming the mirror and the field", () => {
    const host = stubHost({ osRelease: CENTOS7, stubs: { yum: DEAD_YUM } });
    try {
      const steps = stepsFor({ packageMirror: { baseUrl: "https://mirror.example.lan/centos/7" } });
      const r = host.run(renderStepBundle(byId(steps, "agent-1/package-repos")));
      expect(r.status).toBe(1);
      expect(r.out).toContain(
        'yum cannot read the package mirror https://mirror.example.lan/centos/7 (hosts[].packageMirror of "agent-1")',
      );
    } finally {
      host.dispose();
    }
  });
});

maybe("pre-flight checks that depend on the spec, executed on a stub host", () => {
  const osRelease = 'ID="ubuntu"\nVERSION_ID="22.04"\n';
  const run = (spec: object, extra: Record<string, string> = {}) => {
    const hosts = haHosts.map((h) => (h.name === "server-1" ? { ...h, arch: machine, minima: small } : h));
    const p = validateK3sHaCluster({ name: "demo", hosts, spec: { ...haSpec, ...spec } });
    const step = renderK3sHaClusterSteps(p, placeholderMaterial(p)).find((s) => s.id === "server-1/preflight")!;
    const host = stubHost({ osRelease, stubs: extra });
    try {
      return host.run(renderStepBundle(step));
    } finally {
      host.dispose();
    }
  };

  test("GIVEN kube-vip on an interface the server does not have THEN pre-flight fails naming it and the host's interfaces", () => {
    const r = run({ registrationAddress: { kind: "kube-vip", vip: "192.168.10.100", interface: "ecnope0" } });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(
      /pre-flight server-1: network interface ecnope0 \(k3s\.registrationAddress\.interface: kube-vip announces the VIP on it\) does not exist; this host has: .*lo/,
    );
    expect(run({ registrationAddress: { kind: "kube-vip", vip: "192.168.10.100", interface: "lo" } }).status).toBe(0);
  });

  test("GIVEN flannel wireguard-native on a kernel without the module THEN pre-flight fails saying so", () => {
    const noModule = { modprobe: 'echo "modprobe $*" >>"$STUB_STATE/log"; exit 1' };
    const r = run(
      {
        registrationAddress: { kind: "kube-vip", vip: "192.168.10.100", interface: "lo" },
        network: { flannelBackend: "wireguard-native" },
      },
      noModule,
    );
    expect(r.status).toBe(1);
    expect(r.out).toContain("flannel wireguard-native needs the wireguard kernel module");
  });
});
