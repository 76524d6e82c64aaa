import { raw, sh } from "./sh";

/** A port or an inclusive port range (`"51820-51821"`) with its protocol. */
export interface FirewallPort {
  readonly port: number | `${number}-${number}`;
  readonly protocol: "tcp" | "udp";
}

/** A port opened to some sources, or to everyone. */
export interface FirewallRule extends FirewallPort {
  /**
   * IPv4/IPv6 addresses or CIDRs allowed to connect. Absent: every source. Empty: nobody (no rule is written).
   * @default - every source
   */
  readonly sources?: readonly string[];
}

/** What a step opens in a host's firewall; its inverse ({@link closeFirewall}) removes exactly that. */
export interface FirewallOpening {
  readonly rules: readonly FirewallRule[];
  /** Networks whose traffic is trusted entirely (firewalld's `trusted` zone; ufw `allow from <net>`). */
  readonly trusted?: readonly string[];
  /**
   * Ports an earlier rendering opened to everyone that are now source-limited by `rules`: opening removes a
   * port-only rule for them (the inverse does not put it back).
   */
  readonly closeToEveryone?: readonly FirewallPort[];
}

/** One firewalld setting: zone ("" = the default zone), option (`port`, `rich-rule`, `source`) and value. */
type FirewalldItem = readonly [zone: string, option: "port" | "rich-rule" | "source", value: string];

function portText(p: FirewallPort, rangeSep: "-" | ":"): string {
  return String(p.port).replace("-", rangeSep);
}

function family(source: string): "ipv4" | "ipv6" {
  return source.includes(":") ? "ipv6" : "ipv4";
}

function firewalldItems(o: FirewallOpening): FirewalldItem[] {
  const items: FirewalldItem[] = [];
  for (const r of o.rules) {
    if (r.sources === undefined) items.push(["", "port", `${portText(r, "-")}/${r.protocol}`]);
    else
      for (const s of r.sources)
        items.push([
          "",
          "rich-rule",
          `rule family="${family(s)}" source address="${s}" port port="${portText(r, "-")}" protocol="${r.protocol}" accept`,
        ]);
  }
  for (const t of o.trusted ?? []) items.push(["trusted", "source", t]);
  return items;
}

/** ufw rules as the word lists after `ufw allow` (what `ufw show added` prints after `ufw allow `). */
function ufwItems(o: FirewallOpening): string[][] {
  const items: string[][] = [];
  for (const r of o.rules) {
    if (r.sources === undefined) items.push([`${portText(r, ":")}/${r.protocol}`]);
    else for (const s of r.sources) items.push(["from", s, "to", "any", "port", portText(r, ":"), "proto", r.protocol]);
  }
  for (const t of o.trusted ?? []) items.push(["from", t]);
  return items;
}

/**
 * Shell functions of the firewall fragment (library code, no values): `ec_fwd open|close ZONE OPTION VALUE`
 * sets or removes one firewalld setting in the permanent and the runtime configuration, no reload (a reload would
 * drop runtime rules other software holds, e.g. Docker's); `ec_ufw open|close WORD…` adds or deletes one ufw rule
 * (`ufw allow WORD…`), checked against `ufw show added`. Each reports a change through `ec_changed`.
 * The here-string needs bash, which every bundle runs in.
 */
const FIREWALL_FUNCTIONS = `ec_fwd() {
  local op=$1 zone=$2 opt=$3 val=$4 scope have
  [ -n "$zone" ] || zone=$(firewall-cmd --get-default-zone)
  for scope in permanent runtime; do
    if [ "$scope" = permanent ]; then set -- --permanent --zone="$zone"; else set -- --zone="$zone"; fi
    have=0
    if firewall-cmd "$@" --query-"$opt"="$val" >/dev/null 2>&1; then have=1; fi
    if [ "$op" = open ] && [ "$have" = 0 ]; then
      firewall-cmd "$@" --add-"$opt"="$val" >/dev/null
      ec_changed
    elif [ "$op" = close ] && [ "$have" = 1 ]; then
      firewall-cmd "$@" --remove-"$opt"="$val" >/dev/null
      ec_changed
    fi
  done
}
ec_ufw() {
  local op=$1 added
  shift
  # read whole, then match: grep -q on a pipe would end ufw with SIGPIPE, failing the test under pipefail
  added=$(ufw show added 2>/dev/null || true)
  if grep -qxF -- "ufw allow $*" <<<"$added"; then
    if [ "$op" = close ]; then ufw delete allow "$@" >/dev/null; ec_changed; fi
  elif [ "$op" = open ]; then
    ufw allow "$@" >/dev/null
    ec_changed
  fi
}
ec_ufw_active() {
  local st
  command -v ufw >/dev/null 2>&1 || return 1
  st=$(ufw status 2>/dev/null || true)
  case $st in "Status: active"*) return 0 ;; *) return 1 ;; esac
}`;

/** Whether firewalld runs (`firewall-cmd --state` exits 0 only when it does). */
const FIREWALLD_RUNNING = "command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null 2>&1";
/** Whether ufw is enabled (`ufw status` starts with `Status: active`). */
const UFW_ACTIVE = "ec_ufw_active";
/** ufw rules can be deleted while ufw is disabled (they are kept in its rules files). */
const UFW_INSTALLED = "command -v ufw >/dev/null 2>&1";

function firewallScript(o: FirewallOpening, op: "open" | "close"): string {
  const fwd = firewalldItems(o);
  const ufw = ufwItems(o);
  const everyone = op === "open" ? (o.closeToEveryone ?? []) : [];
  const fwdClose = everyone.map((p): FirewalldItem => ["", "port", `${portText(p, "-")}/${p.protocol}`]);
  const ufwClose = everyone.map((p) => [`${portText(p, ":")}/${p.protocol}`]);
  if (fwd.length + fwdClose.length === 0) return "";
  const fwdLines = [
    ...fwdClose.map(([z, opt, v]) => sh`  ec_fwd close ${z} ${opt} ${v}`),
    ...fwd.map(([z, opt, v]) => sh`  ec_fwd ${op} ${z} ${opt} ${v}`),
  ];
  const ufwLines = [
    ...ufwClose.map((words) => sh`  ec_ufw close ${words}`),
    ...ufw.map((words) => sh`  ec_ufw ${op} ${words}`),
  ];
  return [
    FIREWALL_FUNCTIONS,
    // whichever firewall runs on the host now, not the OS profile's default: an operator may enable firewalld on
    // Debian or ufw on Ubuntu, or disable firewalld on Rocky
    sh`if ${raw(FIREWALLD_RUNNING)}; then`,
    ...fwdLines,
    "fi",
    sh`if ${raw(op === "open" ? UFW_ACTIVE : UFW_INSTALLED)}; then`,
    ...ufwLines,
    "fi",
  ].join("\n");
}

/**
 * Script lines that open `o` in whichever of firewalld and ufw runs on the host at run time (both, if both run);
 * a no-op where neither does. firewalld: ports and rich rules in the default zone, trusted networks in the
 * `trusted` zone, permanent and runtime; ufw: `ufw allow …`. Check-then-act: a second run changes nothing.
 */
export function openFirewall(o: FirewallOpening): string {
  return firewallScript(o, "open");
}

/** The inverse of {@link openFirewall} (delete scripts): removes exactly the rules it adds, where they exist. */
export function closeFirewall(o: FirewallOpening): string {
  return firewallScript(o, "close");
}
