import { chmodSync, copyFileSync, mkdirSync } from "fs";
import { join } from "path";
import { KubeObject } from "../../lib/manifests/kube-object";
import { Lab } from "./lab";

/**
 * The default environment's own in-cluster registry (RegistryChart, the default's `mode: in-cluster`) as a real
 * workload on the lab's nodes, beside the host-mode registry the nodes pull every image from (including this one's).
 *
 * Its image: distribution v3.0.0 — the version the library pins (`registry.version` default) — built from
 * github.com/distribution/distribution/v3 by scripts/build-tools.sh (`--stage distribution`), packed the way
 * upstream's image is (distribution/distribution v3.0.0 Dockerfile: alpine with `/bin/registry`, `EXPOSE 5000`,
 * `ENTRYPOINT ["registry"]`, `CMD ["serve", "/etc/distribution/config.yml"]`; the chart sets command and args
 * itself; alpine's `/bin/sh` is Debian's busybox-static here, for the chart's garbage-collect init container),
 * standing in for `docker.io/library/registry:3.0.0` (a download).
 *
 * Its storage: the chart's PVC gets the environment's default StorageClass (the NFS provisioner's), whose CSI driver
 * cannot run here (its images are downloads, and nfsd cannot start in a lab host); a `local` PersistentVolume on one
 * agent, pre-bound to the claim, stands in for what the provisioner would create.
 */
export const REGISTRY_IMAGE_DIR = "/root/edgecloud-lab-bin";

/** Copies the built registry binary onto the image-building host; returns the recipe images.ts builds from it. */
export function registryImageRecipe(
  lab: Lab,
  host: string,
  binDir: string,
  replaces: string,
): {
  name: string;
  tag: string;
  replaces: string[];
  from: string;
  fill: string;
  config: string[];
} {
  const dir = join(lab.host(host).root, REGISTRY_IMAGE_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  copyFileSync(join(binDir, "registry"), join(dir, "registry"));
  chmodSync(join(dir, "registry"), 0o755);
  return {
    name: "registry",
    tag: "3.0.0-built",
    replaces: [replaces],
    from: "distribution v3.0.0 built from github.com/distribution/distribution/v3 (scripts/build-tools.sh)",
    fill: `mkdir -p "$root/bin" "$root/etc/distribution" "$root/var/lib/registry" "$root/tmp"
install -m 0755 ${REGISTRY_IMAGE_DIR}/registry "$root/bin/registry"
install -m 0755 /bin/busybox "$root/bin/busybox" && ln -s busybox "$root/bin/sh"`,
    config: [
      "--config.entrypoint=registry",
      "--config.cmd=serve",
      "--config.cmd=/etc/distribution/config.yml",
      "--config.env=PATH=/bin",
      "--config.exposedports=5000/tcp",
      "--config.volume=/var/lib/registry",
    ],
  };
}

/** A `local` PersistentVolume on `node`, pre-bound to `claim` (namespace/name), of the claim's class and size. */
export function localVolumeFor(
  claim: { namespace: string; name: string; storageClassName: string; size: string; accessModes: string[] },
  node: string,
  path: string,
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: `edgecloud-lab-${claim.namespace}-${claim.name}`, labels: { "edgecloud.io/lab": "stand-in" } },
    spec: {
      capacity: { storage: claim.size },
      accessModes: claim.accessModes,
      storageClassName: claim.storageClassName,
      persistentVolumeReclaimPolicy: "Retain",
      claimRef: { namespace: claim.namespace, name: claim.name },
      local: { path },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] },
          ],
        },
      },
    },
  } as unknown as KubeObject;
}
