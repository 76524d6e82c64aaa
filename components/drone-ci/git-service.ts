import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { createHash } from "crypto";
import { DNS_PORTS, inNamespace, KUBE_DNS_PEER, tcpPort } from "../../lib/manifests/network-policy";
import { droneLabels, droneSelector } from "./labels";
import { DRONE_SERVER_PORT } from "./server-env";
import { DroneCiProps, GitService, gitServiceUrl } from "./spec";

const q = (v: string) => k8s.Quantity.fromString(v);
export const GIT_HTTP_PORT = 3000;

/**
 * Gogs's app.ini: install locked, registration closed, SQLite, the URL Drone uses, SSH off (HTTP clones only), and
 * webhooks allowed to Drone's host: Gogs 0.13 refuses to deliver to a host that resolves to a private address
 * unless `[security] LOCAL_NETWORK_ALLOWLIST` names it (gogs/gogs v0.13.4 internal/db/webhook.go:704
 * `IsBlockedLocalHostname(payloadURL.Hostname(), conf.Security.LocalNetworkAllowlist)`, conf/app.ini:182).
 * Registration is closed (`[auth] DISABLE_REGISTRATION`, conf/app.ini:229): the first account to register on an
 * open Gogs becomes its administrator, and any pod could reach it first.
 */
export function renderGogsAppIni(
  git: Extract<GitService, { kind: "gogs" }>,
  secretKey: string,
  droneHost: string,
): string {
  const url = git.rootUrl ?? gitServiceUrl(git);
  return [
    "BRAND_NAME = Gogs",
    "RUN_USER = git",
    "RUN_MODE = prod",
    "",
    "[server]",
    `DOMAIN = ${new URL(url).hostname}`,
    `HTTP_PORT = ${GIT_HTTP_PORT}`,
    `EXTERNAL_URL = ${url.endsWith("/") ? url : `${url}/`}`,
    "DISABLE_SSH = true",
    "OFFLINE_MODE = true",
    "",
    "[database]",
    "TYPE = sqlite3",
    "PATH = /data/gogs/data/gogs.db",
    "",
    "[repository]",
    "ROOT = /data/git/gogs-repositories",
    "",
    "[security]",
    "INSTALL_LOCK = true",
    `SECRET_KEY = ${secretKey}`,
    `LOCAL_NETWORK_ALLOWLIST = ${droneHost.replace(/:\d+$/, "")}`,
    "",
    "[auth]",
    "DISABLE_REGISTRATION = true",
    "",
    "[log]",
    "MODE = console",
    "LEVEL = Info",
    "",
  ].join("\n");
}

/**
 * An in-cluster Gogs or Gitea with persistence, wired to Drone: its URL is Drone's provider server, and Gitea
 * allows webhooks to the Drone server (it blocks private addresses by default).
 */
