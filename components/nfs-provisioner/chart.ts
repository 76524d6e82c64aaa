import { Chart } from "cdk8s";
import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { CsiDriverNfs } from "./csi-driver-nfs";
import { nfsLabels } from "./labels";
import { NfsSubdirProvisioner } from "./nfs-subdir-provisioner";
import { NfsProvisionerProps } from "./spec";
import { NfsStorageClass } from "./storage-class";

/**
 * Dynamic NFS provisioning: the provisioner's namespace (Pod Security `privileged` for the CSI node plugin, which
 * mounts into kubelet's directory; `baseline` for nfs-subdir, whose pod only mounts an NFS volume), the chosen
 * provisioner, and the StorageClass.
 */
export class NfsProvisionerChart extends Chart {
  constructor(scope: Construct, id: string, props: NfsProvisionerProps) {
    super(scope, id);
    const csi = props.spec.provisioner.kind === "csi-driver-nfs";
    const level = csi ? "privileged" : "baseline";
    new k8s.KubeNamespace(this, "namespace", {
      metadata: {
        name: props.spec.namespace,
        labels: {
          "pod-security.kubernetes.io/enforce": level,
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/warn": level,
        },
      },
    });
    if (csi) new CsiDriverNfs(this, "csi-driver-nfs", props);
    else new NfsSubdirProvisioner(this, "nfs-subdir-external-provisioner", props);
    new NfsStorageClass(this, "storage-class", props, nfsLabels(props.spec.provisioner.kind, "storage-class"));
  }
}
