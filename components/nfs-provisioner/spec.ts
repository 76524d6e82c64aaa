import { z } from "zod";
import { hasRole, Host, internalAddress } from "../../lib/hosts/host";
import { IssueCollector, parseInto } from "../../lib/validation/issues";
import {
  compareProvisionerVersions,
  CSI_DRIVER_NFS_VERSION,
  NFS_SUBDIR_MIN_VERSION,
  NFS_SUBDIR_VERSION,
  RETIRED_PROVISIONER_IMAGE,
} from "./versions";
import { dnsLabel, imageReference } from "../../lib/validation/kubernetes";
import { address, cidrv4 } from "../../lib/validation/net";
import { absolutePath, blockDevice, ownedPath } from "../../lib/validation/paths";

const path = absolutePath;
const cidr = cidrv4;
const image = imageReference;

/** An NFS server edgecloud sets up on one of the hosts. */
export const HostNfsServerSchema = z.strictObject({
  kind: z.literal("host"),
  /** Name of the host (role `nfs`) that exports the share. */
  host: dnsLabel,
  /** @default "/srv/nfs/k8s" */
  exportPath: ownedPath.default("/srv/nfs/k8s"),
  /** Client networks the export is restricted to (never `*`). @default - each K3s node's internal address as /32 */
  allowedClients: z.array(cidr).min(1).optional(),
  /**
   * exports(5) options. `no_root_squash` lets the provisioner create and remove the per-volume directories as root.
   * @default ["rw", "sync", "no_subtree_check", "no_root_squash"]
   */
  exportOptions: z
    .array(z.string().regex(/^[a-z_]+(=[A-Za-z0-9:_.-]+)?$/, "must be an exports(5) option such as rw or anonuid=1000"))
    .min(1)
    .default(["rw", "sync", "no_subtree_check", "no_root_squash"]),
  /** A dedicated disk for the export: formatted only when it holds no filesystem or partition table, mounted via fstab. @default - the export lives on the root filesystem */
  disk: z
    .strictObject({
      device: blockDevice,
      /** @default "ext4" */
      fsType: z.enum(["ext4", "xfs"]).default("ext4"),
    })
    .optional(),
});

/** An NFS server that already exists. */
export const ExternalNfsServerSchema = z.strictObject({ kind: z.literal("external"), address, exportPath: path });

export const ProvisionerSchema = z.discriminatedUnion("kind", [
  /** kubernetes-csi/csi-driver-nfs: CSIDriver nfs.csi.k8s.io, controller Deployment, node DaemonSet. */
  z.strictObject({
    kind: z.literal("csi-driver-nfs"),
    /** @default "v4.13.4" */
    version: z
      .string()
      .regex(/^v4\.\d+\.\d+$/, "must be a csi-driver-nfs v4 release such as v4.13.4")
      .default(CSI_DRIVER_NFS_VERSION),
    /** kubelet's root directory (K3s: /var/lib/kubelet). @default "/var/lib/kubelet" */
    kubeletDir: path.default("/var/lib/kubelet"),
    /** Image overrides (e.g. a mirror). @default - registry.k8s.io images of the release */
    images: z
      .partialRecord(z.enum(["nfsplugin", "provisioner", "resizer", "livenessProbe", "nodeDriverRegistrar"]), image)
      .default({}),
  }),
  /** kubernetes-sigs/nfs-subdir-external-provisioner (v4.0.2 or later: no selfLink). */
  z.strictObject({
    kind: z.literal("nfs-subdir-external-provisioner"),
    /** @default "v4.0.2" */
    version: z
      .string()
      .regex(/^v\d+\.\d+\.\d+$/, "must be a release such as v4.0.2")
      .default(NFS_SUBDIR_VERSION),
    /** @default - registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:<version> */
    image: image.optional(),
    /** @default "cluster.local/nfs-subdir-external-provisioner" */
    provisionerName: z
      .string()
      .regex(/^[a-z0-9.-]+\/[a-z0-9.-]+$/, "must look like cluster.local/nfs-subdir-external-provisioner")
      .default("cluster.local/nfs-subdir-external-provisioner"),
  }),
]);

