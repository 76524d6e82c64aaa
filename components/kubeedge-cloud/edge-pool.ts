import { stringify } from "yaml";
import { Host, HostSchema } from "../../lib/hosts/host";
import { SUPPORTED_ARCHES, supportsArch } from "../../lib/platform/support-matrix";
import { renderStepBundle } from "../../lib/steps/bundle";
import { HostStep, hostStep } from "../../lib/steps/host-step";
import { sh } from "../../lib/steps/sh";
import { IssueCollector } from "../../lib/validation/issues";
import type { EdgePool } from "./edge-pool-spec";
import {
  EDGECORE_CONFIG,
  TOKEN_PLACEHOLDER,
  edgePreflightStep,
  installStep,
  joinStep,
  runtimeStep,
} from "./edge-node-steps";
import type { KubeEdgeCloudProps, KubeEdgeCloudSpec } from "./spec";

/** The label every node of a pool registers with (the pool's name). */
export const EDGE_POOL_LABEL = "edgecloud.io/edge-pool";
/** Stand-ins the bundle replaces on the machine: its node name (a DNS label) and its address (RFC 5737 TEST-NET-1). */
export const POOL_NODE_NAME = "edgecloud-pool-node-name";
export const POOL_NODE_IP = "192.0.2.254";
/** Where the bundle keeps edgecore.yaml with the stand-ins until the node's own values are put in. */
const CONFIG_TEMPLATE = `${EDGECORE_CONFIG}.pool-template`;

/** Checks the pools of a validated spec: unique names, an architecture KubeEdge ships, rotation within the lifetime. */
export function checkEdgePools(spec: KubeEdgeCloudSpec, issues: IssueCollector, base: string): void {
  const seen = new Map<string, number>();
  spec.edgePools.forEach((p, i) => {
    const at = `${base}.edgePools[${i}]`;
    const prev = seen.get(p.name);
    if (prev !== undefined)
      issues.add(`${at}.name`, p.name, `is used twice (${base}.edgePools[${prev}]); pool names must be unique`);
    else seen.set(p.name, i);
    if (!supportsArch("keadm", p.arch))
      issues.add(`${at}.arch`, p.arch, `is not supported by KubeEdge; allowed: ${SUPPORTED_ARCHES.keadm.join(", ")}`);
    if (p.credential.rotateBeforeHours >= p.credential.ttlHours)
      issues.add(
        `${at}.credential.rotateBeforeHours`,
        p.credential.rotateBeforeHours,
        `must be less than ttlHours (${p.credential.ttlHours}): every \`pulumi up\` would mint a new credential`,
      );
  });
}

/** The stand-in host a pool's steps are rendered for (its name and address are replaced on each machine). */
export function poolHost(pool: EdgePool): Host {
  return HostSchema.parse({
    name: POOL_NODE_NAME,
    address: POOL_NODE_IP,
    ssh: { privateKey: "not used: edge pool nodes are not reached over SSH" },
    os: pool.os,
    arch: pool.arch,
    roles: ["edge"],
    labels: { ...pool.labels, [EDGE_POOL_LABEL]: pool.name },
    taints: pool.taints,
  });
}

/**
 * The pool's steps, in order: the edge hosts' pre-flight, runtime and install steps, and their join step with
 * edgecore.yaml written from a template once the machine's node name and address are known (`EC_NODE_NAME`,
 * `EC_NODE_IP`, set by the bundle).
 */
export function edgePoolSteps(props: KubeEdgeCloudProps, pool: EdgePool, token: string): HostStep[] {
  const host = poolHost(pool);
  const join = joinStep(props, host, token);
  const config = join.files.find((f) => f.path === EDGECORE_CONFIG)!;
  const personalized = hostStep({
    host: join.host,
    name: join.name,
    component: join.component,
    files: [{ ...config, path: CONFIG_TEMPLATE }, ...join.files.filter((f) => f !== config)],
    script: [
      // the stand-ins are plain words; the values were checked by the bundle (a DNS label, an IP address)
      sh`sed -e ${`s/${POOL_NODE_NAME}/`}"$EC_NODE_NAME"/g -e ${`s/${POOL_NODE_IP.replace(/\./g, "\\.")}/`}"$EC_NODE_IP"/g ${CONFIG_TEMPLATE} | base64 -w0 | ec_put ${EDGECORE_CONFIG} 0600 root:root`,
      sh`rm -f ${CONFIG_TEMPLATE}`,
      join.script,
    ].join("\n"),
    dependsOn: join.dependsOn,
    deleteScript: join.deleteScript,
  });
  return [edgePreflightStep(host), runtimeStep(props, host), installStep(props, host), personalized];
}

/** A pool's join bundle: the same program as a cloud-init user-data document and as a plain script. */
export interface JoinBundle {
  readonly pool: string;
  /** `#cloud-config`: writes the script 0700 and runs it once at first boot, then removes it. */
  readonly userData: string;
  /** Run as root on the machine: `sudo bash join.sh` (or `EDGECLOUD_NODE_NAME=… bash join.sh`). */
  readonly script: string;
  /** When the credential inside stops admitting nodes (ISO 8601). */
  readonly notAfter: string;
}

const SCRIPT_PATH = "/var/lib/edgecloud/edge-join.sh";

