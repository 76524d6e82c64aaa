import { nfsFirewall, nfsServerSteps } from "../../../components/nfs-provisioner";
import { registryHostSteps } from "../../../components/registry";
import { renderDeleteBundle, renderStepBundle } from "../../../lib/steps/bundle";
import { closeFirewall, FirewallOpening, openFirewall } from "../../../lib/steps/firewall";
import { hostStep } from "../../../lib/steps/host-step";
import { firewallHost } from "../../support/firewall-stubs";
import { hostsWithNfsOn, nfsProps } from "../../components/nfs-provisioner/props";
import { AUTH, registryProps } from "../../components/registry/props";

const opening: FirewallOpening = {
  rules: [
    { port: 6443, protocol: "tcp" },
    { port: "51820-51821", protocol: "udp" },
    { port: 2379, protocol: "tcp", sources: ["10.0.0.11", "10.0.0.0/24"] },
    { port: 2380, protocol: "tcp", sources: [] },
  ],
  trusted: ["10.42.0.0/16"],
};
const step = (o: FirewallOpening) =>
  hostStep({ host: "h", name: "fw", component: "test", script: openFirewall(o), deleteScript: closeFirewall(o) });
const rich = (src: string, port: number) =>
  `rule family="ipv4" source address="${src}" port port="${port}" protocol="tcp" accept`;

describe("openFirewall / closeFirewall", () => {
  test("GIVEN a host whose firewalld runs (whatever the OS profile says) WHEN the opening runs THEN ports, source-limited rich rules and trusted networks are in the permanent AND the running configuration without a reload; a re-run changes nothing; the inverse removes exactly them", () => {
    const fw = firewallHost("firewalld");
    try {
      const s = step(opening);
      const first = fw.run(renderStepBundle(s));
      expect(first.status).toBe(0);
      const want = {
        ports: ["6443/tcp", "51820-51821/udp"],
        rich: [rich("10.0.0.11", 2379), rich("10.0.0.0/24", 2379)],
        trusted: ["10.42.0.0/16"],
      };
      const r = fw.rules();
      expect({ ports: r.ports, rich: r.rich, trusted: r.trusted }).toEqual(want);
      expect(r.runtime).toEqual(want);
      expect(r.ufw).toEqual([]); // ufw is not active: nothing is written there
      expect(first.out).toContain("edgecloud-step: changed=10");
      expect(fw.run(renderStepBundle(s)).out).toContain("edgecloud-step: changed=0");
      const del = fw.run(renderDeleteBundle(s));
      expect(del.status).toBe(0);
      const after = fw.rules();
      expect([after.ports, after.rich, after.trusted, after.runtime]).toEqual([
        [],
        [],
        [],
        { ports: [], rich: [], trusted: [] },
      ]);
      expect(fw.run(renderDeleteBundle(s)).out).toContain("edgecloud-step: changed=0");
    } finally {
      fw.dispose();
    }
  });

  test("GIVEN a host whose ufw is active WHEN the opening runs THEN ufw allows the ports (ranges as a:b), each source on its port and the trusted networks; the inverse deletes exactly those rules", () => {
    const fw = firewallHost("ufw");
    try {
      const s = step(opening);
      expect(fw.run(renderStepBundle(s)).status).toBe(0);
      expect(fw.rules().ufw).toEqual([
        "allow 6443/tcp",
        "allow 51820:51821/udp",
        "allow from 10.0.0.11 to any port 2379 proto tcp",
        "allow from 10.0.0.0/24 to any port 2379 proto tcp",
        "allow from 10.42.0.0/16",
      ]);
      expect(fw.rules().rich).toEqual([]);
      expect(fw.run(renderStepBundle(s)).out).toContain("edgecloud-step: changed=0");
      expect(fw.run(renderDeleteBundle(s)).status).toBe(0);
      expect(fw.rules().ufw).toEqual([]);
    } finally {
      fw.dispose();
    }
  });

  test("GIVEN a host with neither firewall running THEN the opening changes nothing and succeeds", () => {
    const fw = firewallHost("none");
    try {
      const r = fw.run(renderStepBundle(step(opening)));
      expect(r.status).toBe(0);
      expect(r.out).toContain("edgecloud-step: changed=0");
      expect(fw.rules().ufw).toEqual([]);
    } finally {
      fw.dispose();
    }
  });

  test("GIVEN a port an earlier rendering opened to everyone WHEN it is now source-limited (closeToEveryone) THEN the public opening is removed and only the sources remain", () => {
    for (const kind of ["firewalld", "ufw"] as const) {
      const fw = firewallHost(kind);
      try {
        fw.run(renderStepBundle(step({ rules: [{ port: 10003, protocol: "tcp" }] })));
        const limited = step({
          rules: [{ port: 10003, protocol: "tcp", sources: ["10.0.0.22"] }],
          closeToEveryone: [{ port: 10003, protocol: "tcp" }],
        });
        expect(fw.run(renderStepBundle(limited)).status).toBe(0);
        const r = fw.rules();
        if (kind === "firewalld")
          expect([r.ports, r.rich, r.runtime.ports]).toEqual([[], [rich("10.0.0.22", 10003)], []]);
        else expect(r.ufw).toEqual(["allow from 10.0.0.22 to any port 10003 proto tcp"]);
      } finally {
        fw.dispose();
      }
    }
  });

  test("GIVEN a source list with shell metacharacters THEN every value reaches firewall-cmd as one argument (quoted by construction)", () => {
    const fw = firewallHost("firewalld");
    try {
      const evil = "10.0.0.1$(touch /tmp/ec-fw-pwned)";
      const r = fw.run(renderStepBundle(step({ rules: [{ port: 22, protocol: "tcp", sources: [evil] }] })));
      expect(r.status).toBe(0);
      expect(fw.rules().rich).toEqual([rich(evil, 22)]);
    } finally {
      fw.dispose();
    }
  });
});

