import { z } from "zod";
import { ARCHES } from "../../lib/platform/arch";
import { OS_IDS } from "../../lib/platform/os";
import { dnsLabel, labels, taint } from "../../lib/validation/kubernetes";

/**
 * An edge pool: machines that join KubeEdge by themselves, each running the pool's join bundle (cloud-init user-data
 * or a plain script) at first boot. Pulumi manages the pool, its join credential (minted, rotated) and the bundle,
 * not the nodes: a node is neither an SSH target nor a Pulumi resource. See docs/kubeedge-cloud.md "Edge pools".
 */
export const EdgePoolSchema = z.strictObject({
  /** The pool's name (a DNS label): bundles, outputs and the `edgecloud.io/edge-pool` label carry it. */
  name: dnsLabel.refine((n) => n.length <= 40, "must be at most 40 characters"),
  /** The OS every machine of the pool runs (the runtime and install steps are chosen from it). */
  os: z.enum(OS_IDS),
  arch: z.enum(ARCHES),
  /** Labels every node of the pool registers with (besides the edge role and `edgecloud.io/edge-pool`). @default {} */
  labels: labels.default({}),
  /** Taints every node of the pool registers with (`key[=value]:Effect`), besides `edge.taint`'s. @default [] */
  taints: z.array(taint).default([]),
  /** The join credential in the pool's bundle. */
  credential: z
    .strictObject({
      /** How long a minted credential admits new nodes (cloudcore checks only its signature and expiry). @default 6 */
      ttlHours: z.number().int().min(1).max(24).default(6),
      /** A `pulumi up` this close to the expiry mints the next one (and renders a new bundle). @default 3 */
      rotateBeforeHours: z.number().int().min(0).max(23).default(3),
      /** Raise it to mint a new credential (and bundle) at the next `pulumi up`, whatever the expiry. @default 0 */
      revision: z.number().int().min(0).default(0),
    })
    .default({ ttlHours: 6, rotateBeforeHours: 3, revision: 0 }),
});

export type EdgePoolInput = z.input<typeof EdgePoolSchema>;
export type EdgePool = z.output<typeof EdgePoolSchema>;
