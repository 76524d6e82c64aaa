import { k3sPrereqsStep } from "../../../components/k3s-ha-cluster/k3s/prereqs-step";
import { validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { renderDeleteBundle, renderStepBundle } from "../../../lib/steps/bundle";
import { haHosts, haSpec } from "../../fixtures/cluster";
import { canRunStubHost, stubHost } from "../../support/stub-host";

const maybe = canRunStubHost ? describe : describe.skip;
const hosts = haHosts.filter((h) => h.name !== "agent-2"); // kylin-v10: no Docker Engine source (refused, see validate)
const prereqs = (host: string, spec: object = {}) => {
  const p = validateK3sHaCluster({ name: "demo", hosts, spec: { ...haSpec, ...spec } });
  return k3sPrereqsStep(
    p.hosts.find((h) => h.name === host)!,
    "server",
    p.spec,
  );
};

maybe("k3s-prereqs bundle, executed on a stub host", () => {
  test("GIVEN runtime docker on rocky-9 WHEN the step runs THEN Docker's repository is added before dnf installs docker-ce and containerd.io, and the inverse removes the repository file", () => {
    const host = stubHost({
      mirror: {
        "download.docker.com/linux/centos/docker-ce.repo":
          "[docker-ce-stable]\nbaseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable\n",
      },
    });
    try {
      host.installed("curl", "tar", "container-selinux", "policycoreutils");
      const step = prereqs("server-2", { runtime: "docker" });
      const r = host.run(renderStepBundle(step));
      expect(r.status).toBe(0);
      expect(host.file("/etc/yum.repos.d/docker-ce.repo")).toContain("[docker-ce-stable]");
      const repoAt = r.calls.findIndex((c) => c.startsWith("curl") && c.includes("docker-ce.repo"));
      const dnfAt = r.calls.findIndex((c) => c.startsWith("dnf install") && c.includes("docker-ce"));
      expect(repoAt).toBeGreaterThanOrEqual(0);
      expect(dnfAt).toBeGreaterThan(repoAt);
      expect(r.calls[dnfAt]).toContain("containerd.io");
      expect(r.calls).toContain("systemctl enable --now --quiet docker.service");
      expect(host.run(renderStepBundle(step)).out).toContain("edgecloud-step: changed=0");
      expect(host.run(renderDeleteBundle(step)).status).toBe(0);
      expect(host.file("/etc/yum.repos.d/docker-ce.repo")).toBeUndefined();
    } finally {
      host.dispose();
    }
  });

  test("GIVEN runtime docker on Ubuntu THEN docker.io comes from the distribution and no repository is added", () => {
    const host = stubHost();
    try {
      host.installed("curl", "tar");
      const r = host.run(renderStepBundle(prereqs("server-1", { runtime: "docker" })));
      expect(r.status).toBe(0);
      expect(r.calls.filter((c) => c.startsWith("apt-get install"))).toEqual([expect.stringContaining("docker.io")]);
      expect(r.calls.some((c) => c.startsWith("curl"))).toBe(false);
    } finally {
      host.dispose();
    }
  });
});
