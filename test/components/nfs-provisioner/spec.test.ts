import { nfsProblems, nfsProps } from "./props";
import { testHosts } from "../registry/fixtures";

describe("validateNfsProvisioner", () => {
  test("GIVEN only a server host WHEN validated THEN csi-driver-nfs, a default class 'nfs' and per-node /32 clients are the defaults", () => {
    const p = nfsProps({ server: { kind: "host", host: "store-1" } });
    expect(p.spec.provisioner).toEqual({
      kind: "csi-driver-nfs",
      version: "v4.13.4",
      kubeletDir: "/var/lib/kubelet",
      images: {},
    });
    expect(p.spec.storageClass).toMatchObject({
      name: "nfs",
      isDefaultClass: true,
      onDelete: "delete",
      nfsVersion: "4.1",
      reclaimPolicy: "Delete",
    });
    expect(p.allowedClients).toEqual(["10.0.0.11/32", "10.0.0.12/32", "10.0.0.21/32"]);
    expect(p.serverAddress).toBe("10.0.0.31");
    expect(p.exportPath).toBe("/srv/nfs/k8s");
    expect(p.nodes.map((n) => n.name)).toEqual(["server-1", "server-2", "agent-1"]);
  });

  test("GIVEN an external server WHEN validated THEN no server host and no clients list", () => {
    const p = nfsProps({ server: { kind: "external", address: "nas.lan", exportPath: "/volume1/k8s" } });
    expect(p.serverHost).toBeUndefined();
    expect(p.serverAddress).toBe("nas.lan");
  });

  const cases: [string, unknown, string[]][] = [
    [
      "an unknown server host",
      { server: { kind: "host", host: "nas" } },
      ['nfs.server.host "nas" is not among the hosts (server-1, server-2, agent-1, store-1)'],
    ],
    [
      "a server host without the nfs role",
      { server: { kind: "host", host: "agent-1" } },
      ['nfs.server.host "agent-1" does not have the role "nfs"; add it to hosts[2].roles'],
    ],
    [
      "a world-wide export",
      { server: { kind: "host", host: "store-1", allowedClients: ["0.0.0.0/0"] } },
      ['nfs.server.allowedClients[0] "0.0.0.0/0" exports to every address; list the nodes\' network(s) instead'],
    ],
    [
      "a '*' export",
      { server: { kind: "host", host: "store-1", allowedClients: ["*"] } },
      ['nfs.server.allowedClients[0] "*" must be an IPv4 CIDR such as 10.42.0.0/16 (a single host is /32)'],
    ],
    [
      "a CIDR out of range",
      { server: { kind: "host", host: "store-1", allowedClients: ["10.0.0.300/24"] } },
      ['nfs.server.allowedClients[0] "10.0.0.300/24" must be an IPv4 CIDR such as 10.42.0.0/16 (a single host is /32)'],
    ],
    [
      "a relative export path",
      { server: { kind: "host", host: "store-1", exportPath: "srv/nfs" } },
      ['nfs.server.exportPath "srv/nfs" must be an absolute path (starting with /)'],
    ],
    [
      "a disk that is not a device",
      { server: { kind: "host", host: "store-1", disk: { device: "vdb" } } },
      ['nfs.server.disk.device "vdb" must be a block device path such as /dev/vdb or /dev/disk/by-id/...'],
    ],
    [
      "nfs-subdir older than v4.0.2",
      {
        server: { kind: "host", host: "store-1" },
        provisioner: { kind: "nfs-subdir-external-provisioner", version: "v3.1.0" },
      },
      [
        'nfs.provisioner.version "v3.1.0" is older than v4.0.2; releases before v4.0.0 need selfLink, which Kubernetes removed (RemoveSelfLink=false is gone since 1.24)',
      ],
    ],
    [
      "the retired nfs-client-provisioner image",
      {
        server: { kind: "host", host: "store-1" },
        provisioner: {
          kind: "nfs-subdir-external-provisioner",
          image: "quay.io/external_storage/nfs-client-provisioner:latest",
        },
      },
      [
        'nfs.provisioner.image "quay.io/external_storage/nfs-client-provisioner:latest" is the retired nfs-client-provisioner, which needs selfLink; use registry.k8s.io/sig-storage/nfs-subdir-external-provisioner',
      ],
    ],
    [
      "mountPermissions with nfs-subdir",
      {
        server: { kind: "host", host: "store-1" },
        provisioner: { kind: "nfs-subdir-external-provisioner" },
        storageClass: { mountPermissions: "0777" },
      },
      [
        'nfs.storageClass.mountPermissions "0777" is a csi-driver-nfs parameter; nfs-subdir-external-provisioner always creates directories 0777',
      ],
    ],
    [
      "a pv name in an nfs-subdir pattern",
      {
        server: { kind: "host", host: "store-1" },
        provisioner: { kind: "nfs-subdir-external-provisioner" },
        storageClass: { subDir: "${pv.metadata.name}" },
      },
      [
        'nfs.storageClass.subDir "${pv.metadata.name}" uses ${pv.metadata.name}, which nfs-subdir-external-provisioner\'s pathPattern cannot express; use ${pvc.metadata.namespace} and ${pvc.metadata.name}',
      ],
    ],
    [
      "an unknown subDir variable",
      { server: { kind: "host", host: "store-1" }, storageClass: { subDir: "${pvc.metadata.uid}/x" } },
      [
        'nfs.storageClass.subDir "${pvc.metadata.uid}/x" uses unknown variable ${pvc.metadata.uid}; allowed: ${pvc.metadata.namespace}, ${pvc.metadata.name}, ${pv.metadata.name}',
      ],
    ],
    [
      "a subDir leaving the export",
      { server: { kind: "host", host: "store-1" }, storageClass: { subDir: "../etc" } },
      ['nfs.storageClass.subDir "../etc" must stay inside the export (relative, no ..)'],
    ],
    [
      "an unknown nfs version",
      { server: { kind: "host", host: "store-1" }, storageClass: { nfsVersion: "5" } },
      ['nfs.storageClass.nfsVersion "5" is not allowed; allowed: "3", "4", "4.0", "4.1", "4.2"'],
    ],
    [
      "a bad onDelete",
      { server: { kind: "host", host: "store-1" }, storageClass: { onDelete: "wipe" } },
      ['nfs.storageClass.onDelete "wipe" is not allowed; allowed: "delete", "retain", "archive"'],
    ],
    ["an unknown field", { server: { kind: "host", host: "store-1" }, storage: {} }, ['nfs: unknown field "storage"']],
  ];
  test.each(cases)("GIVEN %s WHEN validated THEN the exact problem is reported", (_w, input, expected) => {
    expect(nfsProblems(input)).toEqual(expected);
  });

  test("GIVEN no K3s nodes and no allowedClients WHEN validated THEN the clients are required", () => {
    const onlyStore = testHosts().filter((h) => h.name === "store-1");
    expect(nfsProblems({ server: { kind: "host", host: "store-1" } }, onlyStore)).toEqual([
      "nfs.server.allowedClients: is required when there are no K3s nodes to derive it from",
    ]);
  });

  test("GIVEN nfs-subdir-external-provisioner THEN the class does not allow expansion by default, and asking for it is refused (it has no resizer)", () => {
    const p = nfsProps({
      server: { kind: "host", host: "store-1" },
      provisioner: { kind: "nfs-subdir-external-provisioner" },
    });
    expect(p.spec.storageClass.allowVolumeExpansion).toBe(false);
    expect(nfsProps({ server: { kind: "host", host: "store-1" } }).spec.storageClass.allowVolumeExpansion).toBe(true);
    expect(
      nfsProblems({
        server: { kind: "host", host: "store-1" },
        provisioner: { kind: "nfs-subdir-external-provisioner" },
        storageClass: { allowVolumeExpansion: true },
      }),
    ).toEqual([
      "nfs.storageClass.allowVolumeExpansion true cannot be true with nfs-subdir-external-provisioner: it has no resizer, so every expansion would stay pending; use csi-driver-nfs",
    ]);
  });
});
