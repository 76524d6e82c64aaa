import { spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";

/**
 * Stand-ins for firewall-cmd and ufw that keep their rules in files, so a test can run a rendered bundle and read
 * back which rules a host's firewall holds afterwards. Only the sub-commands edgecloud's scripts use are modelled;
 * anything else fails, so a script that calls something unexpected fails the test.
 */
const FIREWALL_CMD = `#!/bin/bash
# state: $FW_STATE/fwd.<permanent|runtime>.<zone>.<port|rich-rule|source>, one value a line
[ "$FW_KIND" = firewalld ] || exit 252 # NOT_RUNNING
scope=runtime zone=public rest=()
for a in "$@"; do
  case "$a" in
    --permanent) scope=permanent ;;
    --zone=*) zone=\${a#*=} ;;
    *) rest+=("$a") ;;
  esac
done
[ \${#rest[@]} -eq 1 ] || { echo "firewall-cmd stub: unexpected $*" >&2; exit 2; }
a=\${rest[0]}
case "$a" in
  --state) echo running; exit 0 ;;
  --get-default-zone) echo public; exit 0 ;;
  --reload)
    rm -f "$FW_STATE"/fwd.runtime.*
    for f in "$FW_STATE"/fwd.permanent.*; do [ -e "$f" ] && cp "$f" "$FW_STATE/fwd.runtime.\${f##*/fwd.permanent.}"; done
    echo reload >>"$FW_STATE/log"; exit 0 ;;
esac
op=\${a%%=*}; op=\${op#--}; val=\${a#*=}
verb=\${op%%-*}; opt=\${op#*-}
case "$opt" in port|rich-rule|source) ;; *) echo "firewall-cmd stub: unexpected $*" >&2; exit 2 ;; esac
f="$FW_STATE/fwd.$scope.$zone.$opt"
touch "$f"
case "$verb" in
  query) grep -qxF -- "$val" "$f" ;;
  add) grep -qxF -- "$val" "$f" || echo "$val" >>"$f" ;;
  remove) grep -vxF -- "$val" "$f" >"$f.tmp" || true; mv "$f.tmp" "$f" ;;
  *) echo "firewall-cmd stub: unexpected $*" >&2; exit 2 ;;
esac
`;

const UFW = `#!/bin/bash
st="$FW_STATE/ufw.rules"
touch "$st"
case "$1" in
  status) if [ "$FW_KIND" = ufw ]; then echo "Status: active"; else echo "Status: inactive"; fi ;;
  show) [ "$2" = added ] || exit 2; echo "Added user rules (see 'ufw status' for running firewall):"; sed 's/^/ufw /' "$st" ;;
  allow) shift; r="allow $*"; grep -qxF -- "$r" "$st" || echo "$r" >>"$st" ;;
  delete) shift; r="$*"; grep -qxF -- "$r" "$st" || { echo "Could not delete non-existent rule"; exit 0; }; grep -vxF -- "$r" "$st" >"$st.tmp" || true; mv "$st.tmp" "$st" ;;
  *) echo "ufw stub: unexpected $*" >&2; exit 2 ;;
esac
`;

export interface FirewallHost {
  /** Runs a bash program with the stubs first on PATH; returns exit status and output. */
  run(program: string): { status: number | null; out: string };
  /**
   * firewalld's permanent rich rules and ports (default zone `public`) and trusted-zone sources; `runtime` the same
   * three for the running configuration; ufw rules as `allow …` lines.
   */
  rules(): {
    rich: string[];
    ports: string[];
    trusted: string[];
    runtime: { rich: string[]; ports: string[]; trusted: string[] };
    ufw: string[];
  };
  dispose(): void;
}

export function firewallHost(kind: "firewalld" | "ufw" | "none"): FirewallHost {
  const dir = mkdtempSync(join(tmpdir(), "ec-fw-"));
  const bin = join(dir, "bin");
  const state = join(dir, "state");
  mkdirSync(bin);
  mkdirSync(state);
  writeFileSync(join(bin, "firewall-cmd"), FIREWALL_CMD, { mode: 0o755 });
  writeFileSync(join(bin, "ufw"), UFW, { mode: 0o755 });
  const lines = (f: string) => {
    try {
      return readFileSync(join(state, f), "utf8").split("\n").filter(Boolean);
    } catch {
      return [];
    }
  };
  return {
    run(program) {
      const file = join(dir, "program.sh");
      writeFileSync(file, program);
      const r = spawnSync("bash", [file], {
        encoding: "utf8",
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FW_STATE: state, FW_KIND: kind },
      });
      return { status: r.status, out: r.stdout + r.stderr };
    },
    rules: () => ({
      rich: lines("fwd.permanent.public.rich-rule"),
      ports: lines("fwd.permanent.public.port"),
      trusted: lines("fwd.permanent.trusted.source"),
      runtime: {
        rich: lines("fwd.runtime.public.rich-rule"),
        ports: lines("fwd.runtime.public.port"),
        trusted: lines("fwd.runtime.trusted.source"),
      },
      ufw: lines("ufw.rules"),
    }),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
