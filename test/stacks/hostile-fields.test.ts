import { spawnSync } from "child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { z } from "zod";
import { HostSchema } from "../../lib/hosts/host";
import { renderDeleteBundle, renderStepBundle } from "../../lib/steps/bundle";
import { ValidationError } from "../../lib/validation";
import { K3sHaClusterSpecSchema } from "../../components/k3s-ha-cluster/spec";
import { NfsProvisionerSpecSchema } from "../../components/nfs-provisioner/spec";
import { RegistrySpecSchema } from "../../components/registry/spec";
import { DroneCiSpecSchema } from "../../components/drone-ci/spec";
import { KubeEdgeCloudSpecSchema } from "../../components/kubeedge-cloud/spec";
import { EdgeXStackSpecSchema } from "../../components/edgex-stack/spec";
import { RancherImportSchema } from "../../stacks/rancher-import";
import { environmentFile, readEnvironmentFile, validateEnvironment } from "../../stacks/environment";
import { resolveSecretRefs } from "../../stacks/secret-refs";
import { synthesize } from "../../stacks/synth";
import { stringFields } from "../support/schema-fields";

/**
 * Every string field of the environment file, each given hostile payloads: either validation refuses the payload
 * naming the field, or every rendered bundle that carries it passes `bash -n` and, run as an unprivileged user
 * with a PATH of stubs only, never runs the canary command. The field list is the schema's own (walked from the
 * zod schemas): a new string field fails "covers every string field" until it is listed in FIELDS.
 */
const CANARY = "eccanary";
const PAYLOADS = [
  `x;${CANARY};x`,
  `$(${CANARY})`,
  `\`${CANARY}\``,
  `x'${CANARY}"x`,
  `x\\${CANARY}\\`,
  `x\n${CANARY}\nx`,
  `../../${CANARY}`,
  `-${CANARY}`,
  // a valid https URL: RFC 3986 allows $ ( ) ; in a path, so URL fields accept it and it must stay inert where it lands
  `https://example.com/a;${CANARY};$(${CANARY})`,
];

const SECTIONS: Record<string, z.ZodType> = {
  "hosts[]": HostSchema,
  k3s: K3sHaClusterSpecSchema,
  nfs: NfsProvisionerSpecSchema,
  registry: RegistrySpecSchema,
  drone: DroneCiSpecSchema,
  kubeedge: KubeEdgeCloudSpecSchema,
  edgex: EdgeXStackSpecSchema,
  rancher: RancherImportSchema,
};

const schemaFields = ["name", "description", ...Object.entries(SECTIONS).flatMap(([k, s]) => stringFields(s, k))];

const SHA256 = "a".repeat(64);
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
/**
 * A valid object for each variant or optional object a field lives in (so the only problem is the payload). Every
 * string field of the schema is in {@link FIELDS}; this table only says what surrounds it.
 */