/**
 * Renders a pool's join bundle around `token` (the pool's credential, valid until `notAfter`). The script refuses an
 * expired credential, takes the node name from `EDGECLOUD_NODE_NAME` or the hostname (a DNS label) and the address
 * from the route to cloudcore (or `EDGECLOUD_NODE_IP`), refuses a name cloudcore already has a Node for unless this
 * machine joined before (keadm join's check: kubeedge/kubeedge v1.23.1 keadm/cmd/keadm/app/cmd/edge/join.go
 * `isNodeExist`, GET https://<cloudcore>:<httpsPort>/node/<name>, 404 = free), then runs the pool's steps in order.
 * The bundle holds the credential: it is a secret (0600/0700, never logged).
 *
 * With `token` {@link TOKEN_PLACEHOLDER} (synth: no cloudcore CA to mint from) the script refuses to run before
 * anything else, saying where a real bundle comes from; `notAfter` is then not used.
 */
export function renderJoinBundle(props: KubeEdgeCloudProps, pool: EdgePool, token: string, notAfter: Date): JoinBundle {
  const steps = edgePoolSteps(props, pool, token);
  const epoch = Math.floor(notAfter.getTime() / 1000);
  const iso = notAfter.toISOString();
  const certServer = props.join.certServer;
  const b64 = (s: string) =>
    Buffer.from(s, "utf8")
      .toString("base64")
      .replace(/.{1,76}/g, "$&\n");
  const placeholder = token === TOKEN_PLACEHOLDER;
  const script = [
    "#!/usr/bin/env bash",
    // a placeholder bundle keeps the whole program for review, after the refusal that makes it unreachable
    ...(placeholder ? ["# shellcheck disable=SC2317"] : []),
    `# edgecloud join bundle: KubeEdge ${props.spec.version} edge pool "${pool.name}" (${pool.os}/${pool.arch})`,
    placeholder
      ? "# Holds NO join credential (written by edgecloud synth): it refuses to run."
      : `# Holds a join credential valid until ${iso}: keep it secret (0600), run it as root once per machine.`,
    "set -euo pipefail",
    "umask 077",
    'log() { printf "edgecloud-join: %s\\n" "$*" >&2; }',
    ...(placeholder
      ? [
          sh`log ${`this bundle of pool "${pool.name}" holds no join credential (edgecloud synth cannot mint one: cloudcore's CA exists once cloudcore runs); take the bundle from pulumi up (stack output edgeJoinBundles) or synth again with EDGECLOUD_KUBEEDGE_TOKEN`}`,
          "exit 1",
        ]
      : []),
    'if [ "$(id -u)" != 0 ]; then log "run as root"; exit 1; fi',
    sh`if [ "$(date -u +%s)" -ge ${String(epoch)} ]; then log ${`the join credential of pool "${pool.name}" expired at ${iso}; fetch a fresh bundle (pulumi up mints one)`}; exit 1; fi`,
    "node_name=${EDGECLOUD_NODE_NAME:-$(hostname -s)}",
    "node_name=$(printf '%s' \"$node_name\" | tr '[:upper:]' '[:lower:]')",
    'if ! [[ $node_name =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]]; then log "node name \\"$node_name\\" is not a DNS label; set EDGECLOUD_NODE_NAME"; exit 1; fi',
    sh`node_ip=\${EDGECLOUD_NODE_IP:-$(ip -o route get ${props.join.address} 2>/dev/null | sed -n 's/.* src \\([0-9a-fA-F.:]*\\).*/\\1/p')}`,
    'if ! [[ $node_ip =~ ^[0-9]{1,3}(\\.[0-9]{1,3}){3}$ || $node_ip =~ ^[0-9a-fA-F:]+$ ]]; then log "no address routes to cloudcore; set EDGECLOUD_NODE_IP"; exit 1; fi',
    // keadm join's check: cloudcore answers 404 for a name it has no Node for
    "if [ ! -s /etc/kubeedge/certs/server.crt ]; then",
    sh`  code=$(curl -sk -o /dev/null -w '%{http_code}' --retry 5 --max-time 20 ${`${certServer}/node/`}"$node_name" || true)`,
    '  if [ "$code" != 404 ]; then log "cloudcore already has a node \\"$node_name\\" (or answered ${code:-nothing}); give this machine another name (EDGECLOUD_NODE_NAME)"; exit 1; fi',
    "fi",
    'export EC_NODE_NAME="$node_name" EC_NODE_IP="$node_ip"',
    "work=$(mktemp -d)",
    "trap 'rm -rf \"$work\"' EXIT",
    "run_step() {",
    '  base64 -d >"$work/$1.sh"',
    sh`  sed -i ${`s/${POOL_NODE_NAME}/`}"$node_name"/g "$work/$1.sh"`,
    '  log "$1"',
    '  bash "$work/$1.sh" </dev/null >"$work/$1.log" 2>&1 || { tail -n 30 "$work/$1.log" >&2; log "$1 failed"; exit 1; }',
    "}",
    ...steps.map((s) => `run_step ${s.name} <<'EC_STEP_EOF'\n${b64(renderStepBundle(s))}EC_STEP_EOF`),
    sh`log "$node_name joined edge pool "${pool.name}`,
    "",
  ].join("\n");
  const userData =
    "#cloud-config\n" +
    stringify(
      {
        write_files: [
          {
            path: SCRIPT_PATH,
            permissions: "0700",
            owner: "root:root",
            encoding: "b64",
            content: b64(script).replace(/\n/g, ""),
          },
        ],
        runcmd: [["sh", "-c", `bash ${SCRIPT_PATH} && rm -f ${SCRIPT_PATH}`]],
      },
      { lineWidth: 0 },
    );
  return { pool: pool.name, userData, script, notAfter: iso };
}
