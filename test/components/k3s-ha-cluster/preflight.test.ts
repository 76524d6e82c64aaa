import {
  checkPreflightFacts,
  parsePreflightFacts,
  preflightStep,
} from "../../../components/k3s-ha-cluster/preflight-step";
import { validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { haHosts, haSpec } from "../../fixtures/cluster";

describe("pre-flight", () => {
  test("GIVEN facts from hosts sharing a hostname and a machine id THEN the check names them all", () => {
    const facts = [
      "host=a hostname=x machine-id=1",
      "host=b hostname=x machine-id=1",
      "host=c hostname=x machine-id=2",
    ].map((l) => parsePreflightFacts(`edgecloud-facts: ${l}`)!);
    expect(checkPreflightFacts(facts)).toEqual([
      'hosts "a", "b" and "c" all report hostname "x"; K3s registers nodes by name: give each host its own hostname',
      'hosts "a" and "b" both report machine-id "1"; cloned machines must regenerate /etc/machine-id',
    ]);
  });

  test("GIVEN distinct hosts THEN no problem", () => {
    const facts = ["host=a hostname=a machine-id=1", "host=b hostname=b machine-id=2"].map((l) =>
      parsePreflightFacts(`edgecloud-facts: ${l}`)!,
    );
    expect(checkPreflightFacts(facts)).toEqual([]);
  });

  test("minima: the largest per role, overridable per host", () => {
    const p = validateK3sHaCluster({
      name: "demo",
      hosts: haHosts.map((h, i) => (i === 3 ? { ...h, minima: { memoryGiB: 64 } } : h)),
      spec: haSpec,
    });
    const server = preflightStep(p.hosts[3]!, ["server"], p.hosts).script;
    expect(server).toContain(`-ge ${Math.floor(64 * 0.9 * 1024 * 1024)} ]`);
    expect(server).toContain("roles=server\n");
    expect(server).toContain("roles $roles need at least 64 GiB");
    expect(server).toContain('[ "$cpus" -ge 2 ]');
    const agent = preflightStep(p.hosts[6]!, ["agent"], p.hosts).script;
    expect(agent).toContain("roles=agent\n");
    expect(agent).toContain("roles $roles need at least 2 GiB");
    expect(agent).toContain("other_hosts=' etcd-1 etcd-2 etcd-3 server-1 server-2 server-3 agent-2 '");
  });
});