export class GitServer extends Construct {
  constructor(scope: Construct, id: string, props: DroneCiProps) {
    super(scope, id);
    const git = props.spec.git;
    const s = props.gitSecrets;
    if (!git || !s) throw new Error("GitServer needs spec.git and gitSecrets");
    const ns = git.namespace;
    const name = git.kind;
    const labels = droneLabels(name);
    new k8s.KubeServiceAccount(this, "sa", {
      metadata: { name, namespace: ns, labels },
      automountServiceAccountToken: false,
    });
    new k8s.KubePersistentVolumeClaim(this, "data", {
      metadata: { name: `${name}-data`, namespace: ns, labels },
      spec: {
        accessModes: ["ReadWriteOnce"],
        ...(git.storage.storageClassName ? { storageClassName: git.storage.storageClassName } : {}),
        resources: { requests: { storage: q(git.storage.size) } },
      },
    });
    const port: k8s.ContainerPort[] = [{ name: "http", containerPort: GIT_HTTP_PORT, protocol: "TCP" }];
    const probe = (path: string) => ({
      httpGet: { path, port: k8s.IntOrString.fromString("http") },
      periodSeconds: 15,
      failureThreshold: 6,
    });
    const resources = { requests: { cpu: q("50m"), memory: q("128Mi") }, limits: { memory: q("1Gi") } };
    let pod: k8s.PodSpec;
    let checksum: string;
    if (git.kind === "gogs") {
      const appIni = renderGogsAppIni(git, s.secretKey, props.spec.server.host);
      checksum = createHash("sha256").update(appIni).digest("hex");
      new k8s.KubeSecret(this, "config", {
        metadata: { name: `${name}-config`, namespace: ns, labels },
        type: "Opaque",
        stringData: { "app.ini": appIni },
      });
      pod = gogsPod(git.image, name, port, probe, resources);
    } else {
      const droneHost = props.spec.server.host.replace(/:\d+$/, "");
      const env: Record<string, string> = {
        GITEA__server__ROOT_URL: git.rootUrl,
        GITEA__server__HTTP_PORT: String(GIT_HTTP_PORT),
        GITEA__server__DISABLE_SSH: "true",
        GITEA__database__DB_TYPE: "sqlite3",
        GITEA__database__PATH: "/var/lib/gitea/data/gitea.db",
        GITEA__security__INSTALL_LOCK: "true",
        // Gitea refuses webhooks to private addresses unless allowed: let it call Drone
        GITEA__webhook__ALLOWED_HOST_LIST: droneHost,
      };
      const secretEnv = {
        GITEA__security__SECRET_KEY: s.secretKey,
        GITEA__security__INTERNAL_TOKEN: s.internalToken,
        GITEA__oauth2__JWT_SECRET: Buffer.from(s.jwtSecret, "hex").toString("base64url"),
      };
      checksum = createHash("sha256")
        .update(JSON.stringify([env, secretEnv]))
        .digest("hex");
      new k8s.KubeConfigMap(this, "env", { metadata: { name: `${name}-env`, namespace: ns, labels }, data: env });
      new k8s.KubeSecret(this, "secrets", {
        metadata: { name: `${name}-secrets`, namespace: ns, labels },
        type: "Opaque",
        stringData: secretEnv,
      });
      pod = {
        serviceAccountName: name,
        automountServiceAccountToken: false,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 1000,
          runAsGroup: 1000,
          fsGroup: 1000,
          seccompProfile: { type: "RuntimeDefault" },
        },
        containers: [
          {
            name: "gitea",
            image: git.image,
            imagePullPolicy: "IfNotPresent",
            envFrom: [{ configMapRef: { name: `${name}-env` } }, { secretRef: { name: `${name}-secrets` } }],
            ports: port,
            readinessProbe: probe("/api/healthz"),
            livenessProbe: probe("/api/healthz"),
            resources,
            securityContext: {
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ["ALL"] },
            },
            volumeMounts: [
              { name: "data", mountPath: "/var/lib/gitea" },
              { name: "config", mountPath: "/etc/gitea" },
              { name: "tmp", mountPath: "/tmp" },
            ],
          },
        ],
        volumes: [
          { name: "data", persistentVolumeClaim: { claimName: `${name}-data` } },
          { name: "config", emptyDir: {} },
          { name: "tmp", emptyDir: {} },
        ],
      };
    }
    new k8s.KubeDeployment(this, "deployment", {
      metadata: { name, namespace: ns, labels },
      spec: {
        replicas: 1,
        strategy: { type: "Recreate" },
        selector: { matchLabels: droneSelector(name) },
        template: { metadata: { labels, annotations: { "edgecloud.io/config-checksum": checksum } }, spec: pod },
      },
    });
    new k8s.KubeNetworkPolicy(this, "network-policy", {
      metadata: { name, namespace: ns, labels },
      spec: gitNetworkPolicy(props),
    });
    new k8s.KubeService(this, "service", {
      metadata: { name, namespace: ns, labels },
      spec: {
        type: "ClusterIP",
        selector: droneSelector(name),
        ports: [{ name: "http", port: GIT_HTTP_PORT, targetPort: k8s.IntOrString.fromString("http"), protocol: "TCP" }],
      },
    });
  }
}

/** The `git` user of the gogs image (gogs/gogs v0.13.4 docker/start.sh `setids`: PUID/PGID default 1000). */
export const GOGS_UID = 1000;
/** Gogs's custom and work directory on the data volume (what the image's symlinks point at). */
const GOGS_DIR = "/data/gogs";

/**
 * Gogs without root. The image's entrypoint needs root: gogs/gogs v0.13.4 docker/start.sh runs groupmod/usermod,
 * `chown -R` on /data and `gosu`, and its s6 services start sshd, syslogd and crond as root
 * (docker/s6/openssh/run, syslogd/run, crond/run: `gosu root …`) before docker/s6/gogs/run drops to `git`. With
 * `DISABLE_SSH` and no cron none of those is needed, so the pod runs the binary itself as `git` (uid 1000) and sets
 * what the entrypoint would: `GOGS_WORK_DIR` (internal/conf/computed.go WorkDir) on the data volume so every
 * relative data path (APP_DATA_PATH `data`, the log, uploads, avatars: conf/app.ini) lands there instead of the
 * image's root-owned /app/gogs; `USER` for the RUN_USER check (internal/osutil/osutil.go CurrentUsername reads
 * $USER first; internal/conf/conf.go refuses to start on a mismatch); `HOME` for the `git config --global` Gogs
 * runs at start (internal/db/repo.go NewRepoContext). The root filesystem is read-only; /tmp is an emptyDir.
 */
