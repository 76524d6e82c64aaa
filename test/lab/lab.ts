import { spawn } from "child_process";
import { randomBytes } from "crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "fs";
import { dirname, join } from "path";
import { ensureRootfs } from "./rootfs";
import { must, run, RunOptions, RunResult, sleep } from "./proc";
import {
  LabHostRecord,
  LabState,
  pidNamespace,
  registerLab,
  teardown,
  TeardownReport,
  unregisterLab,
  reapStaleLabs,
} from "./teardown";

/** One machine of the lab. */
export interface LabHostSpec {
  /** The host name the library's steps use (`HostStep.host`); also the machine name. */
  readonly name: string;
  /** @default - `10.213.0.<11 + index>` */
  readonly address?: string;
  /** Written to /etc/hostname; differs from `name` only to provoke the duplicate-hostname pre-flight check. @default - `name` */
  readonly hostname?: string;
  /** Fakes `MemTotal` in the host's /proc/meminfo (bind-mounted over it), for the memory pre-flight check. @default - the real value */
  readonly memTotalMiB?: number;
  /**
   * Re-enables Debian's default etcd.service (plaintext, localhost:2379, data in /var/lib/etcd/default) the way a
   * fresh `apt install etcd-server` leaves a host. The image disables it. @default false
   */
  readonly distroEtcdRunning?: boolean;
  /**
   * Lab-only: a host that can run a kubelet and containerd (nodes.lab.test.ts). Never part of what users get; each
   * change answers a refusal seen inside an nspawn host on this machine kind (../shared/reference/lab-real-nodes.md):
   * the host's systemd-nspawn runs in a cgroup of its own in every v1 hierarchy (removed depth-first at teardown) and
   * the controller hierarchies are remounted read-write inside; `/dev/kmsg` bound; CAP_NET_ADMIN, CAP_SYSLOG and
   * CAP_IPC_LOCK; the `@keyring` system calls allowed (runc joins a session keyring); the three kernel tunables the
   * kubelet checks bound read-only with the values it wants (the shared machine's are never changed); `/proc/sys/net`
   * writable (the host's own network namespace), `ip_forward=1` there; an ext4 directory at /var/lib/containerd
   * (overlayfs cannot be an overlay snapshotter's upper dir). @default false
   */
  readonly kubeletHost?: boolean;
  /**
   * Lab-only: the host runs this firewall before anything else runs on it, the way an operator who enabled it
   * leaves a Debian host (see {@link enableLabFirewall}): firewalld (Debian's default zone `public`: SSH and
   * DHCPv6 client only) or ufw (`ufw allow 22/tcp`, then default deny incoming). The host gets CAP_NET_ADMIN for
   * it, which acts on the host's own network namespace only. @default - no firewall
   */
  readonly firewall?: LabFirewall;
  /**
   * Files put into the host's root filesystem before it boots (its upper layer), the way a machine image or a
   * provisioning system leaves them: e.g. a cloud-init NoCloud seed. Parent directories are made 0755. @default []
   */
  readonly files?: readonly LabFile[];
}

/** A file of a lab host's root filesystem, written before boot: content, or a symbolic link to `target`. */
export type LabFile =
  | { readonly path: string; readonly content: string | Buffer; readonly mode: number }
  | { readonly path: string; readonly target: string };

/** A firewall a lab host can run (both are Debian packages of the lab image). */
export type LabFirewall = "firewalld" | "ufw";

/**
 * Script that turns a firewall on in a lab host and fails unless it then filters: firewalld enabled and started
 * (`firewall-cmd --state` says running; Debian 12's firewalld 1.3.3 uses its nftables backend, every nf_tables
 * feature it needs is built into this kernel), or ufw with SSH allowed and then enabled (`Status: active`).
 */
export function labFirewallScript(kind: LabFirewall): string {
  return kind === "firewalld"
    ? `systemctl enable --now --quiet firewalld.service
firewall-cmd --state`
    : `ufw allow 22/tcp >/dev/null
ufw --force enable >/dev/null
ufw status | head -n 1`;
}

