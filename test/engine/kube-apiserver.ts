import { spawn } from "child_process";
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "fs";
import { join } from "path";
import { stringify } from "yaml";
import { createCa, IssuedCert, issueCert } from "../../lib/pki/x509";
import { Lab } from "../lab/lab";

/** The files and flags of a kube-apiserver started on a lab host (no kubelet, no controllers: API level only). */
export interface ApiServer {
  readonly host: string;
  readonly url: string;
  /** Runs kubectl on the runner, inside the lab's network namespace, with an admin client certificate. */
  kubectl(args: readonly string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** Stops the API server's unit on the host. */
  stop(): Promise<void>;
  readonly readyMs: number;
  /** The cluster CA (serving certificate, client CA): signs the lab's other components' client certificates. */
  readonly ca: IssuedCert;
  /** Its files on the host: `ca.crt`, `service-account.key`, … */
  readonly dir: string;
  /** A kubeconfig for `user` with `ca`'s cluster at `server` (default: this API server's URL). */
  kubeconfigFor(user: { certPem: string; keyPem: string }, server?: string): string;
}

export interface KubectlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where the K3s server config says the datastore is: the very flags kube-apiserver gets. */
export interface Datastore {
  readonly endpoint: string;
  readonly cafile: string;
  readonly certfile: string;
  readonly keyfile: string;
}

const DIR = "/etc/edgecloud-engine/kube-apiserver";
const UNIT = "edgecloud-engine-kube-apiserver";

/**
 * Copies the built kube-apiserver onto `host`, gives it a serving certificate, a client CA and a service-account
 * key (from the library's own PKI functions), and starts it with systemd-run against `datastore` — the endpoint and
 * cert files of the K3s server config, unchanged. Resolves when `/readyz` answers ok.
 */
export async function startApiServer(
  lab: Lab,
  host: string,
  datastore: Datastore,
  opts: {
    binDir: string;
    workDir: string;
    serviceCidr: string;
    serviceIp: string;
    timeoutMs?: number;
    /** @default "RBAC" (the lab's nodes stage adds Node, with the NodeRestriction admission plugin) */
    authorizationMode?: string;
    extraFlags?: readonly string[];
  },
): Promise<ApiServer> {
  const t0 = Date.now();
  const h = lab.host(host);
  const ca = await createCa("edgecloud-engine-apiserver-ca", 2);
  const serving = await issueCert(ca, {
    commonName: "kube-apiserver",
    ips: [h.address, "127.0.0.1", opts.serviceIp],
    dnsNames: ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "localhost", host],
    usages: ["server"],
    validityDays: 2,
  });
  const admin = await issueCert(ca, {
    commonName: "edgecloud-engine",
    organization: "system:masters",
    usages: ["client"],
    validityDays: 2,
  });
  const sa = await createCa("edgecloud-engine-service-accounts", 2);

  const dir = join(h.root, DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const put = (name: string, content: string, mode: number): void => {
    writeFileSync(join(dir, name), content, { mode });
    chmodSync(join(dir, name), mode);
  };
  put("ca.crt", ca.certPem, 0o644);
  put("apiserver.crt", serving.certPem, 0o644);
  put("apiserver.key", serving.keyPem, 0o600);
  put("service-account.key", sa.keyPem, 0o600);
  put("service-account.crt", sa.certPem, 0o644); // verification wants the public half (a certificate will do)
  copyFileSync(join(opts.binDir, "kube-apiserver"), join(h.root, "usr/local/bin/kube-apiserver"));
  chmodSync(join(h.root, "usr/local/bin/kube-apiserver"), 0o755);

  const flags = [
    `--etcd-servers=${datastore.endpoint}`,
    `--etcd-cafile=${datastore.cafile}`,
    `--etcd-certfile=${datastore.certfile}`,
    `--etcd-keyfile=${datastore.keyfile}`,
    "--bind-address=0.0.0.0",
    "--secure-port=6443",
    `--advertise-address=${h.address}`,
    `--tls-cert-file=${DIR}/apiserver.crt`,
    `--tls-private-key-file=${DIR}/apiserver.key`,
    `--client-ca-file=${DIR}/ca.crt`,
    `--authorization-mode=${opts.authorizationMode ?? "RBAC"}`,
    "--anonymous-auth=false",
    `--service-cluster-ip-range=${opts.serviceCidr}`,
    "--service-account-issuer=https://kubernetes.default.svc",
    `--service-account-key-file=${DIR}/service-account.crt`,
    `--service-account-signing-key-file=${DIR}/service-account.key`,
    "--allow-privileged=true",
    "--profiling=false",
    ...(opts.extraFlags ?? []),
  ];
  await lab.sh(
    host,
    `systemctl stop ${UNIT} 2>/dev/null || true; systemctl reset-failed ${UNIT} 2>/dev/null || true
systemd-run --unit=${UNIT} --property=Restart=no /usr/local/bin/kube-apiserver ${flags.join(" ")}`,
  );

  mkdirSync(opts.workDir, { recursive: true, mode: 0o700 });
  const kubeconfig = join(opts.workDir, "kubeconfig");
  const url = `https://${h.address}:6443`;
  const b64 = (s: string): string => Buffer.from(s).toString("base64");
  const kubeconfigFor = (user: { certPem: string; keyPem: string }, server = url): string =>
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "engine", cluster: { server, "certificate-authority-data": b64(ca.certPem) } }],
      users: [
        {
          name: "user",
          user: { "client-certificate-data": b64(user.certPem), "client-key-data": b64(user.keyPem) },
        },
      ],
      contexts: [{ name: "engine", context: { cluster: "engine", user: "user" } }],
      "current-context": "engine",
    });
  writeFileSync(kubeconfig, kubeconfigFor(admin), { mode: 0o600 });
  const netns = lab.sshArgv(host)[1]!; // "--net=/run/netns/<bridge namespace>"
  const kubectl = (args: readonly string[], o: { stdin?: string; timeoutMs?: number } = {}): Promise<KubectlResult> =>
    runTool(
      "nsenter",
      [netns, "--", join(opts.binDir, "kubectl"), "--kubeconfig", kubeconfig, "--request-timeout=30s", ...args],
      o,
    );

  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  let last = "";
  for (;;) {
    const r = await kubectl(["get", "--raw", "/readyz"], { timeoutMs: 35_000 });
    if (r.code === 0 && r.stdout.trim() === "ok") break;
    last = (r.stdout + r.stderr).trim();
    const failed = (await lab.exec(host, `systemctl is-failed --quiet ${UNIT}`)).code === 0;
    if (failed || Date.now() > deadline) {
      const journal = await lab.exec(host, `journalctl -u ${UNIT} --no-pager | tail -40`);
      const why = failed ? "exited" : `not ready after ${(Date.now() - t0) / 1000} s`;
      throw new Error(`kube-apiserver on ${host} ${why} (last answer: ${last})\n${journal.stdout}`);
    }
    await new Promise((r2) => setTimeout(r2, 1000));
  }
  return {
    host,
    url,
    kubectl,
    readyMs: Date.now() - t0,
    ca,
    dir: DIR,
    kubeconfigFor,
    stop: async () => {
      await lab.exec(
        host,
        `systemctl stop ${UNIT} 2>/dev/null || true; systemctl reset-failed ${UNIT} 2>/dev/null || true`,
      );
    },
  };
}

