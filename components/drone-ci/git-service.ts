import { k8s } from "cdk8s-plus-27";
import { Construct } from "constructs";
import { createHash } from "crypto";
import { droneLabels, droneSelector } from "./labels";
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
      // the gogs image starts as root (s6) and drops to git (uid 1000)
      pod = {
        serviceAccountName: name,
        automountServiceAccountToken: false,
        securityContext: { seccompProfile: { type: "RuntimeDefault" } },
        initContainers: [
          {
            name: "config",
            image: git.image,
            imagePullPolicy: "IfNotPresent",
            command: [
              "sh",
              "-c",
              "mkdir -p /data/gogs/conf && cp /config/app.ini /data/gogs/conf/app.ini && chown -R 1000:1000 /data/gogs && chmod 0600 /data/gogs/conf/app.ini",
            ],
            volumeMounts: [
              { name: "data", mountPath: "/data" },
              { name: "config", mountPath: "/config", readOnly: true },
            ],
          },
        ],
        containers: [
          {
            name: "gogs",
            image: git.image,
            imagePullPolicy: "IfNotPresent",
            ports: port,
            readinessProbe: probe("/healthcheck"),
            livenessProbe: probe("/healthcheck"),
            resources,
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          },
        ],
        volumes: [
          { name: "data", persistentVolumeClaim: { claimName: `${name}-data` } },
          { name: "config", secret: { secretName: `${name}-config`, defaultMode: 0o400 } },
        ],
      };
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
