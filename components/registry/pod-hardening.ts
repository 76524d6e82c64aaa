import { k8s } from "cdk8s-plus-27";

/** The registry image's unprivileged user (twuni chart: 1000). */
export const REGISTRY_UID = 1000;

/** Pod-level hardening: non-root, fsGroup for the volume, RuntimeDefault seccomp. */
export const REGISTRY_POD_SECURITY: k8s.PodSecurityContext = {
  runAsNonRoot: true,
  runAsUser: REGISTRY_UID,
  runAsGroup: REGISTRY_UID,
  fsGroup: REGISTRY_UID,
  fsGroupChangePolicy: "OnRootMismatch",
  seccompProfile: { type: "RuntimeDefault" },
};

/** Container-level hardening: read-only root filesystem, no privilege escalation, every capability dropped. */
export const REGISTRY_CONTAINER_SECURITY: k8s.SecurityContext = {
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  privileged: false,
  capabilities: { drop: ["ALL"] },
};
