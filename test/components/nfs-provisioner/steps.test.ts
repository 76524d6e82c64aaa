import { EXPORTS_FILE, nfsClientSteps, nfsFirewall, nfsServerSteps } from "../../../components/nfs-provisioner";
import { closeFirewall, openFirewall } from "../../../lib/steps/firewall";
import { shellcheckStep } from "../registry/fixtures";
import { hostsWithNfsOn, nfsProps } from "./props";

describe("nfsServerSteps", () => {
  describe("GIVEN a Debian NFS host with defaults", () => {
    const [step] = nfsServerSteps(nfsProps({ server: { kind: "host", host: "store-1" } }));
    test("THEN it installs nfs-kernel-server, exports to the nodes only and re-exports when the file changed", () => {
      expect(step.id).toBe("store-1/nfs-server");
      expect(step.script).toContain("ec_pkg apt nfs-kernel-server");
      expect(step.files).toEqual([
        {
          path: EXPORTS_FILE,
          mode: "0644",
          secret: false,
          content:
            "# managed by edgecloud (nfs-provisioner)\n/srv/nfs/k8s 10.0.0.11/32(rw,sync,no_subtree_check,no_root_squash) 10.0.0.12/32(rw,sync,no_subtree_check,no_root_squash) 10.0.0.21/32(rw,sync,no_subtree_check,no_root_squash)\n",
        },
      ]);
      expect(step.files[0].content).not.toContain("*");
      expect(step.script).toContain(`if ec_file_changed ${EXPORTS_FILE}; then\n  exportfs -ra\nfi`);
      expect(step.script).toContain("ec_unit nfs-server.service");
      // Debian runs no firewall by default, but the step opens the port in whichever one runs at run time
      const fw = nfsFirewall(["10.0.0.11/32", "10.0.0.12/32", "10.0.0.21/32"], false);
      expect(step.script).toContain(openFirewall(fw));
      expect(step.deleteScript).toContain(closeFirewall(fw));
      expect(step.script).not.toContain("mkfs");
    });
    test("THEN shellcheck passes and the script matches the snapshot", () => {
      expect(shellcheckStep(step)).toBe("");
      expect(step.script).toMatchSnapshot();
      expect(step.deleteScript).toMatchSnapshot();
    });
  });

  describe("GIVEN a Rocky NFS host with a dedicated xfs disk and a subnet", () => {
    const [step] = nfsServerSteps(
      nfsProps(
        {
          server: {
            kind: "host",
            host: "store-1",
            allowedClients: ["10.0.0.0/24"],
            disk: { device: "/dev/vdb", fsType: "xfs" },
          },
        },
        hostsWithNfsOn("rocky-9"),
      ),
    );
    test("THEN it formats only a blank disk, mounts it by UUID and opens firewalld to the subnet only", () => {
      expect(step.script).toContain("ec_pkg dnf nfs-utils");
      expect(step.script).toContain('if [ "$probe" -ne 2 ] || [ "$(lsblk -n -o NAME "$dev" | wc -l)" -gt 1 ]; then');
      expect(step.script).toContain('mkfs.xfs -q "$dev"');
      expect(step.script.indexOf("refusing to format")).toBeLessThan(step.script.indexOf("mkfs.xfs"));
      expect(step.script).toContain("fs_type=xfs\n");
      expect(step.script).toContain('entry="UUID=$uuid $mp $fs_type defaults,nofail 0 2"');
      expect(step.script).toContain(
        `ec_fwd open '' rich-rule 'rule family="ipv4" source address="10.0.0.0/24" port port="2049" protocol="tcp" accept'`,
      );
      expect(step.deleteScript).toContain(
        `ec_fwd close '' rich-rule 'rule family="ipv4" source address="10.0.0.0/24" port port="2049" protocol="tcp" accept'`,
      );
      expect(step.deleteScript).not.toContain("mkfs");
    });
    test("THEN shellcheck passes and the script matches the snapshot", () => {
      expect(shellcheckStep(step)).toBe("");
      expect(step.script).toMatchSnapshot();
    });
  });

  describe("GIVEN an Ubuntu NFS host serving NFSv3", () => {
    const [step] = nfsServerSteps(
      nfsProps(
        {
          server: { kind: "host", host: "store-1", allowedClients: ["10.0.0.0/24"] },
          storageClass: { nfsVersion: "3" },
        },
        hostsWithNfsOn("ubuntu-22.04"),
      ),
    );
    test("THEN ufw allows 2049, mountd and rpcbind from the subnet only, and shellcheck passes", () => {
      expect(step.script).toContain("ec_ufw open from 10.0.0.0/24 to any port 2049 proto tcp");
      expect(step.script).toContain("ec_ufw open from 10.0.0.0/24 to any port 20048 proto udp");
      expect(step.script).toContain("ec_ufw open from 10.0.0.0/24 to any port 111 proto tcp");
      expect(step.deleteScript).toContain("ec_ufw close from 10.0.0.0/24 to any port 2049 proto tcp");
      expect(shellcheckStep(step)).toBe("");
      expect(step.script).toMatchSnapshot();
    });
  });

  test("GIVEN an external server WHEN rendered THEN there is no server step", () => {
    expect(nfsServerSteps(nfsProps({ server: { kind: "external", address: "nas.lan", exportPath: "/k8s" } }))).toEqual(
      [],
    );
  });
});

describe("nfsClientSteps", () => {
  const steps = nfsClientSteps(nfsProps({ server: { kind: "host", host: "store-1" } }));
  test("GIVEN servers and agents on Debian, Ubuntu and Rocky WHEN rendered THEN each gets its distribution's NFS client", () => {
    expect(steps.map((s) => [s.id, s.script.split("\n")[0]])).toEqual([
      ["server-1/nfs-client", "ec_pkg apt nfs-common"],
      ["server-2/nfs-client", "ec_pkg apt nfs-common"],
      ["agent-1/nfs-client", "ec_pkg dnf nfs-utils"],
    ]);
    for (const s of steps) expect(shellcheckStep(s)).toBe("");
  });
});
