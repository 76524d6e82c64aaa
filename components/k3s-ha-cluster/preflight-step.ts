import { Host } from "../../lib/hosts/host";
import { ARCH_NAMES } from "../../lib/platform/arch";
import { osProfile } from "../../lib/platform/os";
import { HostStep, hostStep } from "../../lib/steps/host-step";
import { raw, sh } from "../../lib/steps/sh";
import { capabilityPreflightLines } from "./capabilities/preflight";
import { COMPONENT } from "./etcd/component";
import { ETCDCTL_WRAPPER, ETCD_UNIT } from "./etcd/paths";
import { checkEtcdMembershipChange, checkEtcdVersionChange } from "./etcd/version-policy";

export type PreflightRole = "etcd" | "server" | "agent";

/** The seed's minima per role; a host with several roles needs the largest of each. */
export const ROLE_MINIMA: Readonly<Record<PreflightRole, { cpus: number; memoryGiB: number; diskGiB: number }>> = {
  server: { cpus: 2, memoryGiB: 4, diskGiB: 10 },
  agent: { cpus: 2, memoryGiB: 2, diskGiB: 10 },
  etcd: { cpus: 2, memoryGiB: 2, diskGiB: 10 },
};

/** Prefix of the facts line the pre-flight step prints for cross-host checks (`checkPreflightFacts`). */
export const FACTS_PREFIX = "edgecloud-facts:";

/** Checks that depend on the cluster's spec, not on the host alone. */
export interface PreflightChecks {
  /** kube-vip announces the VIP on this interface of every server: it must exist there. */
  readonly kubeVipInterface?: string;
  /** flannel wireguard-native: the kernel must have the wireguard module. */
  readonly wireguard?: boolean;
  /** Air-gap install on an SELinux host: k3s-selinux cannot be fetched, so it must already be installed. */
  readonly airgapSelinux?: boolean;
  /**
   * On etcd members: the version the spec wants (`distro`: the package's, not checked) and the client port. The
   * pre-flight reports the version the member runs, so the gate refuses a downgrade or a skipped minor before any
   * step runs (`checkEtcdVersionChange`); the wanted version is in the script so that changing it runs it again.
   */
  readonly etcd?: {
    readonly want: string;
    readonly clientPort: number;
    /** Members the environment has (the running cluster's size is reported, and the gate compares). */
    readonly size: number;
    /** `k3s.etcd.force`. */
    readonly force: readonly string[];
  };
}

/**
 * Checks a host before anything is installed: detected OS and architecture equal the declared ones, CPUs,
 * memory (90% of the minimum, since firmware reserves some) and free disk under /var meet the role's minima,
 * and the hostname is not another cluster host's name. Changes nothing; prints a facts line.
 */
