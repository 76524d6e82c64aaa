import { EDGEX_RELEASES, EdgeXReleaseData, EdgeXServiceData, EnvContext, imageFor, Probe } from "./release-data";
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
    (s) => (s.security === "always" || (s.security === "secure") === secure) && (s.optional === undefined || props.enabled[s.optional]),
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
  return props.spec.security ? selected.filter((s) => s.role === "gateway") : selected.filter((s) => props.spec.expose.includes(s.key));
}

/** How services find each other and what they bind to. */
export function envContext(props: EdgeXStackProps, s: EdgeXServiceData, entry: boolean): EnvContext {
  const singlePod = props.spec.placement === "single-pod";
  return {
    host: (k) => (singlePod ? "localhost" : serviceName(k)),
    bind: singlePod && props.spec.network === "host" && !entry ? "127.0.0.1" : "0.0.0.0",
    secure: props.spec.security,
  };
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
const SECRET_WRITERS = new Set(["secretstore", "secretstore-setup", "database-setup", "gateway-setup", "registry", "gateway-db", "gateway", "database"]);

/** Volume names a service's container uses, besides the shared secrets volume. */
export function scratchVolumeName(s: EdgeXServiceData, i: number): string {
  return `tmp-${s.key}-${i}`.slice(0, 63);
}
export function dataVolumeName(s: EdgeXServiceData): string {
  return `data-${s.key}`.slice(0, 63);
}

/** The container of a service: image for the arch, environment, probes, non-root and read-only root where the image allows. */
export function serviceContainer(props: EdgeXStackProps, s: EdgeXServiceData, arch: "amd64" | "arm64", entry: boolean): Record<string, unknown> {
  const ctx = envContext(props, s, entry);
  const release = releaseOf(props);
  const env = Object.entries(s.env(ctx)).map(([name, value]) => ({ name, value }));
  const mounts = [
    ...(s.writable ?? []).map((p, i) => ({ name: scratchVolumeName(s, i), mountPath: p })),
    ...(s.dataDir ? [{ name: dataVolumeName(s), mountPath: s.dataDir }] : []),
    ...(props.spec.security ? [{ name: SECRETS_VOLUME, mountPath: release.secretsPath, readOnly: !SECRET_WRITERS.has(s.role) }] : []),
  ];
  const probe = s.probe ? probeSpec(s.probe) : undefined;
  return {
    name: serviceName(s.key),
    image: imageFor(s.image, arch),
    imagePullPolicy: "IfNotPresent",
    ...(s.command ? { command: [...s.command] } : {}),
    ...(s.args ? { args: [...s.args(ctx)] } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(s.ports.length > 0 ? { ports: s.ports.map((p) => ({ name: p.name.slice(0, 15), containerPort: p.port, protocol: p.protocol ?? "TCP" })) } : {}),
    ...(probe && !s.job ? { readinessProbe: { ...probe, periodSeconds: 10, failureThreshold: 3 } } : {}),
    resources: { requests: { cpu: "20m", memory: "32Mi" }, limits: { memory: s.role === "database" || s.role === "rules-engine" || s.role === "gateway" ? "512Mi" : "256Mi" } },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: s.readOnlyRootFilesystem,
      ...(s.user ? { runAsNonRoot: true, runAsUser: s.user.uid, runAsGroup: s.user.gid } : {}),
      capabilities: { drop: ["ALL"], ...(s.capabilities?.length ? { add: [...s.capabilities] } : s.user ? {} : { add: ["CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE", "FOWNER"] }) },
    },
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
  };
}
