import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { NfsProvisionerProps } from "./spec";

/** The CSI driver name of csi-driver-nfs. */
export const CSI_NFS_DRIVER = "nfs.csi.k8s.io";

/** csi-driver-nfs variables → nfs-subdir-external-provisioner pathPattern variables. */
const SUBDIR_PATTERN: Readonly<Record<string, string>> = {
  "${pvc.metadata.namespace}": "${.PVC.namespace}",
  "${pvc.metadata.name}": "${.PVC.name}",
};

/** The class's provisioner name and typed parameters, as each provisioner spells them. */
export function storageClassParameters(props: NfsProvisionerProps): {
  provisioner: string;
  parameters: Record<string, string>;
} {
  const sc = props.spec.storageClass;
  const p = props.spec.provisioner;
  if (p.kind === "csi-driver-nfs") {
    return {
      provisioner: CSI_NFS_DRIVER,
      parameters: {
        server: props.serverAddress,
        share: props.exportPath,
        ...(sc.subDir !== undefined ? { subDir: sc.subDir } : {}),
        ...(sc.mountPermissions !== undefined ? { mountPermissions: sc.mountPermissions } : {}),
        onDelete: sc.onDelete,
      },
    };
  }
  return {
    provisioner: p.provisionerName,
    parameters: {
      // nfs-subdir: archiveOnDelete is the legacy switch; onDelete (delete|retain) wins when set
      ...(sc.onDelete === "archive"
        ? { archiveOnDelete: "true" }
        : { onDelete: sc.onDelete, archiveOnDelete: "false" }),
      ...(sc.subDir !== undefined
        ? { pathPattern: sc.subDir.replace(/\$\{[^}]*\}/g, (v) => SUBDIR_PATTERN[v] ?? v) }
        : {}),
    },
  };
}

/** The NFS StorageClass: typed parameters, nfsvers mount option, reclaim/binding/expansion, default-class flag. */
export class NfsStorageClass extends Construct {
  constructor(scope: Construct, id: string, props: NfsProvisionerProps, labels: Record<string, string>) {
    super(scope, id);
    const sc = props.spec.storageClass;
    const { provisioner, parameters } = storageClassParameters(props);
    new k8s.KubeStorageClass(this, "class", {
      metadata: {
        name: sc.name,
        labels,
        ...(sc.isDefaultClass ? { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } } : {}),
      },
      provisioner,
      parameters,
      reclaimPolicy: sc.reclaimPolicy,
      volumeBindingMode: sc.volumeBindingMode,
      allowVolumeExpansion: sc.allowVolumeExpansion,
      mountOptions: [`nfsvers=${sc.nfsVersion}`, ...sc.mountOptions],
    });
  }
}