export function preflightStep(
  host: Host,
  roles: readonly PreflightRole[],
  others: readonly Host[] = [],
  checks: PreflightChecks = {},
): HostStep {
  const os = osProfile(host.os);
  const pick = (k: "cpus" | "memoryGiB" | "diskGiB") =>
    host.minima?.[k] ?? Math.max(...roles.map((r) => ROLE_MINIMA[r][k]));
  const min = { cpus: pick("cpus"), memoryGiB: pick("memoryGiB"), diskGiB: pick("diskGiB") };
  const clash = others.filter((o) => o.name !== host.name).map((o) => o.name);
  const k3sNode = roles.includes("server") || roles.includes("agent");
  const extra: string[] = [];
  if (host.os === "centos-7" && !host.packageMirror) {
    // CentOS 7 is end-of-life since 2024-06-30: mirrorlist.centos.org no longer resolves, so stock yum fails
    extra.push(
      "if ! timeout 120 yum -q repolist enabled >/dev/null 2>&1; then",
      sh`  problems+=(${`yum cannot reach its repositories (CentOS 7 is end-of-life since 2024-06-30 and mirrorlist.centos.org no longer resolves); set packageMirror of host "${host.name}" to https://vault.centos.org/7.9.2009 or a mirror of it, or point the host's yum at one`})`,
      "fi",
    );
  }
  if (checks.kubeVipInterface && roles.includes("server")) {
    extra.push(
      sh`if ! ip link show dev ${checks.kubeVipInterface} >/dev/null 2>&1; then`,
      sh`  problems+=(${`network interface ${checks.kubeVipInterface} (k3s.registrationAddress.interface: kube-vip announces the VIP on it) does not exist; this host has: `}"$(cd /sys/class/net && echo *)")`,
      "fi",
    );
  }
  if (checks.wireguard && k3sNode) {
    extra.push(
      "if [ ! -d /sys/module/wireguard ] && ! modprobe -n -q wireguard 2>/dev/null; then",
      '  problems+=("flannel wireguard-native needs the wireguard kernel module (Linux 5.6 or later, or a backport); kernel $(uname -r) has none")',
      "fi",
    );
  }
  if (checks.airgapSelinux && k3sNode && os.selinux) {
    extra.push(
      'if command -v getenforce >/dev/null 2>&1 && [ "$(getenforce)" = Enforcing ] && ! rpm -q k3s-selinux >/dev/null 2>&1; then',
      '  problems+=("SELinux enforces and k3s-selinux is not installed; an air-gap install cannot fetch it: install the k3s-selinux and container-selinux RPMs first (github.com/k3s-io/k3s-selinux releases)")',
      "fi",
    );
  }
  // GPU driver, /dev/kvm, PREEMPT_RT and isolated CPUs, 1Gi hugepages, SR-IOV PFs: what the capabilities need
  if (k3sNode) extra.push(...capabilityPreflightLines(host));
  let etcdFacts = "";
  if (checks.etcd && roles.includes("etcd")) {
    extra.push(
      sh`etcd_want=${checks.etcd.want}`,
      "etcd_running=none",
      "etcd_members=0",
      sh`if systemctl is-active --quiet ${ETCD_UNIT} && [ -x ${ETCDCTL_WRAPPER} ]; then`,
      sh`  etcd_running=$(${ETCDCTL_WRAPPER} ${`--endpoints=https://127.0.0.1:${checks.etcd.clientPort}`} --command-timeout=5s endpoint status 2>/dev/null | awk -F', ' 'NR == 1 { print $3 }' || true)`,
      '  [ -n "$etcd_running" ] || etcd_running=unknown',
      sh`  etcd_members=$(${ETCDCTL_WRAPPER} ${`--endpoints=https://127.0.0.1:${checks.etcd.clientPort}`} --command-timeout=5s member list 2>/dev/null | grep -c . || true)`,
      "fi",
    );
    etcdFacts = ` etcd-want=$etcd_want etcd-running=$etcd_running etcd-members=\${etcd_members:-0} etcd-size=${checks.etcd.size} etcd-force=${checks.etcd.force.join(",") || "none"}`;
  }
  // every value is a quoted word in a variable; the messages below only expand the variables
  const script = sh`problems=()
host_name=${host.name}
declared_os=${host.os}
declared_arch=${host.arch}
roles=${roles.join("+")}
# shellcheck source=/dev/null
. /etc/os-release
os_ids=${` ${os.osRelease.id.join(" ")} `}
arch_names=${` ${ARCH_NAMES[host.arch].uname.join(" ")} `}
other_hosts=${` ${clash.join(" ")} `}
case "$os_ids" in *" $ID "*) ;; *) problems+=("OS is $ID $VERSION_ID, declared $declared_os") ;; esac
case "$VERSION_ID" in ${os.osRelease.versionPrefix}*) ;; *) problems+=("OS version is $ID $VERSION_ID, declared $declared_os") ;; esac
machine=$(uname -m)
case "$arch_names" in *" $machine "*) ;; *) problems+=("architecture is $machine, declared $declared_arch") ;; esac
cpus=$(nproc)
[ "$cpus" -ge ${min.cpus} ] || problems+=("$cpus CPUs, roles $roles need at least ${min.cpus}")
mem_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
[ "$mem_kib" -ge ${Math.floor(min.memoryGiB * 0.9 * 1024 * 1024)} ] || problems+=("$((mem_kib / 1024)) MiB memory, roles $roles need at least ${min.memoryGiB} GiB")
disk_kib=$(df -Pk /var | awk 'NR == 2 { print $4 }')
[ "$disk_kib" -ge ${Math.ceil(min.diskGiB * 1024 * 1024)} ] || problems+=("$((disk_kib / 1024 / 1024)) GiB free under /var, roles $roles need at least ${min.diskGiB} GiB")
name=$(hostname)
case "$other_hosts" in *" $name "*) problems+=("hostname is \\"$name\\", the name of another cluster host; K3s registers nodes by name") ;; esac
${raw(extra.map((l) => `${l}\n`).join(""))}echo ${`${FACTS_PREFIX} host=`}"$host_name hostname=$name machine-id=$(cat /etc/machine-id 2>/dev/null || echo none)${raw(etcdFacts)}"
if [ "\${#problems[@]}" -gt 0 ]; then
  for p in "\${problems[@]}"; do ec_log "pre-flight $host_name: $p"; done
  exit 1
fi`;
  return hostStep({ host: host.name, name: "preflight", component: COMPONENT, script });
}