const BASES: Record<string, unknown> = {
  "hosts[].ssh.jumpHost": { address: "192.168.10.99" },
  "hosts[].capabilities.kata": { version: "3.11.0", sha256: SHA256 },
  "hosts[].capabilities.realtime": { isolatedCpus: "2-3", reservedCpus: "0-1" },
  "hosts[].capabilities.sriov": { nics: [] },
  "hosts[].capabilities.sriov.nics[]": { pf: "ens1f0", numVfs: 2, resourceName: "sriov_net" },
  "k3s.version": { unlisted: "v1.33.1+k3s1" },
  "k3s.etcd.version": { unlisted: "v3.5.30" },
  "k3s.artifactOverrides{}": { source: "/opt/k3s/k3s", sha256: SHA256 },
  "k3s.etcd.install<kind=prestaged>": { kind: "prestaged", dir: "/opt/etcd" },
  "k3s.etcd.install<kind=release>": { kind: "release" },
  "k3s.etcd.restore": { id: "dr-1", snapshot: "/var/backups/etcd/snapshot.db", sha256: SHA256 },
  "k3s.etcd.snapshot.s3": {
    endpoint: "https://minio.example.com:9000",
    bucket: "etcd-backups",
    accessKeyId: "AKIAEXAMPLE",
    secretAccessKey: "example-secret",
  },
  "k3s.install<kind=airgap>": { kind: "airgap", dir: "/opt/k3s" },
  "k3s.registrationAddress<kind=external>": { kind: "external", address: "192.168.10.100" },
  "k3s.registrationAddress<kind=kube-vip>": { kind: "kube-vip", vip: "192.168.10.100", interface: "eth0" },
  "nfs.provisioner<kind=csi-driver-nfs>": { kind: "csi-driver-nfs" },
  "nfs.provisioner<kind=nfs-subdir-external-provisioner>": { kind: "nfs-subdir-external-provisioner" },
  "nfs.server<kind=external>": { kind: "external", address: "192.168.10.41", exportPath: "/srv/nfs/k8s" },
  "nfs.server<kind=host>": { kind: "host", host: "nfs-1", exportPath: "/srv/nfs/k8s" },
  "nfs.server<kind=host>.disk": { device: "/dev/vdb" },
  "registry.mode<kind=host>": { kind: "host", host: "nfs-1" },
  "registry.mode<kind=in-cluster>": { kind: "in-cluster", nodePort: 32500 },
  "registry.mode<kind=in-cluster>.ingress": { host: "registry.example.com" },
  "registry.proxy": { remoteUrl: "https://registry-1.docker.io", username: "u" },
  "registry.tls<kind=generated>": { kind: "generated" },
  "registry.tls<kind=provided>": { kind: "provided", certPem: PEM, keyPem: "key", caPem: PEM },
  "drone.git<kind=gitea>": { kind: "gitea" },
  "drone.git<kind=gogs>": { kind: "gogs" },
  "drone.provider<kind=gitea>": {
    kind: "gitea",
    server: "https://gitea.example.com",
    clientId: "id",
    clientSecret: "secret",
  },
  "drone.provider<kind=github>": { kind: "github", clientId: "id", clientSecret: "secret" },
  "drone.provider<kind=gitlab>": { kind: "gitlab", clientId: "id", clientSecret: "secret" },
  "drone.provider<kind=gogs>": { kind: "gogs" },
  "drone.runner<kind=docker>": { kind: "docker" },
  "drone.runner<kind=kube>": { kind: "kube" },
  "drone.server.database<driver=undefined>": { driver: "postgres", datasource: "postgres://d" },
  "drone.server.ingress": {},
  "kubeedge.edge.install<kind=online>": { kind: "online" },
  "kubeedge.edge.install<kind=prestaged>": { kind: "prestaged", dir: "/opt/kubeedge" },
  "kubeedge.exposure<kind=LoadBalancer>": { kind: "LoadBalancer" },
  "kubeedge.avoidEdgeDaemonSets[]": { namespace: "kube-system", name: "svclb" },
  "kubeedge.edgePools[]": { name: "pool-a", os: "debian-12", arch: "amd64" },
  "edgex.persistence<kind=hostPath>": { kind: "hostPath" },
  "edgex.persistence<kind=pvc>": { kind: "pvc", storageClassName: "nfs" },
  "edgex.secretsVolume": { storageClassName: "nfs" },
  "edgex.tolerations[]": { key: "k", operator: "Equal", value: "v", effect: "NoSchedule" },
  rancher: { server: "https://rancher.example.com" },
};

/** Record keys where a record takes only some keys (per arch, per image). @default "fuzz" */
const RECORD_KEYS: Record<string, string> = {
  "k3s.etcd.install<kind=prestaged>.sha256": "amd64",
  "k3s.etcd.install<kind=release>.sha256": "amd64",
  "k3s.artifactOverrides": "server-1",
  "nfs.provisioner<kind=csi-driver-nfs>.images": "nfsplugin",
};