/** Turns `kind` on in a booted lab host (which must have been started with `firewall`, for CAP_NET_ADMIN). */
export async function enableLabFirewall(lab: Lab, host: string, kind: LabFirewall): Promise<void> {
  const out = (await lab.sh(host, labFirewallScript(kind))).trim();
  const want = kind === "firewalld" ? "running" : "Status: active";
  if (out !== want) throw new Error(`${host}: ${kind} did not start (said: ${out})`);
}

/** Kernel tunables the kubelet insists on (pkg/kubelet/cm ... setupKernelTunables), faked read-only in a kubelet host. */
export const KUBELET_TUNABLES: Readonly<Record<string, string>> = {
  "vm/overcommit_memory": "1",
  "kernel/panic": "10",
  "kernel/panic_on_oops": "1",
};
const CGROUP_ROOT = "/sys/fs/cgroup";

export interface LabOptions {
  readonly hosts: readonly LabHostSpec[];
  /** Progress messages. @default - silent */
  readonly log?: (message: string) => void;
  /** Where overlays, keys and logs live. @default "/var/tmp/edgecloud-lab" (or $EDGECLOUD_LAB_WORKDIR) */
  readonly workRoot?: string;
  /**
   * Hosts booted (and ready) before the others start booting: a service the others use during their own first boot.
   * @default [] (all at once)
   */
  readonly bootFirst?: readonly string[];
  /** How long a host may take to be ready (`systemctl is-system-running --wait`). @default 90000 */
  readonly bootTimeoutMs?: number;
}

export interface LabHost {
  readonly name: string;
  readonly address: string;
  readonly hostname: string;
  /** Host-side PID of systemd-nspawn. */
  readonly nspawnPid: number;
  /** Host-side PID of the container's systemd (PID 1 inside). */
  readonly initPid: number;
  /** The container's PID namespace (`pid:[inode]`): every process of the host is in it. */
  readonly pidNs: string;
  /** The host's root filesystem as seen from outside (the overlay's merged directory). */
  readonly root: string;
  readonly netns: string;
}

export const LAB_SUBNET = "10.213.0";
const BOOT_TIMEOUT_MS = 90_000;

/**
 * N Debian 12 machines booted with systemd-nspawn, each in its own network namespace on a private bridge that
 * lives in a namespace of its own (no route to anything else), reachable over real SSH from the runner.
 * Everything it starts is recorded in a state file and torn down by `stop()`, by signal/exit handlers, or by the
 * next lab start when the owning process died (see teardown.ts).
 */
export class Lab {
  private readonly byName = new Map<string, LabHost>();
  private stopped = false;

  private constructor(
    readonly id: string,
    readonly dir: string,
    readonly hosts: readonly LabHost[],
    private readonly state: LabState,
    readonly bootMs: number,
  ) {
    for (const h of hosts) this.byName.set(h.name, h);
  }