describe("the components' firewall openings (one implementation: lib/steps/firewall.ts)", () => {
  test("GIVEN an NFS server on Debian (profile: no firewall) whose operator enabled firewalld WHEN its firewall part runs THEN 2049/tcp is open to exactly the client networks, and the delete script closes it", () => {
    const props = nfsProps({ server: { kind: "host", host: "store-1", allowedClients: ["10.0.0.0/24"] } });
    const [nfs] = nfsServerSteps(props);
    const o = nfsFirewall(props.allowedClients, false);
    expect(nfs.script).toContain(openFirewall(o));
    expect(nfs.deleteScript).toContain(closeFirewall(o));
    const fw = firewallHost("firewalld");
    try {
      expect(fw.run(renderStepBundle(step(o))).status).toBe(0);
      expect(fw.rules().rich).toEqual([rich("10.0.0.0/24", 2049)]);
    } finally {
      fw.dispose();
    }
  });

  test("GIVEN NFSv3 on an ufw host THEN nfs, mountd and rpcbind (firewalld's service ports) are allowed from the clients only", () => {
    const props = nfsProps(
      { server: { kind: "host", host: "store-1", allowedClients: ["10.0.0.0/24"] }, storageClass: { nfsVersion: "3" } },
      hostsWithNfsOn("ubuntu-22.04"),
    );
    const [nfs] = nfsServerSteps(props);
    const o = nfsFirewall(props.allowedClients, true);
    expect(nfs.script).toContain(openFirewall(o));
    const fw = firewallHost("ufw");
    try {
      fw.run(renderStepBundle(step(o)));
      expect(fw.rules().ufw).toEqual(
        [
          "2049 proto tcp",
          "2049 proto udp",
          "20048 proto tcp",
          "20048 proto udp",
          "111 proto tcp",
          "111 proto udp",
        ].map((p) => `allow from 10.0.0.0/24 to any port ${p}`),
      );
    } finally {
      fw.dispose();
    }
  });

  test("GIVEN a host-mode registry WHEN its firewall part runs on a firewalld host THEN its port is opened (before: ufw only), and the delete script closes it (before: never)", () => {
    const props = registryProps({ mode: { kind: "host", host: "store-1" }, auth: AUTH });
    const [reg] = registryHostSteps(props);
    const port = props.spec.mode.kind === "host" ? props.spec.mode.port : 0;
    const o: FirewallOpening = { rules: [{ port, protocol: "tcp" }] };
    expect(reg.script).toContain(openFirewall(o));
    expect(reg.deleteScript).toContain(closeFirewall(o));
    const fw = firewallHost("firewalld");
    try {
      fw.run(renderStepBundle(step(o)));
      expect(fw.rules().ports).toEqual([`${port}/tcp`]);
      fw.run(renderDeleteBundle(step(o)));
      expect(fw.rules().ports).toEqual([]);
    } finally {
      fw.dispose();
    }
  });
});
