import { z } from "zod";
import { Host } from "../lib/hosts/host";
import { HostStep, hostStep } from "../lib/steps/host-step";
import { raw, sh } from "../lib/steps/sh";
import { httpsUrl } from "../lib/validation/url";

/** Import of a cluster into a central Rancher (multi-site): Rancher's registration manifest applied on the first server. */
export const RancherImportSchema = z.strictObject({
  /** The Rancher server, e.g. `https://rancher.example.com` (for the summary and stack outputs). */
  server: httpsUrl,
  /**
   * The cluster name shown in Rancher.
   * @default - the environment name
   */
  clusterName: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a lowercase DNS label")
    .optional(),
  /**
   * The registration manifest URL (`https://<rancher>/v3/import/<token>_<cluster>.yaml`). It carries the
   * registration token: keep it out of environment files and set it with
   * `pulumi config set --secret edgecloud:rancherManifestUrl …` (or EDGECLOUD_RANCHER_MANIFEST_URL for synth).
   * @default - from secret stack config
   */
  manifestUrl: z
    .string()
    .regex(
      /^https:\/\/[^\s]+\.yaml$/,
      "must be the https URL of Rancher's registration manifest (…/v3/import/<token>.yaml)",
    )
    .optional(),
  /** Rancher with a self-signed certificate: fetch the manifest without verifying TLS (Rancher's `curl --insecure` variant). @default false */
  insecure: z.boolean().default(false),
});

export type RancherImport = z.output<typeof RancherImportSchema>;

export const RANCHER_COMPONENT = "rancher-import";
const URL_FILE = "/etc/edgecloud/rancher/manifest-url";

/**
 * The step that applies Rancher's registration manifest once the servers are up. The URL (it holds the token) is a
 * 0600 file, read by curl with `--config` so it never reaches argv. Check-then-act: skipped when the cattle
 * cluster agent already exists.
 */
export function rancherImportStep(
  server: Host,
  spec: RancherImport,
  manifestUrl: string,
  dependsOn: readonly string[],
): HostStep {
  const curlConfig = `url = "${manifestUrl.replace(/["\\]/g, "")}"\n`;
  const script = sh`kc=(/usr/local/bin/k3s kubectl)
if "\${kc[@]}" -n cattle-system get deployment cattle-cluster-agent >/dev/null 2>&1; then
  ec_log ${`already imported into Rancher ${spec.server}`}
else
  manifest=$(mktemp)
  trap 'rm -f "$manifest"' EXIT
  curl -fsSL${raw(spec.insecure ? " --insecure" : "")} --retry 5 --config ${URL_FILE} -o "$manifest"
  "\${kc[@]}" apply -f "$manifest" >/dev/null
  ec_changed
fi`;
  const deleteScript = sh`if /usr/local/bin/k3s kubectl get namespace cattle-system >/dev/null 2>&1; then
  /usr/local/bin/k3s kubectl delete namespace cattle-system --wait=false >/dev/null
  ec_changed
fi
rm -f ${URL_FILE}`;
  return hostStep({
    host: server.name,
    name: "rancher-import",
    component: RANCHER_COMPONENT,
    script,
    deleteScript,
    files: [{ path: URL_FILE, mode: "0600", content: curlConfig, secret: true }],
    dependsOn,
  });
}