  /** Boots the hosts (in parallel) and resolves when every one answers SSH with a booted systemd. */
  static async start(opts: LabOptions): Promise<Lab> {
    const log = opts.log ?? ((): void => undefined);
    validate(opts.hosts);
    checkHostTools();
    reapStaleLabs(opts.workRoot, log);
    checkInotifyBudget(opts.hosts, log);
    const rootfs = await ensureRootfs(log);
    const t0 = Date.now();
    const id = randomBytes(3).toString("hex");
    const workRoot = opts.workRoot ?? process.env.EDGECLOUD_LAB_WORKDIR ?? "/var/tmp/edgecloud-lab";
    const dir = join(workRoot, id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const hub = `ecl-${id}-hub`;
    const state: LabState = { id, ownerPid: process.pid, dir, hubNetns: hub, hosts: [] };
    registerLab(state);
    try {
      await must("ssh-keygen", [
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        `edgecloud-lab-${id}`,
        "-f",
        join(dir, "id_ed25519"),
      ]);
      await must("ip", ["netns", "add", hub]);
      await must("ip", ["-n", hub, "link", "set", "lo", "up"]);
      await must("ip", ["-n", hub, "link", "add", "br0", "type", "bridge"]);
      await must("ip", ["-n", hub, "addr", "add", `${LAB_SUBNET}.1/24`, "dev", "br0"]);
      await must("ip", ["-n", hub, "link", "set", "br0", "up"]);
      const specs = opts.hosts.map((s, i) => ({
        ...s,
        index: i,
        address: s.address ?? `${LAB_SUBNET}.${11 + i}`,
        hostname: s.hostname ?? s.name,
      }));
      const knownHosts: string[] = [];
      const hosts = await Promise.all(
        specs.map(async (s) => {
          const h = await prepareHost(state, rootfs.dir, s, specs);
          knownHosts.push(h.knownHostsLine);
          return h;
        }),
      );
      writeFileSync(join(dir, "known_hosts"), knownHosts.join("\n") + "\n");
      const timeout = opts.bootTimeoutMs ?? BOOT_TIMEOUT_MS;
      const first = new Set(opts.bootFirst ?? []);
      const boot = (hs: typeof hosts) =>
        Promise.all(hs.map((h) => bootHost(state, h.merged, h.netns, h.spec, timeout)));
      const early = await boot(hosts.filter((h) => first.has(h.spec.name)));
      const rest = await boot(hosts.filter((h) => !first.has(h.spec.name)));
      const booted = specs.map((s) => [...early, ...rest].find((h) => h.name === s.name)!);
      const ready = new Lab(id, dir, booted, state, Date.now() - t0);
      await Promise.all(specs.filter((s) => s.firewall).map((s) => enableLabFirewall(ready, s.name, s.firewall!)));
      log(`lab ${id}: ${booted.length} hosts booted in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return ready;
    } catch (e) {
      teardown(state, log);
      unregisterLab(state);
      throw e;
    }
  }

  host(name: string): LabHost {
    const h = this.byName.get(name);
    if (!h) throw new Error(`no lab host "${name}" (have ${[...this.byName.keys()].join(", ")})`);
    return h;
  }

  /** argv (program first) that runs `remoteCommand` as root on the host over SSH from the bridge's namespace. */
  sshArgv(host: string, remoteCommand: readonly string[] = ["bash", "-s"]): string[] {
    return sshArgv(this.dir, this.state.hubNetns, this.host(host).address, remoteCommand);
  }

  /** Runs a bash script on the host over SSH (script on stdin). */
  exec(host: string, script: string, opts: Omit<RunOptions, "stdin"> = {}): Promise<RunResult> {
    const [cmd, ...args] = this.sshArgv(host);
    return run(cmd, args, { timeoutMs: 120_000, ...opts, stdin: script });
  }

  /** Like exec, but throws unless the script exits 0; returns stdout. */
  async sh(host: string, script: string): Promise<string> {
    const r = await this.exec(host, script);
    if (r.code !== 0)
      throw new Error(`on ${host}: script failed (exit ${r.code ?? r.signal}):\n${script}\n--- stderr:\n${r.stderr}`);
    return r.stdout;
  }

  /**
   * SIGKILLs every process SSH sessions started on the host (each step's `bash -s` and its children, also once
   * orphaned): what a session killed on the host side looks like. Returns the killed PIDs (runner-side).
   */
  killSessions(host: string): number[] {
    const h = this.host(host);
    const procs = readdirSync("/proc")
      .filter((e) => /^\d+$/.test(e))
      .flatMap((e) => {
        try {
          if (readlinkSync(`/proc/${e}/ns/pid`) !== h.pidNs) return [];
          const stat = readFileSync(`/proc/${e}/stat`, "utf8");
          const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
          const args = readFileSync(`/proc/${e}/cmdline`, "utf8").replace(/\0+$/, "").replace(/\0/g, " ");
          return [{ pid: Number(e), ppid, args }];
        } catch {
          return [];
        }
      });
    const sessions = new Set(procs.filter((p) => /^sshd: \S+@notty/.test(p.args)).map((p) => p.pid));
    const victims = new Set<number>();
    let grew = true;
    while (grew) {
      grew = false;
      for (const p of procs) {
        const root = sessions.has(p.ppid) || p.args === "bash -s";
        if (!victims.has(p.pid) && !sessions.has(p.pid) && (root || victims.has(p.ppid))) {
          victims.add(p.pid);
          grew = true;
        }
      }
    }
    for (const pid of victims) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    return [...victims];
  }

  /** Kills every process of the host's container and its systemd (not graceful): a power cut. The host stays down. */
  async powerCut(host: string): Promise<void> {
    const h = this.host(host);
    await run("kill", ["-KILL", String(h.initPid)]);
    for (let i = 0; i < 100 && existsSync(`/proc/${h.nspawnPid}`); i++) await sleep(100);
  }

  /**
   * Stops everything this lab started and verifies nothing is left. Idempotent. Throws when something is left.
   * `graceMs`: how long the hosts get to power off cleanly before the rest is SIGKILLed. @default 15000
   */
  async stop(log?: (m: string) => void, opts: { graceMs?: number } = {}): Promise<TeardownReport> {
    if (this.stopped) return { ms: 0, leftovers: [], graceful: [], killed: [] };
    this.stopped = true;
    const report = teardown(this.state, log, opts.graceMs);
    unregisterLab(this.state);
    if (report.leftovers.length) throw new Error(`lab ${this.id} teardown left: ${report.leftovers.join("; ")}`);
    return report;
  }
}

export function sshArgv(dir: string, hubNetns: string, address: string, remoteCommand: readonly string[]): string[] {
  return [
    "nsenter",
    `--net=/run/netns/${hubNetns}`,
    "--",
    "ssh",
    "-F",
    "/dev/null",
    "-i",
    join(dir, "id_ed25519"),
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${join(dir, "known_hosts")}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "ConnectTimeout=5",
    "-o",
    "ServerAliveInterval=5",
    "-o",
    "ServerAliveCountMax=3",
    "-o",
    "LogLevel=ERROR",
    `root@${address}`,
    "--",
    ...remoteCommand,
  ];
}

/** The runner must be root with the lab's host packages installed; says exactly what is missing. */
export const LAB_HOST_PACKAGES = "debootstrap systemd-container openssh-client iproute2 util-linux procps";
function checkHostTools(): void {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push("the lab needs root (network namespaces, mounts, systemd-nspawn)");
  const path = (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":");
  const tools = [
    "debootstrap",
    "systemd-nspawn",
    "systemctl",
    "ip",
    "nsenter",
    "mount",
    "umount",
    "ssh",
    "ssh-keygen",
    "kill",
  ];
  const missing = tools.filter((t) => !path.some((d) => existsSync(join(d, t))));
  if (missing.length) problems.push(`missing ${missing.join(", ")}: apt-get install ${LAB_HOST_PACKAGES}`);
  if (problems.length) throw new Error(`cannot start the lab:\n- ${problems.join("\n- ")}`);
}

/**
 * inotify instances a lab host takes from root's budget (its processes run as the runner's root: no user
 * namespace), measured on the real-nodes stage (11 hosts, 4 kubelet hosts: 125 in use with the control plane):
 * systemd takes up to 6, logind, dbus and agetty 1 each; a kubelet host adds kubelet (cAdvisor, certificate and CA
 * watchers), containerd and kube-proxy.
 */
export const INOTIFY_PER_HOST = 9;
export const INOTIFY_PER_KUBELET_HOST = 8;
const INOTIFY_LIMIT_FILE = "/proc/sys/fs/inotify/max_user_instances";

/** inotify instances held by root's processes now (one per open inotify descriptor; inherited copies counted once per process). */
export function rootInotifyInstances(): number {
  let n = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!/^Uid:\s+0\s/m.test(readFileSync(`/proc/${pid}/status`, "utf8"))) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`))
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === "anon_inode:inotify") n++;
    } catch {
      /* gone, or not ours to read */
    }
  }
  return n;
}