export interface PreflightFacts {
  readonly host: string;
  readonly hostname: string;
  readonly machineId: string;
  /** etcd members: the version the spec wants (`distro` when the package decides). */
  readonly etcdWant?: string;
  /** etcd members: the version the member runs (`none` before the first start, `unknown` when it does not answer). */
  readonly etcdRunning?: string;
  /** etcd members: the size of the cluster the member runs in (0 when it runs none), and the environment's size. */
  readonly etcdMembers?: number;
  readonly etcdSize?: number;
  /** `k3s.etcd.force` as the members' pre-flight carries it. */
  readonly etcdForce?: readonly string[];
}

/** Parses the facts line from a pre-flight step's stdout. */
export function parsePreflightFacts(stdout: string): PreflightFacts | undefined {
  const line = stdout.split("\n").find((l) => l.startsWith(FACTS_PREFIX));
  if (!line) return undefined;
  const kv = Object.fromEntries(
    line
      .slice(FACTS_PREFIX.length)
      .trim()
      .split(/\s+/)
      .map((p) => p.split("=", 2) as [string, string]),
  );
  return {
    host: kv.host ?? "",
    hostname: kv.hostname ?? "",
    machineId: kv["machine-id"] ?? "",
    ...(kv["etcd-want"] !== undefined
      ? {
          etcdWant: kv["etcd-want"],
          etcdRunning: kv["etcd-running"] ?? "none",
          etcdMembers: Number(kv["etcd-members"] ?? 0),
          etcdSize: Number(kv["etcd-size"] ?? 0),
          etcdForce: (kv["etcd-force"] ?? "none").split(",").filter((f) => f !== "none"),
        }
      : {}),
  };
}

/** Cross-host pre-flight: hostnames and machine ids must be unique across the cluster. Returns messages. */
export function checkPreflightFacts(facts: readonly PreflightFacts[]): string[] {
  const problems: string[] = [];
  const dup = (key: "hostname" | "machineId", what: string, why: string) => {
    const groups = new Map<string, string[]>();
    for (const f of facts) if (f[key] !== "none") groups.set(f[key], [...(groups.get(f[key]) ?? []), f.host]);
    for (const [value, hosts] of groups) {
      if (hosts.length < 2) continue;
      const names = hosts.map((h) => `"${h}"`);
      problems.push(
        `hosts ${names.slice(0, -1).join(", ")} and ${names[names.length - 1]} ${hosts.length === 2 ? "both" : "all"} report ${what} "${value}"; ${why}`,
      );
    }
  };
  dup("hostname", "hostname", "K3s registers nodes by name: give each host its own hostname");
  dup("machineId", "machine-id", "cloned machines must regenerate /etc/machine-id");
  // the etcd version change the members are about to take (one wanted version for every member)
  const members = facts.filter((f) => f.etcdWant !== undefined);
  const want = members[0]?.etcdWant;
  if (want !== undefined && want !== "distro")
    problems.push(
      ...checkEtcdVersionChange(
        members.map((f) => ({ host: f.host, version: f.etcdRunning ?? "none" })),
        want,
      ),
    );
  const scale = checkEtcdMembershipChange(
    Math.max(0, ...members.map((f) => f.etcdMembers ?? 0)),
    members[0]?.etcdSize ?? 0,
    members[0]?.etcdForce ?? [],
  );
  if (scale) problems.push(scale);
  return problems;
}