/** What else a field needs around it to be the only problem (another field that excludes it, a mode it needs). */
const PREPARE: Record<string, (env: Json) => void> = {
  "hosts[].ssh.privateKey": (env) => delete ((env.hosts as Json[])[HOST_INDEX]!.ssh as Json).privateKeyPath,
  // a pull-through cache takes no pushes, so no CI user (registry.auth.ciUser is refused next to a proxy)
  "registry.proxy": (env) => delete ((env.registry as Json).auth as Json).ciUser,
  // a package mirror is for CentOS 7 hosts only
  "hosts[].packageMirror": (env) => ((env.hosts as Json[])[HOST_INDEX]!.os = "centos-7"),
  // Drone sends users to the Gitea that issues its tokens: the provider is that Gitea
  "drone.git<kind=gitea>.rootUrl": (env) => {
    const d = env.drone as Json;
    d.provider = { kind: "gitea", server: (d.git as Json).rootUrl, clientId: "id", clientSecret: "secret" };
  },
  "drone.provider<kind=github>": (env) => delete (env.drone as Json).git,
  "drone.provider<kind=gitlab>": (env) => delete (env.drone as Json).git,
  "drone.provider<kind=gitea>": (env) => delete (env.drone as Json).git,
  // a claim per service: per-service placement on cloud nodes of one arch
  "edgex.persistence<kind=pvc>": (env) =>
    Object.assign(env.edgex as Json, {
      placement: "per-service",
      network: "pod",
      nodeSelector: { "kubernetes.io/arch": "amd64" },
      arches: ["amd64"],
    }),
};