/**
 * Refuses to boot a lab that root's inotify budget cannot hold: past it, kubelet, kube-proxy and systemd in the
 * hosts fail at random ("inotify_init: too many open files"), which is how the real-nodes stage flaked.
 */
function checkInotifyBudget(hosts: readonly LabHostSpec[], log: (m: string) => void): void {
  if (!existsSync(INOTIFY_LIMIT_FILE)) return;
  const limit = Number(readFileSync(INOTIFY_LIMIT_FILE, "utf8").trim());
  const used = rootInotifyInstances();
  const need = hosts.length * INOTIFY_PER_HOST + hosts.filter((h) => h.kubeletHost).length * INOTIFY_PER_KUBELET_HOST;
  log(`inotify instances (root): ${used} in use, this lab needs ~${need}, limit ${limit}`);
  if (used + need > limit)
    throw new Error(
      `cannot start the lab: root holds ${used} inotify instances and these ${hosts.length} hosts need about ${need} more, ` +
        `past fs.inotify.max_user_instances=${limit}: raise it (sysctl -w fs.inotify.max_user_instances=512; .ci/run does) ` +
        `or stop what holds them`,
    );
}

function validate(hosts: readonly LabHostSpec[]): void {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  hosts.forEach((h, i) => {
    if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(h.name))
      problems.push(`hosts[${i}].name "${h.name}" must be a DNS label of at most 32 characters`);
    for (const f of h.files ?? [])
      if (!f.path.startsWith("/") || f.path.split("/").includes(".."))
        problems.push(`hosts[${i}].files path "${f.path}" must be absolute, without ".."`);
    const j = seen.get(h.name);
    if (j !== undefined) problems.push(`hosts[${i}].name "${h.name}" is used twice (hosts[${j}])`);
    seen.set(h.name, i);
  });
  if (hosts.length === 0 || hosts.length > 40)
    problems.push(`hosts has ${hosts.length} entries; the lab boots 1 to 40`);
  if (problems.length) throw new Error(`invalid lab options:\n- ${problems.join("\n- ")}`);
}

