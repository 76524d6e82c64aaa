/** csi-driver-nfs release and the sidecars its manifests pin (override per image with `provisioner.images`). */
export const CSI_DRIVER_NFS_VERSION = "v4.13.4";

export interface CsiDriverNfsImages {
  readonly nfsplugin: string;
  readonly provisioner: string;
  readonly resizer: string;
  readonly livenessProbe: string;
  readonly nodeDriverRegistrar: string;
}

/**
 * The sidecars the release's own deploy files pin: kubernetes-csi/csi-driver-nfs v4.13.4
 * deploy/v4.13.4/csi-nfs-controller.yaml (csi-provisioner v6.3.0, csi-resizer v2.2.0, livenessprobe v2.19.0) and
 * deploy/v4.13.4/csi-nfs-node.yaml (csi-node-driver-registrar v2.17.0, livenessprobe v2.19.0).
 */
export function csiDriverNfsImages(version: string): CsiDriverNfsImages {
  return {
    nfsplugin: `registry.k8s.io/sig-storage/nfsplugin:${version}`,
    provisioner: "registry.k8s.io/sig-storage/csi-provisioner:v6.3.0",
    resizer: "registry.k8s.io/sig-storage/csi-resizer:v2.2.0",
    livenessProbe: "registry.k8s.io/sig-storage/livenessprobe:v2.19.0",
    nodeDriverRegistrar: "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.17.0",
  };
}

/** nfs-subdir-external-provisioner: v4.0.0 dropped the selfLink dependency; v4.0.2 is the first with armv7 images. */
export const NFS_SUBDIR_VERSION = "v4.0.2";
export const NFS_SUBDIR_MIN_VERSION = "v4.0.2";
export const NFS_SUBDIR_IMAGE = "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner";

/** The retired provisioner that needs `selfLink` (gone since Kubernetes 1.20, `RemoveSelfLink=false` dead since 1.24). */
export const RETIRED_PROVISIONER_IMAGE = "external_storage/nfs-client-provisioner";

/** Compares `vMAJOR.MINOR.PATCH` versions; negative when a < b. */
export function compareProvisionerVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, "").split(".").map(Number);
  const pb = b.replace(/^v/, "").split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}
