import { packageReposStepIds, serversStartedStepId } from "../../../components/k3s-ha-cluster/anchors";
import { placeholderMaterial } from "../../../components/k3s-ha-cluster/material";
import { renderK3sHaClusterSteps } from "../../../components/k3s-ha-cluster/plan";
import { clusterTopology } from "../../../components/k3s-ha-cluster/topology";
import { validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { haHosts, haSpec } from "../../fixtures/cluster";

const props = validateK3sHaCluster({ name: "demo", hosts: haHosts, spec: haSpec });
const steps = renderK3sHaClusterSteps(props, placeholderMaterial(props));
const ids = steps.map((s) => s.id);

describe("the cluster's anchors (what other components wait for)", () => {
  test("GIVEN 3 servers THEN serversStarted is the last server's start, which every other server's start precedes", () => {
    const anchor = serversStartedStepId(clusterTopology(props));
    expect(anchor).toBe("server-3/k3s-start");
    expect(ids).toContain(anchor);
    // the chain: server-1 → server-2 → server-3 (each start after the previous one)
    const deps = (id: string): string[] => [...(steps.find((s) => s.id === id)!.dependsOn ?? [])];
    const closure = new Set<string>();
    const walk = (id: string): void => {
      for (const d of deps(id))
        if (!closure.has(d)) {
          closure.add(d);
          walk(d);
        }
    };
    walk(anchor);
    expect(["server-1/k3s-start", "server-2/k3s-start"].every((id) => closure.has(id))).toBe(true);
  });

  test("GIVEN a package mirror on the CentOS 7 host only THEN packageRepos names exactly its package-repos step", () => {
    expect(packageReposStepIds(ids)).toEqual([]);
    const hosts = haHosts.map((h) =>
      h.name === "agent-1" ? { ...h, packageMirror: { baseUrl: "https://vault.centos.org/7.9.2009" } } : h,
    );
    const p = validateK3sHaCluster({ name: "demo", hosts, spec: haSpec });
    const withMirror = renderK3sHaClusterSteps(p, placeholderMaterial(p)).map((s) => s.id);
    expect(packageReposStepIds(withMirror)).toEqual(["agent-1/package-repos"]);
    expect(packageReposStepIds(["x/package-repos-old", "y/k3s-start"])).toEqual([]);
  });
});
