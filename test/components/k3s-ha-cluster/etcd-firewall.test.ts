import { renderK3sHaClusterSteps } from "../../../components/k3s-ha-cluster/plan";
import { placeholderMaterial } from "../../../components/k3s-ha-cluster/material";
import { validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { renderDeleteBundle, renderStepBundle } from "../../../lib/steps/bundle";
import { haHosts, haSpec } from "../../fixtures/cluster";
import { firewallHost } from "../../support/firewall-stubs";

const props = validateK3sHaCluster({ name: "demo", hosts: haHosts, spec: haSpec });
const steps = renderK3sHaClusterSteps(props, placeholderMaterial(props));
const step = (id: string) => steps.find((s) => s.id === id)!;

const members = ["192.168.10.11", "192.168.10.12", "192.168.10.13"];
const servers = ["192.168.10.21", "192.168.10.22", "192.168.10.23"];
const rich = (src: string, port: number) =>
  `rule family="ipv4" source address="${src}" port port="${port}" protocol="tcp" accept`;

describe("etcd-firewall step", () => {
  test("GIVEN the HA cluster THEN every member's etcd-member step waits for its own etcd-firewall step", () => {
    for (const m of ["etcd-1", "etcd-2", "etcd-3"]) {
      expect(step(`${m}/etcd-member`).dependsOn).toContain(`${m}/etcd-firewall`);
    }
  });

  test("GIVEN a firewalld host (etcd-2, rocky-9) WHEN the step runs THEN 2379 is open to exactly the members and servers, 2380 to exactly the members; a re-run changes nothing; the inverse closes them", () => {
    const fw = firewallHost("firewalld");
    try {
      const s = step("etcd-2/etcd-firewall");
      const first = fw.run(renderStepBundle(s));
      expect(first.status).toBe(0);
      expect(first.out).toContain("edgecloud-step: changed=1");
      expect(fw.rules().rich.sort()).toEqual(
        [...[...members, ...servers].map((a) => rich(a, 2379)), ...members.map((a) => rich(a, 2380))].sort(),
      );
      expect(fw.rules().ports).toEqual([]); // never opened to everyone
      expect(fw.run(renderStepBundle(s)).out).toContain("edgecloud-step: changed=0");
      const del = fw.run(renderDeleteBundle(s));
      expect(del.status).toBe(0);
      expect(fw.rules().rich).toEqual([]);
    } finally {
      fw.dispose();
    }
  });

  test("GIVEN an active ufw host (etcd-3, ubuntu) WHEN the step runs THEN ufw allows 2379 from members and servers and 2380 from members only; the inverse deletes exactly those rules", () => {
    const fw = firewallHost("ufw");
    try {
      const s = step("etcd-3/etcd-firewall");
      expect(fw.run(renderStepBundle(s)).status).toBe(0);
      const allow = (src: string, port: number) => `allow from ${src} to any port ${port} proto tcp`;
      expect(fw.rules().ufw.sort()).toEqual(
        [...[...members, ...servers].map((a) => allow(a, 2379)), ...members.map((a) => allow(a, 2380))].sort(),
      );
      expect(fw.run(renderStepBundle(s)).out).toContain("edgecloud-step: changed=0");
      expect(fw.run(renderDeleteBundle(s)).status).toBe(0);
      expect(fw.rules().ufw).toEqual([]);
    } finally {
      fw.dispose();
    }
  });

  test("GIVEN a Debian member whose operator enabled firewalld (the profile's default is none) THEN the ports are opened too", () => {
    const fw = firewallHost("firewalld");
    try {
      expect(fw.run(renderStepBundle(step("etcd-1/etcd-firewall"))).status).toBe(0);
      expect(fw.rules().rich).toContain(rich("192.168.10.21", 2379));
    } finally {
      fw.dispose();
    }
  });

  test("GIVEN a host with no firewall running THEN the step changes nothing", () => {
    const fw = firewallHost("none");
    try {
      const r = fw.run(renderStepBundle(step("etcd-2/etcd-firewall")));
      expect(r.status).toBe(0);
      expect(r.out).toContain("edgecloud-step: changed=0");
    } finally {
      fw.dispose();
    }
  });
});