export const StorageClassSchema = z.strictObject({
  /** @default "nfs" */
  name: dnsLabel.default("nfs"),
  /** Marks the class `storageclass.kubernetes.io/is-default-class`. @default true */
  isDefaultClass: z.boolean().default(true),
  /** @default "Delete" */
  reclaimPolicy: z.enum(["Delete", "Retain"]).default("Delete"),
  /** @default "Immediate" */
  volumeBindingMode: z.enum(["Immediate", "WaitForFirstConsumer"]).default("Immediate"),
  /** @default - true with csi-driver-nfs; false with nfs-subdir-external-provisioner, which cannot resize */
  allowVolumeExpansion: z.boolean().optional(),
  /** What happens to a deleted volume's directory. @default "delete" */
  onDelete: z.enum(["delete", "retain", "archive"]).default("delete"),
  /**
   * Directory per volume, with csi-driver-nfs variables `${pvc.metadata.namespace}`, `${pvc.metadata.name}`,
   * `${pv.metadata.name}` (translated for nfs-subdir's pathPattern). @default - the provisioner's default
   */
  subDir: z
    .string()
    .regex(/^[A-Za-z0-9._${}/-]+$/, "must be a relative path with ${...} variables")
    .optional(),
  /** Mode of each new volume directory (csi-driver-nfs `mountPermissions`; "0" leaves it). @default - unset */
  mountPermissions: z
    .string()
    .regex(/^0[0-7]{0,4}$/, "must be an octal mode such as 0777")
    .optional(),
  /** `nfsvers` mount option. @default "4.1" */
  nfsVersion: z.enum(["3", "4", "4.0", "4.1", "4.2"]).default("4.1"),
  /** Extra mount options (e.g. `hard`, `noatime`). @default [] */
  mountOptions: z
    .array(z.string().regex(/^[a-z0-9_]+(=[A-Za-z0-9._:-]+)?$/, "must be a mount option such as hard or timeo=600"))
    .default([]),
});

export const NfsProvisionerSpecSchema = z.strictObject({
  server: z.discriminatedUnion("kind", [HostNfsServerSchema, ExternalNfsServerSchema]),
  /** @default { kind: "csi-driver-nfs" } */
  provisioner: ProvisionerSchema.default({
    kind: "csi-driver-nfs",
    version: CSI_DRIVER_NFS_VERSION,
    kubeletDir: "/var/lib/kubelet",
    images: {},
  }),
  storageClass: StorageClassSchema.default(StorageClassSchema.parse({})),
  /** Namespace of the provisioner (labelled for Pod Security: privileged for the CSI node plugin). @default "nfs-provisioner" */
  namespace: dnsLabel.default("nfs-provisioner"),
});

export type NfsProvisionerSpecInput = z.input<typeof NfsProvisionerSpecSchema>;
export type NfsProvisionerSpec = z.output<typeof NfsProvisionerSpecSchema>;
export type HostNfsServer = z.output<typeof HostNfsServerSchema>;
export type NfsStorageClassSpec = z.output<typeof StorageClassSchema>;

/** Everything the NFS renderers need, validated and plain. */
export interface NfsProvisionerProps {
  readonly spec: NfsProvisionerSpec;
  /** Address the nodes mount from. */
  readonly serverAddress: string;
  readonly exportPath: string;
  /** Host-kind server. @default - undefined for an external server */
  readonly serverHost?: Host;
  /** Client networks of the export (host-kind server). */
  readonly allowedClients: readonly string[];
  /** K3s nodes (servers and agents): each needs the NFS client. */
  readonly nodes: readonly Host[];
}

const SUBDIR_VARIABLES = ["${pvc.metadata.namespace}", "${pvc.metadata.name}", "${pv.metadata.name}"];

