import { hasRole, Host, internalAddress } from "../../lib/hosts/host";
import { osProfile } from "../../lib/platform/os";
import { HostStep, hostStep } from "../../lib/steps/host-step";
import { raw, sh } from "../../lib/steps/sh";
import { ipVersion } from "../../lib/validation/net";
import { STREAM_CERT_SECRET } from "./cloudcore-chart";
import { KUBEEDGE_COMPONENT } from "./edge-node-steps";
import { KEADM_STEPS } from "./keadm-init-steps";
import { stepId } from "../../lib/steps/host-step";
import { KubeEdgeCloudProps, NAMESPACE } from "./spec";

export const STREAM_CERT_STEP = "kubeedge-stream-cert";
/** K3s's CA directory on a server (k3s-io/k3s pkg/daemons/control/deps: server-ca.*, client-ca.*). */
const K3S_TLS = "/var/lib/rancher/k3s/server/tls";
const ANNOTATION = "edgecloud.io/stream-cert";

/**
 * Where the stream certificate is issued: a server, which holds K3s's CA keys — the keadm host in keadm mode (after
 * `keadm init`: the chart's own Secret, a pre-install hook with a private CA, is replaced), else the first server.
 */
export function streamCertHost(props: KubeEdgeCloudProps): Host | undefined {
  if (!props.spec.cloudStream.enable) return undefined;
  return props.spec.mode === "keadm" ? props.keadmHost : props.cloudHosts.find((h) => hasRole(h, "server"));
}

/** The SANs of the stream certificate: every edge node's address (what the API server dials) and the advertised ones. */
export function streamCertSans(props: KubeEdgeCloudProps): { ips: string[]; dnsNames: string[] } {
  const all = [
    ...props.edgeHosts.flatMap((h) => [internalAddress(h), h.address]),
    ...props.spec.cloudHub.advertiseAddress,
  ];
  const ips = [...new Set(all.filter((a) => ipVersion(a) !== 0))];
  const dnsNames = [...new Set([...all.filter((a) => ipVersion(a) === 0), ...props.spec.cloudHub.dnsNames])];
  return { ips, dnsNames };
}

/**
 * cloudcore's stream certificate (Secret `kubeedge/cloudcore`), issued on a K3s server by K3s's own server CA:
 * `kubectl logs/exec` to an edge pod goes from the API server to `<edge node IP>:10350`, which the iptables-manager
 * DNATs to cloudstream, and K3s starts the API server with `--kubelet-certificate-authority` = its server CA
 * (k3s-io/k3s pkg/daemons/control/server.go), so the certificate must chain to that CA and name every edge node's
 * IP. `streamCA.crt` is K3s's client CA (it signs the API server's kubelet client certificate). The keys never
 * leave the server: generated in a private temporary directory and applied through a pipe. Re-issued when the
 * SANs or the CA change (a hash in the Secret's annotation); nothing else changes.
 */
export function streamCertStep(props: KubeEdgeCloudProps, host: Host): HostStep {
  const { ips, dnsNames } = streamCertSans(props);
  const san = [...ips.map((i) => `IP:${i}`), ...dnsNames.map((d) => `DNS:${d}`)].join(",");
  const kubeconfig = props.spec.kubeconfigPath;
  const kubectl = raw(sh`/usr/local/bin/k3s kubectl -n ${NAMESPACE}`);
  const pm = osProfile(host.os).packageManager;
  const script = [
    sh`export KUBECONFIG=${kubeconfig}`,
    sh`tls=${K3S_TLS}`,
    sh`host_name=${host.name}`,
    // the namespace comes with cloudcore's objects
    sh`if ! ec_retry 60 5 /usr/local/bin/k3s kubectl get namespace ${NAMESPACE} >/dev/null 2>&1; then ec_log ${`namespace ${NAMESPACE} does not exist`}; exit 1; fi`,
    "for f in server-ca.crt server-ca.key client-ca.crt; do",
    `  if [ ! -s "$tls/$f" ]; then ec_log "no $tls/$f on $host_name: the stream certificate is signed by K3s's CA on a K3s server"; exit 1; fi`,
    "done",
    sh`command -v openssl >/dev/null 2>&1 || ec_pkg ${pm} openssl`,
    sh`want=$(printf '%s\\n' ${san} "$(sha256sum "$tls/server-ca.crt" "$tls/client-ca.crt" | cut -d ' ' -f 1)" | sha256sum | cut -d ' ' -f 1)`,
    sh`have=$(${kubectl} get secret ${STREAM_CERT_SECRET} -o jsonpath='{.metadata.annotations.edgecloud\\.io/stream-cert}' 2>/dev/null || true)`,
    'if [ "$have" != "$want" ]; then',
    "  work=$(mktemp -d)",
    "  trap 'rm -rf \"$work\"' EXIT",
    '  chmod 0700 "$work"',
    '  openssl ecparam -name prime256v1 -genkey -noout -out "$work/stream.key" 2>/dev/null',
    '  openssl req -new -key "$work/stream.key" -subj /CN=kubeedge-stream -out "$work/stream.csr" 2>/dev/null',
    sh`  printf '%s\\n' ${`subjectAltName=${san}`} 'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth,clientAuth' >"$work/ext"`,
    '  openssl x509 -req -in "$work/stream.csr" -CA "$tls/server-ca.crt" -CAkey "$tls/server-ca.key" -set_serial "0x$(openssl rand -hex 16)" -days 3650 -extfile "$work/ext" -out "$work/stream.crt" 2>/dev/null',
    sh`  ${kubectl} create secret generic ${STREAM_CERT_SECRET} --from-file=streamCA.crt="$tls/client-ca.crt" --from-file=stream.crt="$work/stream.crt" --from-file=stream.key="$work/stream.key" --dry-run=client -o yaml |`,
    sh`    ${kubectl} annotate --local -f - -o yaml ${`${ANNOTATION}=`}"$want" |`,
    sh`    ${kubectl} apply -f - >/dev/null`,
    // a running cloudcore reads the certificate at start
    sh`  if ${kubectl} get deployment cloudcore >/dev/null 2>&1; then ${kubectl} rollout restart deployment/cloudcore >/dev/null; fi`,
    "  ec_changed",
    "fi",
  ].join("\n");
  return hostStep({
    host: host.name,
    name: STREAM_CERT_STEP,
    component: KUBEEDGE_COMPONENT,
    script,
    ...(props.spec.mode === "keadm" ? { dependsOn: [stepId(host.name, KEADM_STEPS.init)] } : {}),
    deleteScript: [
      sh`export KUBECONFIG=${kubeconfig}`,
      sh`if [ -x /usr/local/bin/k3s ]; then ${kubectl} delete secret ${STREAM_CERT_SECRET} --ignore-not-found >/dev/null 2>&1 || ec_log ${`could not delete ${NAMESPACE}/${STREAM_CERT_SECRET}`}; fi`,
    ].join("\n"),
  });
}
