import { osProfile } from "../../lib/platform/os";
import { closeFirewall, FirewallOpening, openFirewall } from "../../lib/steps/firewall";
import { hostStep, HostStep, StepFile } from "../../lib/steps/host-step";
import { sh } from "../../lib/steps/sh";
import { envFile, unitValue } from "../../lib/steps/writers";
import { RegistryConfigPaths, registrySecretEnv, renderRegistryConfig } from "./config";
import { renderHtpasswd } from "./htpasswd";
import { cronToOnCalendar } from "./schedule";
import { RegistryProps } from "./spec";

/** The Debian package's unit, run with edgecloud's drop-in. */
export const REGISTRY_UNIT = "docker-registry.service";
export const REGISTRY_GC_UNIT = "edgecloud-registry-gc";
const ETC = "/etc/edgecloud/registry";
const CREDENTIALS = `/run/credentials/${REGISTRY_UNIT}`;
const COMPONENT = "registry";

/**
 * Host mode: Debian's `docker-registry` (distribution 2.x) as a systemd service with htpasswd auth and TLS.
 * Secrets (htpasswd, TLS key, HTTP secret) are root-only files handed to the unprivileged service through
 * `LoadCredential=` and `EnvironmentFile=`; garbage collection runs from a timer with the registry stopped.
 */
export function registryHostSteps(props: RegistryProps): HostStep[] {
  const mode = props.spec.mode;
  if (mode.kind !== "host" || !props.host)
    throw new Error(`registryHostSteps renders host mode only; mode is "${mode.kind}"`);
  const tls = props.tls.kind === "tls";
  const paths: RegistryConfigPaths = {
    rootDirectory: mode.dataDir,
    htpasswd: `${CREDENTIALS}/htpasswd`,
    certificate: `${ETC}/tls.crt`,
    key: `${CREDENTIALS}/tls.key`,
    addr: `:${mode.port}`,
  };
  const gcCalendar = cronToOnCalendar(props.spec.gc.schedule);
  const files: StepFile[] = [
    { path: `${ETC}/config.yml`, mode: "0644", content: renderRegistryConfig(props, paths), secret: false },
    {
      path: `${ETC}/registry.env`,
      mode: "0600",
      content: envFile(registrySecretEnv(props)),
      secret: true,
    },
    ...(props.spec.auth
      ? [
          {
            path: `${ETC}/htpasswd`,
            mode: "0600",
            content: renderHtpasswd(props.users, props.httpSecret),
            secret: true,
          },
        ]
      : []),
    ...(props.tls.kind === "tls"
      ? [
          { path: `${ETC}/tls.crt`, mode: "0644", content: props.tls.certPem, secret: false },
          { path: `${ETC}/tls.key`, mode: "0600", content: props.tls.keyPem, secret: true },
        ]
      : []),
    {
      path: `/etc/systemd/system/${REGISTRY_UNIT}.d/override.conf`,
      mode: "0644",
      content: dropIn(props, mode.dataDir, tls),
      secret: false,
    },
    ...(props.spec.gc.enabled && gcCalendar
      ? [
          {
            path: `/etc/systemd/system/${REGISTRY_GC_UNIT}.service`,
            mode: "0644",
            content: gcService(props.spec.gc.deleteUntagged),
            secret: false,
          },
          {
            path: `/etc/systemd/system/${REGISTRY_GC_UNIT}.timer`,
            mode: "0644",
            content: gcTimer(gcCalendar),
            secret: false,
          },
        ]
      : []),
  ];
  // every node pulls from it (and Drone pushes through a NodePort or a node address): open to all, auth and TLS
  // guard it; in whichever of firewalld and ufw runs on the host
  const firewall: FirewallOpening = { rules: [{ port: mode.port, protocol: "tcp" }] };
  // validation admits only hosts whose distribution ships the registry package (validateRegistry)
  const os = osProfile(props.host!.os);
  const restartOn = files.filter((f) => !f.path.includes(REGISTRY_GC_UNIT)).map((f) => f.path);
  const script = [
    sh`ec_pkg ${os.packageManager} ${os.registryPackage!}`,
    "ec_dir /etc/edgecloud 0755 root:root",
    `ec_dir ${ETC} 0755 root:root`,
    sh`ec_dir ${mode.dataDir} 0750 docker-registry:docker-registry`,
    sh`ec_unit ${REGISTRY_UNIT} ${restartOn}`,
    sh`if ! ec_retry 30 1 bash -c ${`exec 3<>/dev/tcp/127.0.0.1/${mode.port}`}; then`,
    sh`  ec_log ${`registry did not start listening on ${mode.port}`}`,
    `  journalctl -u ${REGISTRY_UNIT} -n 30 --no-pager >&2 || true`,
    "  exit 1",
    "fi",
    openFirewall(firewall),
    ...(props.spec.gc.enabled && gcCalendar
      ? [
          `if ec_file_changed /etc/systemd/system/${REGISTRY_GC_UNIT}.service; then systemctl daemon-reload; fi`,
          `ec_unit ${REGISTRY_GC_UNIT}.timer`,
        ]
      : [`ec_unit_remove ${REGISTRY_GC_UNIT}.timer`, `ec_rm /etc/systemd/system/${REGISTRY_GC_UNIT}.service`]),
    "",
  ].join("\n");
  const deleteScript = [
    closeFirewall(firewall),
    `ec_unit_remove ${REGISTRY_GC_UNIT}.timer`,
    `ec_rm /etc/systemd/system/${REGISTRY_GC_UNIT}.service`,
    `ec_unit_remove ${REGISTRY_UNIT}`,
    `ec_rm ${ETC}`,
    "# the image data in the data directory is kept",
    "",
  ].join("\n");
  return [hostStep({ host: props.host.name, name: "registry", component: COMPONENT, script, files, deleteScript })];
}

function dropIn(props: RegistryProps, dataDir: string, tls: boolean): string {
  return [
    "[Unit]",
    "Description=Docker registry (distribution), configured by edgecloud",
    "",
    "[Service]",
    "User=docker-registry",
    "Group=docker-registry",
    `EnvironmentFile=${ETC}/registry.env`,
    ...(props.spec.auth ? [`LoadCredential=htpasswd:${ETC}/htpasswd`] : []),
    ...(tls ? [`LoadCredential=tls.key:${ETC}/tls.key`] : []),
    "ExecStart=",
    `ExecStart=/usr/bin/docker-registry serve ${ETC}/config.yml`,
    "Restart=on-failure",
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    `ReadWritePaths=${unitValue(dataDir)}`,
    "",
  ].join("\n");
}

function gcService(deleteUntagged: boolean | undefined): string {
  return [
    "[Unit]",
    "Description=Registry garbage collection (edgecloud); the registry is stopped while it runs",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStartPre=/bin/systemctl stop ${REGISTRY_UNIT}`,
    `ExecStart=/usr/sbin/runuser -u docker-registry -- /usr/bin/docker-registry garbage-collect${deleteUntagged ? " --delete-untagged" : ""} ${ETC}/config.yml`,
    `ExecStopPost=/bin/systemctl start ${REGISTRY_UNIT}`,
    "",
  ].join("\n");
}

function gcTimer(onCalendar: string): string {
  return [
    "[Unit]",
    "Description=Daily registry garbage collection (edgecloud)",
    "",
    "[Timer]",
    `OnCalendar=${unitValue(onCalendar)}`,
    "Persistent=true",
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}
