import { k3sNodesReadyStep, k3sStartStep } from "../../../components/k3s-ha-cluster/k3s/start-step";
import { validateK3sHaCluster } from "../../../components/k3s-ha-cluster/validate";
import { renderStepBundle } from "../../../lib/steps/bundle";
import { haHosts, haSpec } from "../../fixtures/cluster";
import { canRunStubHost, stubHost } from "../../support/stub-host";

const maybe = canRunStubHost ? describe : describe.skip;
/** A k3s binary whose API is up and whose nodes' Ready condition is $STUB_NODE_READY. */
const fakeK3s = (build: string) => `#!/bin/sh
# build ${build}
case "$*" in
  "kubectl get --raw=/readyz") exit 0 ;;
  "kubectl get node "*) printf '%s' "\${STUB_NODE_READY:-False}" ;;
  *) exit 1 ;;
esac
`;
const props = validateK3sHaCluster({ name: "demo", hosts: haHosts, spec: haSpec });
const server = props.hosts.find((h) => h.name === "server-1")!;

maybe("k3s-start, executed on a stub host", () => {
  test("GIVEN the API answers but the node stays NotReady (no CNI) WHEN the server starts THEN the step fails saying so, instead of reporting done", () => {
    const host = stubHost();
    try {
      host.put("/usr/local/bin/k3s", fakeK3s("1"), 0o755);
      const r = host.run(renderStepBundle(k3sStartStep(server, "server", "192.168.10.100", [], 2)), {
        STUB_NODE_READY: "False",
      });
      expect(r.status).toBe(1);
      expect(r.out).toContain("node server-1 is registered but not Ready after 2 s");
    } finally {
      host.dispose();
    }
  });

  test("GIVEN a Ready node THEN the step succeeds; a second run restarts nothing; a new k3s binary restarts K3s (the chained step rolls the version)", () => {
    const host = stubHost();
    try {
      host.put("/usr/local/bin/k3s", fakeK3s("1"), 0o755);
      const step = k3sStartStep(server, "server", "192.168.10.100", [], 2);
      const env = { STUB_NODE_READY: "True" };
      const first = host.run(renderStepBundle(step), env);
      expect(first.status).toBe(0);
      expect(first.calls).toContain("systemctl start k3s.service");
      const again = host.run(renderStepBundle(step), env);
      expect(again.calls.some((c) => c.startsWith("systemctl restart"))).toBe(false);
      expect(again.out).toContain("edgecloud-step: changed=0");
      host.put("/usr/local/bin/k3s", fakeK3s("2"), 0o755); // what k3s-install does on a version change
      const upgraded = host.run(renderStepBundle(step), env);
      expect(upgraded.status).toBe(0);
      expect(upgraded.calls).toContain("systemctl restart k3s.service");
    } finally {
      host.dispose();
    }
  });

  test("GIVEN an agent that never gets Ready THEN the first server's k3s-nodes-ready step fails naming it", () => {
    const host = stubHost();
    try {
      host.put("/usr/local/bin/k3s", fakeK3s("1"), 0o755);
      const r = host.run(renderStepBundle(k3sNodesReadyStep(server, ["agent-1"], [], 2)), { STUB_NODE_READY: "False" });
      expect(r.status).toBe(1);
      expect(r.out).toContain("node agent-1 is not Ready after 2 s");
      expect(
        host.run(renderStepBundle(k3sNodesReadyStep(server, ["agent-1"], [], 2)), { STUB_NODE_READY: "True" }).status,
      ).toBe(0);
    } finally {
      host.dispose();
    }
  });
});
