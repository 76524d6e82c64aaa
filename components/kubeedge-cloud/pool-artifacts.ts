import type { DistArtifact } from "../../stacks/dist-artifact";
import { IssueCollector } from "../../lib/validation/issues";
import { renderJoinBundle } from "./edge-pool";
import { TOKEN_PLACEHOLDER } from "./edge-node-steps";
import { joinTokenExpiry } from "./join-token";
import type { KubeEdgeCloudProps } from "./spec";

/** Where synth writes a pool's bundle, relative to `dist/<env>/`. */
export const poolBundleDir = (pool: string): string => `edge-pools/${pool}`;

/** What synth hands the user per edge pool: its join bundle as files, and the notes that say what they hold. */
export interface PoolArtifacts {
  readonly artifacts: readonly DistArtifact[];
  readonly notes: readonly string[];
}

/**
 * Each pool's join bundle for `dist/<env>/edge-pools/<pool>/` (`user-data`, `join.sh`, 0600: they hold a credential).
 * Synth has no cloudcore CA to mint a pool's credential from (Pulumi reads it from `kubeedge/casecret` once cloudcore
 * runs), so, as for the SSH edge hosts' token: without `token` every bundle holds {@link TOKEN_PLACEHOLDER} and refuses
 * to run; with `token` (EDGECLOUD_KUBEEDGE_TOKEN: a token cloudcore issued, e.g. `keadm gettoken`) every bundle carries
 * it until the token's own `exp`.
 */
export function poolArtifacts(props: KubeEdgeCloudProps, token: string | undefined): PoolArtifacts {
  const pools = props.spec.edgePools;
  if (pools.length === 0) return { artifacts: [], notes: [] };
  let notAfter = new Date(0);
  if (token !== undefined) {
    const exp = joinTokenExpiry(token);
    if (exp === undefined) {
      const issues = new IssueCollector();
      // the value is a credential: only its length is shown
      issues.add(
        "EDGECLOUD_KUBEEDGE_TOKEN",
        `(${token.length} characters, not shown)`,
        'is not a KubeEdge join token ("<sha256 of the CA>.<JWT with exp>", what keadm gettoken prints): edge pool bundles refuse a credential past its exp, so they need it',
      );
      issues.throwIfAny("kubeedge.edgePools: cannot render the join bundles");
    }
    notAfter = new Date(exp! * 1000);
  }
  const artifacts = pools.flatMap((pool) => {
    const b = renderJoinBundle(props, pool, token ?? TOKEN_PLACEHOLDER, notAfter);
    const dir = poolBundleDir(pool.name);
    return [
      { path: `${dir}/user-data`, content: b.userData, mode: 0o600, secret: true },
      { path: `${dir}/join.sh`, content: b.script, mode: 0o600, secret: true },
    ];
  });
  const names = pools.map((p) => p.name).join(", ");
  const notes =
    token === undefined
      ? [
          `kubeedge: the join bundles of edge pool(s) ${names} (edge-pools/<pool>/user-data, join.sh) hold no credential and refuse to run: synth cannot mint one without cloudcore's CA. Take the bundles from pulumi up (stack output edgeJoinBundles: a credential per pool, rotated), or set EDGECLOUD_KUBEEDGE_TOKEN to a token cloudcore issued (kubectl -n kubeedge get secret tokensecret, or keadm gettoken) and synth again`,
        ]
      : [
          `kubeedge: the join bundles of edge pool(s) ${names} carry EDGECLOUD_KUBEEDGE_TOKEN (cloudcore's own token, not a per-pool credential) and refuse to run after its exp, ${notAfter.toISOString()}; they are secrets (0600)`,
        ];
  return { artifacts, notes };
}
