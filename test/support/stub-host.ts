import { spawnSync } from "child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { dirname, join } from "path";

/**
 * A stand-in host for running rendered bundles in a unit test: the bundle runs as root in a private mount
 * namespace where /etc, /usr/local/bin and /sys/module are scratch directories, and the system tools a step
 * calls (package managers, systemctl, curl, modprobe, sysctl, ...) are stubs that record every call in a log
 * and keep their state in files. Needs root and `unshare` (the unit tier runs as root here; elsewhere the
 * tests using it skip).
 */
export const canRunStubHost =
  process.getuid?.() === 0 && spawnSync("unshare", ["--mount", "--propagation", "private", "true"]).status === 0;

const rec = (body: string) => `#!/bin/bash\necho "$(basename "$0") $*" >>"$STUB_STATE/log"\n${body}\n`;

/** Default stubs; a test overrides or adds its own (`stubs`). */
export const DEFAULT_STUBS: Record<string, string> = {
  rpm: rec(`[ "$1" = -q ] || exit 0; shift; for p in "$@"; do [ -f "$STUB_STATE/pkg-$p" ] || exit 1; done`),
  "dpkg-query": rec(`p=\${*: -1}; [ -f "$STUB_STATE/pkg-$p" ] && echo 'install ok installed'`),
  dnf: rec(
    `case "$1" in install) shift; for p in "$@"; do case "$p" in -*) ;; *) touch "$STUB_STATE/pkg-$p" ;; esac; done ;; esac`,
  ),
  yum: rec(
    `case "$1" in install) shift; for p in "$@"; do case "$p" in -*) ;; *) touch "$STUB_STATE/pkg-$p" ;; esac; done ;; esac`,
  ),
  "apt-get": rec(
    `case "$1" in install) shift; for p in "$@"; do case "$p" in -*) ;; *) touch "$STUB_STATE/pkg-$p" ;; esac; done ;; esac`,
  ),
  modprobe: rec(`mkdir -p "/sys/module/$1"`),
  sysctl: rec("exit 0"),
  systemctl: rec(`case "$1" in
  is-active) shift; [ "$1" = --quiet ] && shift; [ -f "$STUB_STATE/active-$1" ] ;;
  is-enabled) shift; [ "$1" = --quiet ] && shift; [ -f "$STUB_STATE/enabled-$1" ] ;;
  enable) shift; for u in "$@"; do case "$u" in --*) ;; *) touch "$STUB_STATE/enabled-$u" ;; esac; done ;;
  start|restart) shift; for u in "$@"; do case "$u" in --*) ;; *) touch "$STUB_STATE/active-$u" ;; esac; done ;;
  *) exit 0 ;;
esac`),
  curl: rec(`out= url=
while [ "$#" -gt 0 ]; do case "$1" in -o) out=$2; shift 2 ;; --retry|--max-time|-w) shift 2 ;; -*) shift ;; *) url=$1; shift ;; esac; done
f="$STUB_MIRROR/\${url#*://}"
[ -f "$f" ] || { echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; }
if [ -n "$out" ]; then cp "$f" "$out"; else cat "$f"; fi`),
  "firewall-cmd": rec("exit 252"),
  ufw: rec('echo "Status: inactive"'),
};

export interface StubRun {
  readonly status: number | null;
  readonly out: string;
  /** Every stub call, in order: `<tool> <args>`. */
  readonly calls: readonly string[];
}

export interface StubHost {
  /** Runs a bundle; `env` adds variables (stubs read STUB_* knobs). */
  run(bundle: string, env?: Record<string, string>): StubRun;
  /** A file under the scratch /etc, /usr/local/bin (paths as on the host); undefined when absent. */
  file(path: string): string | undefined;
  /** Puts a file under the scratch root (paths as on the host), e.g. a stock repo file. */
  put(path: string, content: string, mode?: number): void;
  /** Marks a package installed for the rpm/dpkg-query stubs. */
  installed(...pkgs: string[]): void;
  dispose(): void;
}

export interface StubHostOptions {
  readonly stubs?: Record<string, string>;
  /** Files the curl stub serves: `<host>/<path>` (e.g. `download.docker.com/linux/centos/docker-ce.repo`). */
  readonly mirror?: Record<string, string | Buffer>;
  /** /etc/os-release content. @default - the machine's own */
  readonly osRelease?: string;
  /** More host directories replaced by scratch ones (each must exist on this machine), e.g. `/usr/local/sbin`. @default [] */
  readonly scratch?: readonly string[];
}

export function stubHost(opts: StubHostOptions = {}): StubHost {
  const dir = mkdtempSync(join(tmpdir(), "ec-host-"));
  const root = {
    "/var/lib": join(dir, "varlib"),
    "/etc": join(dir, "etc"),
    "/usr/local/bin": join(dir, "usrlocalbin"),
    "/sys/module": join(dir, "sysmodule"),
    ...Object.fromEntries((opts.scratch ?? []).map((d, i) => [d, join(dir, `scratch-${i}`)])),
  };
  const bin = join(dir, "bin");
  const state = join(dir, "state");
  const mirror = join(dir, "mirror");
  for (const d of [...Object.values(root), bin, state, mirror]) mkdirSync(d, { recursive: true });
  for (const f of ["passwd", "group", "nsswitch.conf", "os-release"])
    if (existsSync(`/etc/${f}`)) copyFileSync(`/etc/${f}`, join(root["/etc"], f));
  // /usr/bin/awk and friends are symlinks through /etc/alternatives
  if (existsSync("/etc/alternatives")) spawnSync("cp", ["-a", "/etc/alternatives", join(root["/etc"], "alternatives")]);
  if (opts.osRelease !== undefined) writeFileSync(join(root["/etc"], "os-release"), opts.osRelease);
  for (const [name, body] of Object.entries({ ...DEFAULT_STUBS, ...(opts.stubs ?? {}) }))
    writeFileSync(join(bin, name), body.startsWith("#!") ? body : rec(body), { mode: 0o755 });
  for (const [path, content] of Object.entries(opts.mirror ?? {})) {
    mkdirSync(dirname(join(mirror, path)), { recursive: true });
    writeFileSync(join(mirror, path), content);
  }
  const local = (path: string) => {
    for (const [prefix, d] of Object.entries(root))
      if (path === prefix || path.startsWith(`${prefix}/`)) return join(d, path.slice(prefix.length));
    throw new Error(`${path} is outside the stub host's scratch directories (${Object.keys(root).join(", ")})`);
  };
  return {
    run(bundle, env = {}) {
      const file = join(dir, "bundle.sh");
      writeFileSync(file, bundle);
      writeFileSync(join(state, "log"), "");
      const binds = Object.entries(root)
        .map(([target, src]) => `mount --bind ${src} ${target}`)
        .join(" && ");
      const r = spawnSync(
        "unshare",
        ["--mount", "--propagation", "private", "bash", "-c", `${binds} && PATH=${bin}:$PATH bash ${file}`],
        {
          encoding: "utf8",
          env: { ...process.env, STUB_STATE: state, STUB_MIRROR: mirror, ...env },
        },
      );
      const calls = readFileSync(join(state, "log"), "utf8").split("\n").filter(Boolean);
      return { status: r.status, out: r.stdout + r.stderr, calls };
    },
    file(path) {
      const f = local(path);
      return existsSync(f) ? readFileSync(f, "utf8") : undefined;
    },
    put(path, content, mode = 0o644) {
      const f = local(path);
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, content, { mode });
    },
    installed(...pkgs) {
      for (const p of pkgs) writeFileSync(join(state, `pkg-${p}`), "");
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