/** Every string field of the schema, by name. A field missing here fails the coverage test. */
const FIELDS: readonly string[] = [
  "name",
  "description",
  "hosts[].address",
  "hosts[].capabilities.kata.sha256",
  "hosts[].capabilities.kata.version",
  "hosts[].capabilities.realtime.isolatedCpus",
  "hosts[].capabilities.realtime.reservedCpus",
  "hosts[].capabilities.sriov.nics[].pf",
  "hosts[].capabilities.sriov.nics[].resourceName",
  "hosts[].internalAddress",
  "hosts[].labels{key}",
  "hosts[].labels{}",
  "hosts[].name",
  "hosts[].packageMirror.baseUrl",
  "hosts[].ssh.hostKey",
  "hosts[].ssh.jumpHost.address",
  "hosts[].ssh.jumpHost.hostKey",
  "hosts[].ssh.jumpHost.privateKey",
  "hosts[].ssh.jumpHost.user",
  "hosts[].ssh.privateKey",
  "hosts[].ssh.privateKeyPath",
  "hosts[].ssh.sudoPassword",
  "hosts[].ssh.user",
  "hosts[].taints[]",
  "k3s.artifactOverrides{key}",
  "k3s.artifactOverrides{}.sha256",
  "k3s.artifactOverrides{}.source",
  "k3s.etcd.dataDir",
  "k3s.etcd.install<kind=prestaged>.dir",
  "k3s.etcd.install<kind=prestaged>.sha256{}",
  "k3s.etcd.install<kind=prestaged>.tarball",
  "k3s.etcd.install<kind=release>.mirror",
  "k3s.etcd.install<kind=release>.sha256{}",
  "k3s.etcd.maintenanceSchedule",
  "k3s.etcd.restore.id",
  "k3s.etcd.restore.sha256",
  "k3s.etcd.restore.snapshot",
  "k3s.etcd.snapshot.dir",
  "k3s.etcd.snapshot.s3.accessKeyId",
  "k3s.etcd.snapshot.s3.bucket",
  "k3s.etcd.snapshot.s3.endpoint",
  "k3s.etcd.snapshot.s3.prefix",
  "k3s.etcd.snapshot.s3.region",
  "k3s.etcd.snapshot.s3.secretAccessKey",
  "k3s.etcd.snapshot.schedule",
  "k3s.etcd.version",
  "k3s.etcd.version.unlisted",
  "k3s.install<kind=airgap>.dir",
  "k3s.network.clusterCidr",
  "k3s.network.clusterDns",
  "k3s.network.serviceCidr",
  "k3s.systemDefaultRegistry",
  "k3s.registrationAddress<kind=external>.address",
  "k3s.registrationAddress<kind=kube-vip>.image",
  "k3s.registrationAddress<kind=kube-vip>.interface",
  "k3s.registrationAddress<kind=kube-vip>.vip",
  "k3s.tlsSan[]",
  "k3s.version",
  "k3s.version.unlisted",
  "nfs.namespace",
  "nfs.provisioner<kind=csi-driver-nfs>.images{}",
  "nfs.provisioner<kind=csi-driver-nfs>.kubeletDir",
  "nfs.provisioner<kind=csi-driver-nfs>.version",
  "nfs.provisioner<kind=nfs-subdir-external-provisioner>.image",
  "nfs.provisioner<kind=nfs-subdir-external-provisioner>.provisionerName",
  "nfs.provisioner<kind=nfs-subdir-external-provisioner>.version",
  "nfs.server<kind=external>.address",
  "nfs.server<kind=external>.exportPath",
  "nfs.server<kind=host>.allowedClients[]",
  "nfs.server<kind=host>.disk.device",
  "nfs.server<kind=host>.exportOptions[]",
  "nfs.server<kind=host>.exportPath",
  "nfs.server<kind=host>.host",
  "nfs.storageClass.mountOptions[]",
  "nfs.storageClass.mountPermissions",
  "nfs.storageClass.name",
  "nfs.storageClass.subDir",
  "registry.auth.nodeUser",
  "registry.auth.ciUser",
  "registry.auth.realm",
  "registry.auth.users[].password",
  "registry.auth.users[].username",
  "registry.gc.schedule",
  "registry.httpSecret",
  "registry.image",
  "registry.mode<kind=host>.dataDir",
  "registry.mode<kind=host>.host",
  "registry.mode<kind=in-cluster>.allowFrom[]",
  "registry.mode<kind=in-cluster>.endpoint",
  "registry.mode<kind=in-cluster>.ingress.className",
  "registry.mode<kind=in-cluster>.ingress.controllerNamespace",
  "registry.mode<kind=in-cluster>.ingress.host",
  "registry.mode<kind=in-cluster>.ingress.maxBodySize",
  "registry.mode<kind=in-cluster>.ingress.tlsSecretName",
  "registry.mode<kind=in-cluster>.namespace",
  "registry.mode<kind=in-cluster>.storage.size",
  "registry.mode<kind=in-cluster>.storage.storageClassName",
  "registry.proxy.mirrorOf",
  "registry.proxy.password",
  "registry.proxy.remoteUrl",
  "registry.proxy.username",
  "registry.tls<kind=generated>.extraSans[]",
  "registry.tls<kind=provided>.caPem",
  "registry.tls<kind=provided>.certPem",
  "registry.tls<kind=provided>.keyPem",
  "registry.version",
  "drone.databaseSecret",
  "drone.git<kind=gitea>.image",
  "drone.git<kind=gitea>.namespace",
  "drone.git<kind=gitea>.rootUrl",
  "drone.git<kind=gitea>.storage.size",
  "drone.git<kind=gitea>.storage.storageClassName",
  "drone.git<kind=gogs>.image",
  "drone.git<kind=gogs>.namespace",
  "drone.git<kind=gogs>.rootUrl",
  "drone.git<kind=gogs>.storage.size",
  "drone.git<kind=gogs>.storage.storageClassName",
  "drone.namespace",
  "drone.pipelines.deployNamespaces[]",
  "drone.provider<kind=gitea>.clientId",
  "drone.provider<kind=gitea>.clientSecret",
  "drone.provider<kind=gitea>.server",
  "drone.provider<kind=github>.clientId",
  "drone.provider<kind=github>.clientSecret",
  "drone.provider<kind=github>.server",
  "drone.provider<kind=gitlab>.clientId",
  "drone.provider<kind=gitlab>.clientSecret",
  "drone.provider<kind=gitlab>.server",
  "drone.provider<kind=gogs>.server",
  "drone.rpcSecret",
  "drone.runner<kind=docker>.dindImage",
  "drone.runner<kind=docker>.dindStorageLimit",
  "drone.runner<kind=docker>.drainImage",
  "drone.runner<kind=docker>.gcImage",
  "drone.runner<kind=docker>.image",
  "drone.runner<kind=docker>.namespace",
  "drone.runner<kind=kube>.buildNamespace",
  "drone.runner<kind=kube>.image",
  "drone.runner<kind=kube>.namespace",
  "drone.server.adminUser",
  "drone.server.allowFrom[]",
  "drone.server.database<driver=undefined>.datasource",
  "drone.server.host",
  "drone.server.image",
  "drone.server.ingress.className",
  "drone.server.ingress.controllerNamespace",
  "drone.server.ingress.tlsSecretName",
  "drone.server.storage.size",
  "drone.server.storage.storageClassName",
  "kubeedge.avoidEdgeDaemonSets[].name",
  "kubeedge.avoidEdgeDaemonSets[].namespace",
  "kubeedge.cloudHub.advertiseAddress[]",
  "kubeedge.cloudHub.dnsNames[]",
  "kubeedge.edge.cni.mirror",
  "kubeedge.edge.cni.sha256{key}",
  "kubeedge.edge.cni.sha256{}",
  "kubeedge.edge.cni.subnet",
  "kubeedge.edge.install<kind=online>.mirror",
  "kubeedge.edge.install<kind=online>.sha512{key}",
  "kubeedge.edge.install<kind=online>.sha512{}",
  "kubeedge.edge.install<kind=prestaged>.dir",
  "kubeedge.edge.install<kind=prestaged>.sha512{key}",
  "kubeedge.edge.install<kind=prestaged>.sha512{}",
  "kubeedge.edge.joinAddress",
  "kubeedge.edge.labels{key}",
  "kubeedge.edge.labels{}",
  "kubeedge.edgePools[].labels{key}",
  "kubeedge.edgePools[].labels{}",
  "kubeedge.edgePools[].name",
  "kubeedge.edgePools[].taints[]",
  "kubeedge.exposure<kind=LoadBalancer>.loadBalancerIP",
  "kubeedge.imageRepository",
  "kubeedge.keadmHost",
  "kubeedge.kubeconfigPath",
  "kubeedge.kubernetesVersion",
  "edgex.expose[]",
  "edgex.gateway.allowedCidrs[]",
  "edgex.helperImage",
  "edgex.kubernetesVersion",
  "edgex.namespace",
  "edgex.nodeSelector{key}",
  "edgex.nodeSelector{}",
  "edgex.persistence<kind=hostPath>.path",
  "edgex.persistence<kind=pvc>.size",
  "edgex.persistence<kind=pvc>.storageClassName",
  "edgex.secretsVolume.size",
  "edgex.secretsVolume.storageClassName",
  "edgex.tolerations[].key",
  "edgex.tolerations[].value",
  "rancher.clusterName",
  "rancher.manifestUrl",
  "rancher.server",
];

