import { z } from "zod";
import { EDGE_TOLERATION } from "../kubeedge-cloud/spec";
import {
  DEFAULT_EDGEX_RELEASE,
  EDGEX_RELEASE_NAMES,
  EdgeXReleaseName,
  OPTIONAL_SERVICES,
  OptionalService,
} from "./release-data";
import { dnsLabel, labelValue, labels, qualifiedName } from "../../lib/validation/kubernetes";
import { cidr } from "../../lib/validation/net";
import { ownedPath } from "../../lib/validation/paths";

const path = ownedPath;

/** Where stateful services (database, registry, secret store, broker) keep their data. */
export const PersistenceSchema = z.discriminatedUnion("kind", [
  /** On the node, under `<path>/<namespace>/<service>`: the natural place for one instance per edge node. */
  z.strictObject({
    kind: z.literal("hostPath"),
    /** @default "/var/lib/edgex" */ path: path.default("/var/lib/edgex"),
  }),
  /** A ReadWriteOnce PersistentVolumeClaim per stateful service (per-service placement only). */
  z.strictObject({
    kind: z.literal("pvc"),
    storageClassName: z.string().min(1),
    /** @default "1Gi" */ size: z
      .string()
      .regex(/^\d+(Mi|Gi|Ti)$/, "must be a size such as 1Gi")
      .default("1Gi"),
  }),
  /** emptyDir: data is lost when the pod goes. */
  z.strictObject({ kind: z.literal("ephemeral") }),
]);

export const GatewaySchema = z.strictObject({
  /** Per-service placement: the Service type of the entry services (Hanoi's Kong with security; `expose` without). @default "NodePort" */
  serviceType: z.enum(["ClusterIP", "NodePort", "LoadBalancer"]).default("NodePort"),
  /** Sources allowed to reach the entry ports (NetworkPolicy `ipBlock`). @default ["0.0.0.0/0"] */
  allowedCidrs: z.array(cidr).min(1).default(["0.0.0.0/0"]),
});

export const EdgeXStackSpecSchema = z.strictObject({
  /** @default "napa-3.1" */
  release: z.enum(EDGEX_RELEASE_NAMES as [EdgeXReleaseName, ...EdgeXReleaseName[]]).default(DEFAULT_EDGEX_RELEASE),
  /** @default "edgex" */
  namespace: dnsLabel.default("edgex"),
  /**
   * `single-pod`: every service in one pod talking over localhost, one instance per selected node (a DaemonSet per
   * arch); `per-service`: one Deployment + Service each. @default "single-pod"
   */
  placement: z.enum(["single-pod", "per-service"]).default("single-pod"),
  /**
   * single-pod: `host` shares the node's network; every service then binds 127.0.0.1 (only `expose`d ones listen on
   * the node's addresses). KubeEdge edge nodes have no cluster network, kube-proxy or cluster DNS, so EdgeX on them
   * must use `host`. @default - "host" when `nodeSelector` selects KubeEdge edge nodes, else "pod"
   */
  network: z.enum(["pod", "host"]).optional(),
  /**
   * Secret store (Vault/OpenBao), security-bootstrapper stage gates, registry ACLs and authenticated message bus, as
   * upstream's Kubernetes chart (edgex-helm v3.1.0) runs them: without EdgeX's nginx API gateway. Nothing is
   * reachable from outside the pod or namespace then. @default true
   */
  security: z.boolean().default(true),
  /** Optional services on or off. @default - all on except "ui" */
  services: z.partialRecord(z.enum(OPTIONAL_SERVICES), z.boolean()).default({}),
  /** Nodes EdgeX runs on. @default { "node-role.kubernetes.io/edge": "" } */
  nodeSelector: labels.default({ "node-role.kubernetes.io/edge": "" }),
  /** Tolerations of every EdgeX pod. @default - the taint KubeEdge edge nodes register with (`node-role.kubernetes.io/edge:NoSchedule`) */
  tolerations: z
    .array(
      z.strictObject({
        /** A taint key (qualified name). @default - every key (with `operator: Exists`) */
        key: qualifiedName.optional(),
        operator: z.enum(["Exists", "Equal"]).default("Equal"),
        /** A label value. @default - "" */
        value: labelValue.optional(),
        effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
      }),
    )
    .default([{ ...EDGE_TOLERATION }]),
  /** Architectures of the selected nodes; suffix-named releases get one DaemonSet per arch. @default ["amd64"] */
  arches: z
    .array(z.enum(["amd64", "arm64", "arm", "riscv64", "loong64"]))
    .min(1)
    .default(["amd64"]),
  /** @default - single-pod: { kind: "hostPath", path: "/var/lib/edgex" }; per-service: { kind: "ephemeral" } */
  persistence: PersistenceSchema.optional(),
  /**
   * per-service with security: the shared token volume every service mounts must be ReadWriteMany; name the
   * StorageClass that provides it (never assumed). @default - none (an error with per-service + security)
   */
  secretsVolume: z
    .strictObject({ storageClassName: z.string().min(1), /** @default "16Mi" */ size: z.string().default("16Mi") })
    .optional(),
  /** @default { serviceType: "NodePort", allowedCidrs: ["0.0.0.0/0"] } */
  gateway: GatewaySchema.default({ serviceType: "NodePort", allowedCidrs: ["0.0.0.0/0"] }),
  /** Without security: services reachable from outside the namespace (besides nothing). @default [] */
  expose: z.array(z.string()).default([]),
  /**
   * network "host": ports other software already holds on the nodes (KubeEdge's mosquitto 1883, edgecore 10350);
   * a service listening on one is an error. @default []
   */
  hostPortsInUse: z.array(z.number().int().min(1).max(65535)).default([]),
  /** The cluster's Kubernetes/K3s version: single-pod needs native sidecars (1.29+). @default - not checked */
  kubernetesVersion: z.string().optional(),
  /** Image for the small helpers (wait-for, volume permissions). @default "busybox:1.36.1" */
  helperImage: z.string().default("busybox:1.36.1"),
});

export type EdgeXStackSpecInput = z.input<typeof EdgeXStackSpecSchema>;
/** The spec with `network` resolved (validation fills it from the node selector). */
export type EdgeXStackSpec = Omit<z.output<typeof EdgeXStackSpecSchema>, "network"> & {
  readonly network: "pod" | "host";
};
export type Persistence = z.output<typeof PersistenceSchema>;

/** The validated model the chart renders. */
export interface EdgeXStackProps {
  readonly spec: EdgeXStackSpec;
  readonly persistence: Persistence;
  /** Optional services in effect. */
  readonly enabled: Readonly<Record<OptionalService, boolean>>;
  /** Arches to render for (amd64/arm64). */
  readonly arches: readonly ("amd64" | "arm64")[];
}
