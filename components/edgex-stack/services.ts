import {
  EDGEX_RELEASES,
  EdgeXReleaseData,
  EdgeXServiceData,
  EnvContext,
  imageFor,
  LOOPBACK_DIR,
  Probe,
} from "./release-data";
import { EdgeXStackProps } from "./spec";

/** `edgex-core-data`: container, Service and DNS name of a service. */
export function serviceName(key: string): string {
  return key.startsWith("edgex-") ? key : `edgex-${key}`;
}

export function releaseOf(props: EdgeXStackProps): EdgeXReleaseData {
  return EDGEX_RELEASES[props.spec.release];
}

/** The services that run for the props (security mode and switches), in dependency order (stable). */
export function selectedServices(props: EdgeXStackProps): EdgeXServiceData[] {
  const release = releaseOf(props);
  const secure = props.spec.security;
  const chosen = release.services.filter(
    (s) =>
      (s.security === "always" || (s.security === "secure") === secure) &&
      (s.optional === undefined || props.enabled[s.optional]),
  );
  const byKey = new Map(chosen.map((s) => [s.key, s]));
  const out: EdgeXServiceData[] = [];
  const seen = new Set<string>();
  const visit = (s: EdgeXServiceData) => {
    if (seen.has(s.key)) return;
    seen.add(s.key);
    for (const d of s.after) {
      const dep = byKey.get(d);
      if (dep) visit(dep);
    }
    out.push(s);
  };
  chosen.forEach(visit);
  return out;
}

/** Dependencies of a service among the selected ones. */
export function dependenciesOf(s: EdgeXServiceData, selected: readonly EdgeXServiceData[]): EdgeXServiceData[] {
  return s.after.map((k) => selected.find((x) => x.key === k)).filter((x): x is EdgeXServiceData => x !== undefined);
}

/** Services reachable from outside the namespace: the gateway with security, `expose` without. */
export function entryServices(props: EdgeXStackProps, selected: readonly EdgeXServiceData[]): EdgeXServiceData[] {
  return props.spec.security
    ? selected.filter((s) => s.role === "gateway")
    : selected.filter((s) => props.spec.expose.includes(s.key));
}

/** How services find each other and what they bind to. */
export function envContext(props: EdgeXStackProps, s: EdgeXServiceData, entry: boolean): EnvContext {
  const singlePod = props.spec.placement === "single-pod";
  return {
    host: (k) => (singlePod ? "localhost" : serviceName(k)),
    bind: singlePod && props.spec.network === "host" && !entry ? "127.0.0.1" : "0.0.0.0",
    secure: props.spec.security,
    enabled: (k) => props.enabled[k],
  };
}

/** The ConfigMap with the broker config and the loopback shims (see `EdgeXServiceData.loopbackShim`). */
export const LOOPBACK_CONFIGMAP = "edgex-loopback";

/** Whether a service mounts the `edgex-loopback` ConfigMap: the broker always (its config), shims on loopback. */
export function mountsLoopback(props: EdgeXStackProps, s: EdgeXServiceData, entry: boolean): boolean {
  return s.role === "broker" || (s.loopbackShim !== undefined && envContext(props, s, entry).bind === "127.0.0.1");
}

export function probeSpec(p: Probe): Record<string, unknown> {
  switch (p.kind) {
    case "http":
      return { httpGet: { path: p.path, port: p.port } };
    case "tcp":
      return { tcpSocket: { port: p.port } };
    case "exec":
      return { exec: { command: [...p.command] } };
  }
}

export const SECRETS_VOLUME = "edgex-secrets";
/** The volume the security-bootstrapper fills with the wrapper scripts every gated service starts through. */
export const INIT_VOLUME = "edgex-init";

/** Security through the bootstrapper's stage gates is in effect (security on, and the release has them). */
export function gated(props: EdgeXStackProps): boolean {
  return props.spec.security && releaseOf(props).stageGate !== undefined;
}

/** Volume names a service's container uses. */
export function scratchVolumeName(s: EdgeXServiceData, i: number): string {
  return `tmp-${s.key}-${i}`.slice(0, 63);
}
export function dataVolumeName(s: EdgeXServiceData): string {
  return `data-${s.key}`.slice(0, 63);
}
export function sharedVolumeName(name: string): string {
  return `shared-${name}`.slice(0, 63);
}

/**
 * Where the shared volumes (tokens, edgex-init, compose named volumes) live: one emptyDir each in single-pod mode;
 * subdirectories of the one ReadWriteMany claim (`secretsVolume`) per service.
 */