const HOST_INDEX = 3; // server-1: every role-independent host field lands in its steps

type Json = Record<string, unknown>;

function baseEnvironment(): Json {
  const raw = readEnvironmentFile(environmentFile("default"));
  return resolveSecretRefs(raw, (n) => `placeholder-${n}`) as Json;
}

const TOKEN = /\.[A-Za-z0-9_]+|\[\]|\{\}|\{key\}|<[^>]+>/g;

/** Puts `payload` at `field` of `env` (creating the surrounding objects from BASES); returns the issue path prefix. */
function place(env: Json, field: string, payload: string): string {
  const [head, rest] = field.startsWith("hosts[]")
    ? ["hosts[]", field.slice("hosts[]".length)]
    : [field.split(/[.<]/)[0]!, field.slice(field.split(/[.<]/)[0]!.length)];
  const tokens = rest.match(TOKEN) ?? [];
  let issuePath = head === "hosts[]" ? `hosts[${HOST_INDEX}]` : head;
  let prefix = head;
  let parent: Json | unknown[];
  let key: string | number;
  if (head === "hosts[]") {
    parent = env.hosts as unknown[];
    key = HOST_INDEX;
  } else {
    parent = env;
    key = head;
  }
  const at = () => (parent as Json)[key as string];
  const set = (v: unknown) => ((parent as Json)[key as string] = v);
  const descendInto = (next: string) => {
    const cur = at();
    const want = next === "[]" ? "array" : "object";
    const ok = want === "array" ? Array.isArray(cur) : cur !== null && typeof cur === "object" && !Array.isArray(cur);
    if (!ok) set(structuredClone(BASES[prefix] ?? (want === "array" ? [] : {})));
  };
  if (tokens.length === 0) {
    set(payload);
    return issuePath;
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const last = i === tokens.length - 1;
    if (t.startsWith("<")) {
      prefix += t;
      set(structuredClone(BASES[prefix]));
      continue;
    }
    descendInto(t);
    const obj = at() as Json | unknown[];
    if (t === "[]") {
      const arr = obj as unknown[];
      prefix += "[]";
      const idx = arr.length === 0 || last ? arr.length : 0;
      if (last) arr.push(payload);
      else if (arr.length === 0) arr.push(structuredClone(BASES[prefix] ?? {}));
      issuePath += `[${idx}]`;
      parent = arr;
      key = idx;
    } else if (t === "{}") {
      const k = RECORD_KEYS[prefix] ?? "fuzz";
      prefix += "{}";
      (obj as Json)[k] = last ? payload : structuredClone(BASES[prefix] ?? {});
      issuePath += `.${k}`;
      parent = obj;
      key = k;
    } else if (t === "{key}") {
      const value = BASES[`${prefix}{}`] ?? "v";
      (obj as Json)[payload] = structuredClone(value);
      return issuePath;
    } else {
      prefix += t;
      issuePath += t;
      parent = obj;
      key = t.slice(1);
      if (last) set(payload);
    }
  }
  return issuePath;
}

