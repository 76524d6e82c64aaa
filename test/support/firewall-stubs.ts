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
st="$FW_STATE/firewalld"
touch "$st.rules" "$st.ports" "$st.trusted"
[ "$FW_KIND" = firewalld ] || exit 252
args=()
for a in "$@"; do [ "$a" = --permanent ] || args+=("$a"); done
a=\${args[0]:-}
case "$a" in
  --state) echo running ;;
  --reload) echo reload >>"$FW_STATE/log" ;;
  --query-rich-rule=*) grep -qxF -- "\${a#*=}" "$st.rules" ;;
  --add-rich-rule=*) grep -qxF -- "\${a#*=}" "$st.rules" || echo "\${a#*=}" >>"$st.rules" ;;
  --remove-rich-rule=*) grep -vxF -- "\${a#*=}" "$st.rules" >"$st.tmp" || true; mv "$st.tmp" "$st.rules" ;;
  --query-port=*) grep -qxF -- "\${a#*=}" "$st.ports" ;;
  --add-port=*) echo "\${a#*=}" >>"$st.ports" ;;
  --remove-port=*) grep -vxF -- "\${a#*=}" "$st.ports" >"$st.tmp" || true; mv "$st.tmp" "$st.ports" ;;
  --zone=trusted)
    b=\${args[1]:-}
    case "$b" in
      --query-source=*) grep -qxF -- "\${b#*=}" "$st.trusted" ;;
      --add-source=*) echo "\${b#*=}" >>"$st.trusted" ;;
      *) echo "firewall-cmd stub: unexpected $*" >&2; exit 2 ;;
    esac ;;
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
  delete) shift; r="$*"; grep -vxF -- "$r" "$st" >"$st.tmp" || true; mv "$st.tmp" "$st" ;;
  *) echo "ufw stub: unexpected $*" >&2; exit 2 ;;
esac
`;

export interface FirewallHost {
  /** Runs a bash program with the stubs first on PATH; returns exit status and output. */
  run(program: string): { status: number | null; out: string };
  /** firewalld rich rules, ports and trusted sources; ufw rules as `allow …` lines. */
  rules(): { rich: string[]; ports: string[]; trusted: string[]; ufw: string[] };
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
      rich: lines("firewalld.rules"),
      ports: lines("firewalld.ports"),
      trusted: lines("firewalld.trusted"),
      ufw: lines("ufw.rules"),
    }),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
