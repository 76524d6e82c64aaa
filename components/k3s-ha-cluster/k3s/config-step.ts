import { Host } from "../../../lib/hosts/host";
import { K3S_REGISTRIES_PATH, K3sRegistries, renderRegistriesYaml } from "../../../lib/k3s/registries";
import { HostStep, StepFile, hostStep } from "../../../lib/steps/host-step";
import { sh } from "../../../lib/steps/sh";
import { capabilityConfigFiles } from "../capabilities/steps";
import { COMPONENT } from "../etcd/component";
import { EtcdPki } from "../material";
import { K3sHaClusterSpec } from "../spec";
import { ClusterTopology } from "../topology";
import { renderK3sConfig } from "./config";
import { K3S_CONFIG_FILE, K3S_DATASTORE_FILES, K3S_MANIFESTS_DIR, K3sRole } from "./paths";

export interface K3sConfigStepProps {
  readonly host: Host;
  readonly role: K3sRole;
  readonly spec: K3sHaClusterSpec;
  readonly topo: ClusterTopology;
  readonly token: string;
  readonly pki?: EtcdPki;
  readonly registries?: K3sRegistries;
  /** Auto-deploy manifests for servers (kube-vip, CNI), path name → YAML. */
  readonly serverManifests?: Readonly<Record<string, string>>;
  readonly dependsOn: readonly string[];
}

/**
 * config.yaml (token inside, 0600), the datastore CA/client cert/key a server uses, registries.yaml (0600) and
 * server auto-deploy manifests. The start step restarts K3s when they differ from what it runs with — servers
 * one at a time, because the start steps are chained.
 */
export function k3sConfigStep(p: K3sConfigStepProps): HostStep {
  const files: StepFile[] = [
    {
      path: K3S_CONFIG_FILE,
      mode: "0600",
      content: renderK3sConfig(p.host, p.role, p.spec, p.topo, p.token),
      secret: true,
    },
  ];
  if (p.role === "server" && p.pki) {
    const client = p.pki.clients[p.host.name]!;
    files.push(
      { path: K3S_DATASTORE_FILES.ca, mode: "0644", content: p.pki.ca.certPem, secret: false },
      { path: K3S_DATASTORE_FILES.cert, mode: "0644", content: client.certPem, secret: false },
      { path: K3S_DATASTORE_FILES.key, mode: "0600", content: client.keyPem, secret: true },
    );
  }
  if (
    p.registries &&
    (Object.keys(p.registries.mirrors ?? {}).length || Object.keys(p.registries.configs ?? {}).length)
  ) {
    files.push({ path: K3S_REGISTRIES_PATH, mode: "0600", content: renderRegistriesYaml(p.registries), secret: true });
    files.push(...(p.registries.files ?? []));
  }
  files.push(...capabilityConfigFiles(p.host));
  if (p.role === "server") {
    for (const [name, yaml] of Object.entries(p.serverManifests ?? {})) {
      files.push({ path: `${K3S_MANIFESTS_DIR}/${name}`, mode: "0600", content: yaml, secret: false });
    }
  }
  // the start step restarts K3s when these files differ from the ones it runs with (see k3sStartStep)
  const script = ":";
  // registries.yaml may arrive only at deploy time (a secret Output): always remove it on delete
  const paths = [...new Set([...files.map((f) => f.path), K3S_REGISTRIES_PATH])];
  // then the directories the files created, deepest first, where nothing else is left in them
  const dirs = [...new Set(paths.flatMap((f) => ancestors(f)))].sort((a, b) => b.length - a.length);
  const deleteScript = sh`ec_rm ${paths}
ec_rmdir_empty ${dirs}`;
  return hostStep({
    host: p.host.name,
    name: "k3s-config",
    component: COMPONENT,
    script,
    files,
    deleteScript,
    dependsOn: p.dependsOn,
  });
}

const SYSTEM_DIRS = new Set(["", "/etc", "/var", "/var/lib", "/usr", "/usr/local"]);

/** The directories above a path that edgecloud may have created (never the system directories themselves). */
function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let d = path.slice(0, path.lastIndexOf("/")); !SYSTEM_DIRS.has(d); d = d.slice(0, d.lastIndexOf("/")))
    out.push(d);
  return out;
}