interface JsonSchema {
  readonly type?: string;
  readonly properties?: Record<string, JsonSchema>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly minItems?: number;
  readonly minimum?: number;
  readonly "x-kubernetes-int-or-string"?: boolean;
  readonly "x-kubernetes-preserve-unknown-fields"?: boolean;
}

/** The CRD's storage version. */
export function storageVersion(crd: {
  spec: { versions: { name: string; storage: boolean; schema?: { openAPIV3Schema?: JsonSchema } }[] };
}) {
  return crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0]!;
}

/**
 * The smallest value the schema accepts as far as its types, required fields, enums and minimums go: what a custom
 * object of a CRD needs to pass the API server's structural validation (patterns and CEL rules are not solved).
 */
export function minimalValue(schema: JsonSchema | undefined): unknown {
  if (!schema) return {};
  if (schema.enum && schema.enum.length) return schema.enum[0];
  if (schema["x-kubernetes-int-or-string"]) return 1;
  switch (schema.type) {
    case "string":
      return "engine";
    case "integer":
    case "number":
      return Math.max(1, schema.minimum ?? 1);
    case "boolean":
      return false;
    case "array":
      return Array.from({ length: schema.minItems ?? 0 }, () => minimalValue(schema.items));
    default:
      return Object.fromEntries((schema.required ?? []).map((k) => [k, minimalValue(schema.properties?.[k])]));
  }
}

function isZero(v: unknown): boolean {
  if (v === "" || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return v !== null && typeof v === "object" && Object.keys(v).length === 0;
}

function runTool(
  cmd: string,
  args: readonly string[],
  opts: { stdin?: string; timeoutMs?: number },
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.stdin.on("error", () => undefined);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? "");
  });
}

/**
 * The paths where `actual` (read back from the API server) lacks a field of `expected` (what was applied) or holds
 * another value. The server adds defaults, status and metadata of its own, and drops zero values of `omitempty`
 * fields (`""`, `false`, `[]`, `{}`), which therefore count as equal to an absent field.
 */
export function missingFields(expected: unknown, actual: unknown, path = ""): string[] {
  if ((actual === undefined || actual === null) && isZero(expected)) return [];
  if (expected === null || typeof expected !== "object") {
    if (expected === actual) return [];
    if (typeof expected === "number" && String(expected) === String(actual)) return [];
    return [`${path || "."}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${JSON.stringify(actual)}`];
    if (actual.length !== expected.length) return [`${path}: expected ${expected.length} items, got ${actual.length}`];
    return expected.flatMap((e, i) => missingFields(e, actual[i], `${path}[${i}]`));
  }
  if (actual === null || typeof actual !== "object")
    return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
  return Object.entries(expected as Record<string, unknown>).flatMap(([k, v]) =>
    v === undefined ? [] : missingFields(v, (actual as Record<string, unknown>)[k], `${path}.${k}`),
  );
}