function gogsPod(
  image: string,
  name: string,
  port: k8s.ContainerPort[],
  probe: (path: string) => k8s.Probe,
  resources: k8s.ResourceRequirements,
): k8s.PodSpec {
  const hardened: k8s.SecurityContext = {
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
  };
  return {
    serviceAccountName: name,
    automountServiceAccountToken: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: GOGS_UID,
      runAsGroup: GOGS_UID,
      fsGroup: GOGS_UID,
      seccompProfile: { type: "RuntimeDefault" },
    },
    initContainers: [
      {
        name: "config",
        image,
        imagePullPolicy: "IfNotPresent",
        command: [
          "sh",
          "-c",
          `mkdir -p ${GOGS_DIR}/conf /data/git && cp /config/app.ini ${GOGS_DIR}/conf/app.ini && chmod 0600 ${GOGS_DIR}/conf/app.ini`,
        ],
        securityContext: hardened,
        volumeMounts: [
          { name: "data", mountPath: "/data" },
          { name: "config", mountPath: "/config", readOnly: true },
        ],
      },
    ],
    containers: [
      {
        name: "gogs",
        image,
        imagePullPolicy: "IfNotPresent",
        command: ["/app/gogs/gogs", "web"],
        env: [
          { name: "GOGS_CUSTOM", value: GOGS_DIR },
          { name: "GOGS_WORK_DIR", value: GOGS_DIR },
          { name: "USER", value: "git" },
          { name: "HOME", value: "/data/git" },
        ],
        ports: port,
        readinessProbe: probe("/healthcheck"),
        livenessProbe: probe("/healthcheck"),
        resources,
        securityContext: hardened,
        volumeMounts: [
          { name: "data", mountPath: "/data" },
          { name: "tmp", mountPath: "/tmp" },
        ],
      },
    ],
    volumes: [
      { name: "data", persistentVolumeClaim: { claimName: `${name}-data` } },
      // 0440: root-owned, group fsGroup (the git user reads it in the init container)
      { name: "config", secret: { secretName: `${name}-config`, defaultMode: 0o440 } },
      { name: "tmp", emptyDir: { sizeLimit: k8s.Quantity.fromString("1Gi") } },
    ],
  };
}

/**
 * Who may reach the in-cluster Gogs/Gitea and what it may reach. In: its HTTP port only, from the Drone server
 * (provider API, OAuth) and from where builds clone — the docker runner's pods (builds run in their DinD, so they
 * leave from the runner pod) or, with the kube runner, the build namespace. Users reach it by `kubectl
 * port-forward`, which no NetworkPolicy filters. Out: DNS, the Drone server's pod port (webhooks to its Service),
 * and HTTP(S) anywhere (a webhook URL on Drone's public host may route through an Ingress or a load balancer; repository
 * mirrors), plus the Drone host's own port when it names one.
 */
export function gitNetworkPolicy(props: DroneCiProps): k8s.NetworkPolicySpec {
  const { spec } = props;
  const git = spec.git!;
  const r = spec.runner;
  const from: k8s.NetworkPolicyPeer[] = [
    { ...inNamespace(spec.namespace), podSelector: { matchLabels: droneSelector("server") } },
    r.kind === "docker"
      ? { ...inNamespace(r.namespace), podSelector: { matchLabels: droneSelector("runner") } }
      : inNamespace(r.buildNamespace),
  ];
  const hostPort = /:(\d+)$/.exec(spec.server.host)?.[1];
  const webPorts = [...new Set([80, 443, ...(hostPort ? [Number(hostPort)] : [])])];
  return {
    podSelector: { matchLabels: droneSelector(git.kind) },
    policyTypes: ["Ingress", "Egress"],
    ingress: [{ from, ports: [tcpPort(GIT_HTTP_PORT)] }],
    egress: [
      { to: [KUBE_DNS_PEER], ports: DNS_PORTS },
      {
        to: [{ ...inNamespace(spec.namespace), podSelector: { matchLabels: droneSelector("server") } }],
        ports: [tcpPort(DRONE_SERVER_PORT)],
      },
      { ports: webPorts.map(tcpPort) },
    ],
  };
}