function sharedMount(
  props: EdgeXStackProps,
  kind: "secrets" | "init" | "shared",
  name: string,
  mountPath: string,
  readOnly: boolean,
  sub?: string,
): Record<string, unknown> {
  const ro = readOnly ? { readOnly: true } : {};
  if (props.spec.placement === "per-service") {
    const prefix = kind === "secrets" ? "secrets" : kind === "init" ? INIT_VOLUME : `shared/${name}`;
    return { name: SECRETS_VOLUME, mountPath, subPath: sub ? `${prefix}/${sub}` : prefix, ...ro };
  }
  const volume = kind === "secrets" ? SECRETS_VOLUME : kind === "init" ? INIT_VOLUME : sharedVolumeName(name);
  return { name: volume, mountPath, ...(sub ? { subPath: sub } : {}), ...ro };
}

/** Names of the compose named volumes the selected services share. */
export function sharedVolumes(props: EdgeXStackProps, selected: readonly EdgeXServiceData[]): string[] {
  if (!props.spec.security) return [];
  return [...new Set(selected.flatMap((s) => (s.shared ?? []).map((v) => v.name)))];
}

/** The container of a service: image for the arch, environment, probes, non-root and read-only root where the image allows. */
export function serviceContainer(
  props: EdgeXStackProps,
  s: EdgeXServiceData,
  arch: "amd64" | "arm64",
  entry: boolean,
): Record<string, unknown> {
  const ctx = envContext(props, s, entry);
  const release = releaseOf(props);
  const secure = props.spec.security;
  const gates = gated(props);
  const root = secure && s.secureRoot === true;
  const shim = s.loopbackShim && ctx.bind === "127.0.0.1" ? s.loopbackShim(ctx) : {};
  const env = Object.entries({ ...s.env(ctx), ...(gates ? release.stageGate!.env(ctx) : {}), ...shim }).map(
    ([name, value]) => ({ name, value }),
  );
  const secrets = s.secrets ?? { dir: `${release.secretsDirPrefix}${s.key}` };
  const mounts = [
    ...(s.writable ?? []).map((p, i) => ({ name: scratchVolumeName(s, i), mountPath: p })),
    ...(s.dataDir ? [{ name: dataVolumeName(s), mountPath: s.dataDir }] : []),
    ...(secure && secrets === "all" ? [sharedMount(props, "secrets", "", release.secretsPath, false)] : []),
    ...(secure && typeof secrets === "object"
      ? [sharedMount(props, "secrets", "", `${release.secretsPath}/${secrets.dir}`, true, secrets.dir)]
      : []),
    ...(gates ? [sharedMount(props, "init", "", "/edgex-init", s.key !== release.stageGate!.bootstrapper)] : []),
    ...(secure ? (s.shared ?? []).map((v) => sharedMount(props, "shared", v.name, v.path, v.readOnly === true)) : []),
    ...(mountsLoopback(props, s, entry) ? [{ name: LOOPBACK_CONFIGMAP, mountPath: LOOPBACK_DIR, readOnly: true }] : []),
  ];
  // gated: the wrapper from /edgex-init waits for the bootstrapper's gates, then runs the service
  let command = s.command ? [...s.command] : undefined;
  let args = s.args ? [...s.args(ctx)] : undefined;
  if (gates && s.gate) {
    command = [...s.gate.entrypoint];
    // a wrapper that ends in `exec <binary> "$@"` gets the service's own arguments when it names no command
    args = s.gate.command ? [...s.gate.command] : args;
    if (s.job && props.spec.placement === "single-pod") {
      // a run-once step among long-running containers: stay up after it finished, so the pod stays ready
      args = [...command, ...(args ?? [])];
      command = ["/bin/sh", "-c", '"$0" "$@" && while :; do sleep 3600; done'];
    }
  }
  const probe = s.probe ? probeSpec(s.probe) : undefined;
  const user = root
    ? { runAsNonRoot: false, runAsUser: 0, runAsGroup: 0 }
    : s.user
      ? { runAsNonRoot: true, runAsUser: s.user.uid, runAsGroup: s.user.gid }
      : {};
  const caps = s.capabilities?.length
    ? { add: [...s.capabilities] }
    : root || !s.user
      ? { add: ["CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE", "FOWNER"] }
      : {};
  return {
    name: serviceName(s.key),
    image: imageFor(s.image, arch),
    imagePullPolicy: "IfNotPresent",
    ...(command ? { command } : {}),
    ...(args ? { args } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(s.ports.length > 0
      ? {
          ports: s.ports.map((p) => ({
            name: p.name.slice(0, 15),
            containerPort: p.port,
            protocol: p.protocol ?? "TCP",
          })),
        }
      : {}),
    ...(probe && !s.job ? { readinessProbe: { ...probe, periodSeconds: 10, failureThreshold: 3 } } : {}),
    resources: {
      requests: { cpu: "20m", memory: "32Mi" },
      limits: {
        memory: s.role === "database" || s.role === "rules-engine" || s.role === "gateway" ? "512Mi" : "256Mi",
      },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: s.readOnlyRootFilesystem,
      ...user,
      capabilities: { drop: ["ALL"], ...caps },
    },
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
  };
}