/** Validates the spec against the hosts; records every problem under `base`. */
export function validateNfsProvisioner(
  input: unknown,
  hosts: readonly Host[],
  issues: IssueCollector,
  base = "nfs",
): NfsProvisionerProps | undefined {
  const spec = parseInto(NfsProvisionerSpecSchema, input, issues, base);
  if (!spec) return undefined;
  const before = issues.issues.length;
  const nodes = hosts.filter((h) => hasRole(h, "server") || hasRole(h, "agent"));
  let serverHost: Host | undefined;
  let allowedClients: string[] = [];
  const server = spec.server;
  if (server.kind === "host") {
    const i = hosts.findIndex((h) => h.name === server.host);
    serverHost = hosts[i];
    if (!serverHost)
      issues.add(
        `${base}.server.host`,
        server.host,
        `is not among the hosts (${hosts.map((h) => h.name).join(", ") || "none"})`,
      );
    else if (!hasRole(serverHost, "nfs"))
      issues.add(`${base}.server.host`, server.host, `does not have the role "nfs"; add it to hosts[${i}].roles`);
    allowedClients = server.allowedClients ?? nodes.map((n) => `${internalAddress(n)}/32`);
    if (server.allowedClients === undefined && nodes.length === 0) {
      issues.add(
        `${base}.server.allowedClients`,
        undefined,
        "is required when there are no K3s nodes to derive it from",
      );
    }
    (server.allowedClients ?? []).forEach((c, j) => {
      if (c.endsWith("/0"))
        issues.add(
          `${base}.server.allowedClients[${j}]`,
          c,
          "exports to every address; list the nodes' network(s) instead",
        );
      else if (
        Number(c.split("/")[1]) > 32 ||
        c
          .split("/")[0]
          .split(".")
          .some((o) => Number(o) > 255)
      )
        issues.add(`${base}.server.allowedClients[${j}]`, c, "is not a valid IPv4 CIDR");
    });
  }
  const p = spec.provisioner;
  const sc = spec.storageClass;
  if (p.kind === "nfs-subdir-external-provisioner") {
    if (compareProvisionerVersions(p.version, NFS_SUBDIR_MIN_VERSION) < 0) {
      issues.add(
        `${base}.provisioner.version`,
        p.version,
        `is older than ${NFS_SUBDIR_MIN_VERSION}; releases before v4.0.0 need selfLink, which Kubernetes removed (RemoveSelfLink=false is gone since 1.24)`,
      );
    }
    if (p.image?.includes(RETIRED_PROVISIONER_IMAGE)) {
      issues.add(
        `${base}.provisioner.image`,
        p.image,
        "is the retired nfs-client-provisioner, which needs selfLink; use registry.k8s.io/sig-storage/nfs-subdir-external-provisioner",
      );
    }
    if (sc.mountPermissions !== undefined) {
      issues.add(
        `${base}.storageClass.mountPermissions`,
        sc.mountPermissions,
        "is a csi-driver-nfs parameter; nfs-subdir-external-provisioner always creates directories 0777",
      );
    }
    if (sc.allowVolumeExpansion === true) {
      issues.add(
        `${base}.storageClass.allowVolumeExpansion`,
        true,
        "cannot be true with nfs-subdir-external-provisioner: it has no resizer, so every expansion would stay pending; use csi-driver-nfs",
      );
    }
    if (sc.subDir?.includes("${pv.metadata.name}")) {
      issues.add(
        `${base}.storageClass.subDir`,
        sc.subDir,
        "uses ${pv.metadata.name}, which nfs-subdir-external-provisioner's pathPattern cannot express; use ${pvc.metadata.namespace} and ${pvc.metadata.name}",
      );
    }
  }
  if (sc.subDir !== undefined) {
    const unknown = (sc.subDir.match(/\$\{[^}]*\}/g) ?? []).filter((v) => !SUBDIR_VARIABLES.includes(v));
    if (unknown.length > 0)
      issues.add(
        `${base}.storageClass.subDir`,
        sc.subDir,
        `uses unknown variable${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; allowed: ${SUBDIR_VARIABLES.join(", ")}`,
      );
    if (sc.subDir.startsWith("/") || sc.subDir.split("/").includes(".."))
      issues.add(`${base}.storageClass.subDir`, sc.subDir, "must stay inside the export (relative, no ..)");
  }
  if (issues.issues.length > before) return undefined;
  return {
    spec: {
      ...spec,
      storageClass: { ...sc, allowVolumeExpansion: sc.allowVolumeExpansion ?? p.kind === "csi-driver-nfs" },
    },
    serverAddress: server.kind === "host" ? internalAddress(serverHost!) : server.address,
    exportPath: server.exportPath,
    serverHost,
    allowedClients,
    nodes,
  };
}