/** Characters bash gives no meaning in a word (what shellQuote leaves bare). */
const BARE = /[A-Za-z0-9_./:=@%+,-]/;

/**
 * True when the occurrence at `i` lies in a word of BARE characters only, bounded by blanks or quotes, that is not
 * a command name (not first on its line or after ; & | ( or a keyword): such a word is one inert argument.
 */
function inertWord(program: string, i: number): boolean {
  let a = i;
  let b = i;
  while (a > 0 && BARE.test(program[a - 1]!)) a--;
  while (b < program.length && BARE.test(program[b]!)) b++;
  const left = program[a - 1] ?? "\n";
  const right = program[b] ?? "\n";
  if (!/[\s'"]/.test(left) || !/[\s'")]/.test(right)) return false;
  const before = program.slice(program.lastIndexOf("\n", a - 1) + 1, a).trimEnd();
  return before !== "" && !/(^|[;&|(!]|\b(then|do|else|if|while|until|time))$/.test(before);
}

/**
 * Where the canary stands in a program outside single quotes (or a quoted here-document): a plain word, a
 * double-quoted string, an unquoted here-document. Executing a program reaches only the branches a stub PATH takes;
 * this finds a payload on every branch. Returns a snippet per unsafe occurrence.
 */
function canaryOutsideQuotes(program: string): string[] {
  const unsafe: string[] = [];
  type State = "plain" | "sq" | "dq" | "comment";
  const stack: State[] = ["plain"];
  const pending: { delim: string; quoted: boolean }[] = [];
  let heredoc: { delim: string; quoted: boolean } | undefined;
  let line = "";
  for (let i = 0; i < program.length; i++) {
    const c = program[i]!;
    const top = stack[stack.length - 1]!;
    if (program.startsWith(CANARY, i)) {
      const safe = heredoc ? heredoc.quoted : top === "sq" || top === "comment" || inertWord(program, i);
      if (!safe) unsafe.push(program.slice(Math.max(0, i - 60), i + CANARY.length + 20));
    }
    if (heredoc) {
      if (c === "\n") {
        if (line.replace(/^\t+/, "") === heredoc.delim) heredoc = pending.shift();
        line = "";
      } else line += c;
      continue;
    }
    if (top === "sq") {
      if (c === "'") stack.pop();
    } else if (top === "comment") {
      if (c === "\n") {
        stack.pop();
        heredoc = pending.shift();
      }
    } else if (top === "dq") {
      if (c === "\\") i++;
      else if (c === '"') stack.pop();
      else if (c === "$" && program[i + 1] === "(") {
        stack.push("plain");
        i++;
      }
    } else {
      const prev = program[i - 1] ?? "\n";
      if (c === "\\") i++;
      else if (c === "'") stack.push("sq");
      else if (c === '"') stack.push("dq");
      else if (c === "#" && /[\s;&|(]/.test(prev)) stack.push("comment");
      else if (c === "$" && program[i + 1] === "(") {
        stack.push("plain");
        i++;
      } else if (c === ")" && stack.length > 1) stack.pop();
      else if (c === "<" && program[i + 1] === "<" && program[i + 2] !== "<") {
        const m = /^<<-?[ \t]*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(program.slice(i));
        if (m) {
          pending.push({ delim: m[2]!, quoted: m[1] !== "" });
          i += m[0].length - 1;
        }
      } else if (c === "\n" && pending.length > 0) {
        heredoc = pending.shift();
        line = "";
      }
    }
  }
  return unsafe;
}

/** A stub PATH holding only the canary: every other command is "not found" (and treated as success). */
function sandbox(): { dir: string; log: string; run: (bundle: string) => { status: number | null; stderr: string } } {
  const dir = mkdtempSync(join(tmpdir(), "ec-fuzz-"));
  chmodSync(dir, 0o755);
  const bin = join(dir, "bin");
  const out = join(dir, "out");
  mkdirSync(bin);
  mkdirSync(out);
  chmodSync(out, 0o777);
  const log = join(out, "canary.log");
  writeFileSync(join(bin, CANARY), `#!/bin/bash\necho "ran: $*" >>${log}\n`, { mode: 0o755 });
  const asNobody = process.getuid?.() === 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
  return {
    dir,
    log,
    run: (bundle) => {
      const file = join(dir, "bundle.sh");
      // errexit off and every missing command a success, so the run goes past failures to every use of the payload
      const program = bundle.replace(
        /^set -euo pipefail$/m,
        "set +e -uo pipefail\ncommand_not_found_handle() { return 0; }",
      );
      writeFileSync(file, program, { mode: 0o644 });
      const r = spawnSync(
        asNobody[0] ?? "env",
        [
          ...asNobody.slice(1),
          ...(asNobody.length ? ["env"] : []),
          "-i",
          `PATH=${bin}`,
          `HOME=${out}`,
          "/bin/bash",
          file,
        ],
        { cwd: out, encoding: "utf8", timeout: 10_000, input: "" },
      );
      return { status: r.status, stderr: r.stderr ?? "" };
    },
  };
}

describe("hostile values in every string field of an environment file", () => {
  test("GIVEN the schema WHEN its string fields are listed THEN the test covers every one by name", () => {
    expect([...FIELDS].sort()).toEqual([...schemaFields].sort());
    for (const f of FIELDS) {
      for (const m of f.matchAll(/<[^>]+>/g)) {
        const variant = f.slice(0, f.indexOf(m[0]) + m[0].length);
        expect({ variant, base: BASES[variant] !== undefined }).toEqual({ variant, base: true });
      }
    }
  });

  const box = sandbox();
  afterAll(() => rmSync(box.dir, { recursive: true, force: true }));
  const baseline = baseEnvironment();
  let baseBundles: Set<string>;
  beforeAll(async () => {
    const out = await synthesize(validateEnvironment(structuredClone(baseline)), {
      material: "placeholder",
      validateManifests: false,
    });
    baseBundles = new Set(Object.values(out.hosts).flatMap((steps) => steps.map((s) => renderStepBundle(s))));
  });

  test("GIVEN a payload outside single quotes on a branch the sandbox never takes THEN the static check finds it", () => {
    const branch = `if false; then ec_log "imported $(${CANARY})"; fi\ncat <<EOF\n${CANARY}\nEOF\n`;
    expect(canaryOutsideQuotes(branch)).toHaveLength(2);
    expect(canaryOutsideQuotes(`ec_log '$(${CANARY})' # ${CANARY}\ncat <<'EOF'\n${CANARY}\nEOF\n`)).toEqual([]);
    expect(canaryOutsideQuotes(`# a comment\n${CANARY}\n`)).toHaveLength(1);
    // a bare argument word is inert; the same word as a command name, or next to a metacharacter, is not
    expect(canaryOutsideQuotes(`printf '%s' DNS:-${CANARY} x\n`)).toEqual([]);
    expect(canaryOutsideQuotes(`if true; then ${CANARY}-x; fi\nx;${CANARY}\n`)).toHaveLength(2);
  });

  test("GIVEN a script that does run the canary WHEN run in the sandbox THEN the sandbox sees it (the detector works)", () => {
    box.run("#!/usr/bin/env bash\nset -euo pipefail\nmissing-command\necho ok; eccanary from-the-control\n");
    expect(readFileSync(box.log, "utf8")).toBe("ran: from-the-control\n");
    rmSync(box.log);
  });

  const seen = { refused: 0, accepted: 0, programsRun: 0 };
  test.each(FIELDS.map((f) => [f]))(
    "GIVEN %s WHEN it holds each payload THEN validation refuses it naming the field, or every script carrying it is inert",
    async (field) => {
      for (const payload of PAYLOADS) {
        const env = structuredClone(baseline);
        const issuePath = place(env, field, payload);
        for (const [prefix, prepare] of Object.entries(PREPARE))
          if (field === prefix || field.startsWith(`${prefix}.`)) prepare(env);
        let valid;
        try {
          valid = validateEnvironment(env);
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
          const named = e.issues.some(
            (i) => i.path === issuePath || i.path.startsWith(`${issuePath}.`) || i.path.startsWith(`${issuePath}[`),
          );
          seen.refused++;
          expect({ field, payload, named, issues: named ? [] : e.issues.map((i) => i.path) }).toEqual({
            field,
            payload,
            named: true,
            issues: [],
          });
          continue;
        }
        seen.accepted++;
        const out = await synthesize(valid, { material: "placeholder", validateManifests: false });
        const steps = Object.values(out.hosts).flat();
        // the bundles, and the scripts they install (files are base64 in the bundle: a payload in a file shows up
        // in the bundle's text only through the file itself)
        const programs = [
          ...steps.flatMap((s) => [renderStepBundle(s), renderDeleteBundle(s)]),
          ...steps.flatMap((s) =>
            s.files.filter((f) => f.content.startsWith("#!") || /[1357]/.test(f.mode.slice(-3))).map((f) => f.content),
          ),
        ];
        for (const b of programs.filter((x) => x.includes(CANARY) && !baseBundles.has(x))) {
          const syntax = spawnSync("bash", ["-n"], { input: b, encoding: "utf8" });
          expect({ field, payload, syntax: syntax.status, err: syntax.stderr }).toEqual({
            field,
            payload,
            syntax: 0,
            err: "",
          });
          // on every branch, not only the ones the sandbox takes: the payload is inside single quotes
          expect({ field, payload, unsafe: canaryOutsideQuotes(b) }).toEqual({ field, payload, unsafe: [] });
          box.run(b);
          seen.programsRun++;
          const ran = existsSync(box.log) ? readFileSync(box.log, "utf8") : "";
          expect({ field, payload, ran }).toEqual({ field, payload, ran: "" });
        }
      }
    },
    120_000,
  );

  test("GIVEN every field and payload THEN some were refused and some accepted (both paths are exercised)", () => {
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.accepted).toBeGreaterThan(0);
    // accepted payloads are free text (description, secrets, PEM): they reach hosts only as base64 file content
    // of non-executable files, so no program may carry them; programsRun counts the ones that did (and ran inert)
    expect(seen.programsRun).toBeGreaterThanOrEqual(0);
    // the figures for the report: refused / accepted payloads, bundles executed with the payload in them
    process.stdout.write(`hostile-fields: ${JSON.stringify(seen)}\n`);
  });
});
