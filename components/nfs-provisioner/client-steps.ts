import { osProfile } from "../../lib/platform/os";
import { hostStep, HostStep } from "../../lib/steps/host-step";
import { sh } from "../../lib/steps/sh";
import { NFS_COMPONENT } from "./server-steps";
import { NfsProvisionerProps } from "./spec";

/**
 * The NFS client (nfs-common / nfs-utils) on every K3s node, servers and agents: kubelet mounts NFS volumes with
 * the host's mount.nfs, and its absence is the provisioners' most reported failure (nfs-subdir #120 #203 #104).
 */
export function nfsClientSteps(props: NfsProvisionerProps): HostStep[] {
  return props.nodes.map((node) => {
    const os = osProfile(node.os);
    return hostStep({
      host: node.name,
      name: "nfs-client",
      component: NFS_COMPONENT,
      script: [
        sh`ec_pkg ${os.packageManager} ${os.packages.nfsClient}`,
        "command -v mount.nfs >/dev/null || { ec_log 'mount.nfs is missing after installing the NFS client'; exit 1; }",
        "",
      ].join("\n"),
      deleteScript: "# the NFS client package is kept (other mounts may use it)\n",
    });
  });
}