interface PreparedSpec extends LabHostSpec {
  readonly index: number;
  readonly address: string;
  readonly hostname: string;
}

async function prepareHost(
  state: LabState,
  lower: string,
  spec: PreparedSpec,
  all: readonly PreparedSpec[],
): Promise<{ spec: PreparedSpec; merged: string; netns: string; knownHostsLine: string }> {
  const base = join(state.dir, "hosts", spec.name);
  const [upper, work, merged] = ["upper", "work", "merged"].map((d) => join(base, d));
  for (const d of [upper, work, merged]) mkdirSync(d, { recursive: true });
  const netns = `ecl-${state.id}-${spec.index}`;
  const record: LabHostRecord = { name: spec.name, netns, merged, nspawnPid: 0, initPid: 0, pidNs: "" };
  state.hosts.push(record);
  registerLab(state); // persist before creating anything that needs cleaning up
  await must("mount", [
    "-t",
    "overlay",
    "overlay",
    "-o",
    `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
    merged,
  ]);
  // identity: hostname, machine-id, hosts file, SSH host key, root's authorized key
  writeFileSync(join(merged, "etc/hostname"), `${spec.hostname}\n`);
  writeFileSync(join(merged, "etc/machine-id"), `${randomBytes(16).toString("hex")}\n`);
  writeFileSync(
    join(merged, "etc/hosts"),
    [`127.0.0.1\tlocalhost`, `127.0.1.1\t${spec.hostname}`, ...all.map((o) => `${o.address}\t${o.name}`), ""].join(
      "\n",
    ),
  );
  const hostKey = join(merged, "etc/ssh/ssh_host_ed25519_key");
  await must("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `root@${spec.name}`, "-f", hostKey]);
  const pub = readFileSync(`${hostKey}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  mkdirSync(join(merged, "root/.ssh"), { recursive: true, mode: 0o700 });
  writeFileSync(join(merged, "root/.ssh/authorized_keys"), readFileSync(join(state.dir, "id_ed25519.pub")), {
    mode: 0o600,
  });
  // SSH sessions do not register with systemd-logind (pam_systemd off in common-session): no per-session user
  // manager (user@0) is started and stopped. With it, a session opened while user@0 was stopping (10 s after the
  // last one closed) sat ~20 s in pam_systemd: sshd authenticated, no channel answered, and ssh's ServerAlive gave
  // up with exit 255 and nothing on stderr (the engine stage-2 flake, reproduced 3 of 3). Keeping user@0 alive
  // (linger) instead cost every host's user manager its inotify instances, and 11 hosts exhausted root's
  // fs.inotify.max_user_instances (128): kubelet and kube-proxy exited "inotify_init: too many open files".
  const pamSession = join(merged, "etc/pam.d/common-session");
  writeFileSync(
    pamSession,
    readFileSync(pamSession, "utf8").replace(/^(session\s+optional\s+pam_systemd\.so.*)$/m, "# edgecloud lab: $1"),
  );
  if (spec.memTotalMiB !== undefined) {
    const real = readFileSync("/proc/meminfo", "utf8");
    const kb = spec.memTotalMiB * 1024;
    const fake = real
      .replace(/^MemTotal:\s+\d+ kB$/m, `MemTotal:       ${kb} kB`)
      .replace(/^MemFree:\s+\d+ kB$/m, `MemFree:        ${Math.floor(kb * 0.8)} kB`)
      .replace(/^MemAvailable:\s+\d+ kB$/m, `MemAvailable:   ${Math.floor(kb * 0.8)} kB`);
    mkdirSync(join(merged, "etc/edgecloud-lab"), { recursive: true });
    writeFileSync(join(merged, "etc/edgecloud-lab/meminfo"), fake, { mode: 0o444 });
  }
  if (spec.kubeletHost) {
    mkdirSync(join(base, "containerd"), { recursive: true, mode: 0o711 });
    mkdirSync(join(merged, "etc/edgecloud-lab/sys"), { recursive: true });
    for (const [k, v] of Object.entries(KUBELET_TUNABLES))
      writeFileSync(join(merged, "etc/edgecloud-lab/sys", k.replace("/", ".")), `${v}\n`, { mode: 0o444 });
    // one cgroup per host in every hierarchy, recorded before it exists
    record.cgroups = readdirSync(CGROUP_ROOT)
      .map((c) => join(CGROUP_ROOT, c))
      .filter((d) => existsSync(join(d, "cgroup.procs")))
      .map((d) => join(d, `ecl-${state.id}-${spec.name}`));
    registerLab(state);
    for (const cg of record.cgroups) {
      mkdirSync(cg, { recursive: true });
      // cgroup v1 cpuset: a new group has no CPUs or memory nodes until given its parent's
      for (const f of ["cpuset.cpus", "cpuset.mems"])
        if (existsSync(join(cg, f)) && readFileSync(join(cg, f), "utf8").trim() === "")
          writeFileSync(join(cg, f), readFileSync(join(cg, "..", f), "utf8"));
    }
  }
  for (const f of spec.files ?? []) {
    const at = join(merged, f.path);
    mkdirSync(dirname(at), { recursive: true, mode: 0o755 });
    if ("target" in f) symlinkSync(f.target, at);
    else {
      writeFileSync(at, f.content, { mode: f.mode });
      chmodSync(at, f.mode);
    }
  }
  if (spec.distroEtcdRunning) {
    const wants = join(merged, "etc/systemd/system/multi-user.target.wants/etcd.service");
    if (!existsSync(wants)) symlinkSync("/lib/systemd/system/etcd.service", wants);
  }
  // network: a veth from the bridge namespace into the host's own namespace
  await must("ip", ["netns", "add", netns]);
  await must("ip", ["-n", netns, "link", "set", "lo", "up"]);
  await must("ip", [
    "-n",
    state.hubNetns,
    "link",
    "add",
    `vh${spec.index}`,
    "type",
    "veth",
    "peer",
    "name",
    "eth0",
    "netns",
    netns,
  ]);
  await must("ip", ["-n", state.hubNetns, "link", "set", `vh${spec.index}`, "master", "br0", "up"]);
  await must("ip", ["-n", netns, "addr", "add", `${spec.address}/24`, "dev", "eth0"]);
  await must("ip", ["-n", netns, "link", "set", "eth0", "up"]);
  return { spec, merged, netns, knownHostsLine: `${spec.address} ${pub}` };
}

async function bootHost(
  state: LabState,
  merged: string,
  netns: string,
  spec: PreparedSpec,
  timeoutMs: number,
): Promise<LabHost> {
  const name = spec.name;
  const record = state.hosts.find((h) => h.name === name)!;
  const logFd = openSync(join(state.dir, "hosts", name, "console.log"), "a");
  const args = [
    "-q",
    "-D",
    merged,
    "--boot",
    "--register=no",
    "--keep-unit",
    `--network-namespace-path=/run/netns/${netns}`,
    "-M",
    name,
    "--console=read-only",
  ];
  if (spec.kubeletHost)
    args.push(
      "--bind=/dev/kmsg",
      "--capability=CAP_NET_ADMIN,CAP_SYSLOG,CAP_IPC_LOCK",
      "--system-call-filter=@keyring",
      `--bind=${join(state.dir, "hosts", name, "containerd")}:/var/lib/containerd`,
    );
  else if (spec.firewall) args.push("--capability=CAP_NET_ADMIN");
  // a kubelet host's nspawn enters its own cgroups first (the shell execs nspawn: same PID)
  const cgroups = record.cgroups ?? [];
  const child =
    cgroups.length > 0
      ? spawn(
          "sh",
          ["-c", 'for c in $EC_CGROUPS; do echo $$ >"$c/cgroup.procs"; done; exec systemd-nspawn "$@"', "sh", ...args],
          { stdio: ["ignore", logFd, logFd], detached: true, env: { ...process.env, EC_CGROUPS: cgroups.join(" ") } },
        )
      : spawn("systemd-nspawn", args, { stdio: ["ignore", logFd, logFd], detached: true });
  closeSync(logFd);
  child.unref();
  if (!child.pid) throw new Error(`systemd-nspawn for ${name} did not start`);
  record.nspawnPid = child.pid;
  registerLab(state);
  const deadline = Date.now() + timeoutMs;
  const [cmd, ...sshArgs] = sshArgv(state.dir, state.hubNetns, spec.address, [
    "systemctl",
    "is-system-running",
    "--wait",
  ]);
  let last = "";
  for (;;) {
    if (child.exitCode !== null || !existsSync(`/proc/${child.pid}`)) {
      throw new Error(
        `${name}: systemd-nspawn exited during boot; console:\n${tail(join(state.dir, "hosts", name, "console.log"))}`,
      );
    }
    const r = await run(cmd, sshArgs, { timeoutMs: 30_000 });
    last = (r.stdout + r.stderr).trim();
    if (/^(running|degraded)$/m.test(r.stdout)) break;
    if (Date.now() > deadline) throw new Error(`${name}: not ready after ${timeoutMs / 1000} s (last: ${last})`);
    await sleep(150);
  }
  const initPid = containerInit(child.pid);
  record.initPid = initPid;
  record.pidNs = pidNamespace(initPid) ?? "";
  registerLab(state);
  if (spec.memTotalMiB !== undefined) {
    // nspawn cannot --bind over /proc (it mounts /proc later); bind inside the container's mount namespace instead
    await must("nsenter", [
      "-t",
      String(initPid),
      "-m",
      "--",
      "mount",
      "--bind",
      "-o",
      "ro",
      "/etc/edgecloud-lab/meminfo",
      "/proc/meminfo",
    ]);
  }
  if (spec.kubeletHost) {
    const binds = Object.keys(KUBELET_TUNABLES)
      .map((k) => `mount --bind -o ro /etc/edgecloud-lab/sys/${k.replace("/", ".")} /proc/sys/${k}`)
      .join("\n");
    await must("nsenter", [
      "-t",
      String(initPid),
      "-m",
      "--",
      "sh",
      "-euc",
      `for d in ${CGROUP_ROOT}/*/; do if mountpoint -q "$d"; then mount -o remount,bind,rw "$d"; fi; done
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,rw /proc/sys/net
${binds}`,
    ]);
    await must("nsenter", [`--net=/run/netns/${netns}`, "--", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  }
  return {
    name,
    address: spec.address,
    hostname: spec.hostname,
    nspawnPid: child.pid,
    initPid,
    pidNs: record.pidNs,
    root: merged,
    netns,
  };
}

/** The container's PID 1 as seen from the runner: the child of systemd-nspawn in another PID namespace. */
function containerInit(nspawnPid: number): number {
  const own = pidNamespace(process.pid);
  const children = readFileSync(`/proc/${nspawnPid}/task/${nspawnPid}/children`, "utf8")
    .trim()
    .split(/\s+/)
    .map(Number);
  const init = children.find((c) => pidNamespace(c) !== own);
  if (init === undefined) throw new Error(`systemd-nspawn ${nspawnPid} has no child in a new PID namespace`);
  return init;
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-40).join("\n");
  } catch {
    return "(no console log)";
  }
}

/** Removes a lab's work directory (only after teardown). */
export function removeLabDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
