import { OsProfile } from "../platform/os";

export interface FirewallPort {
  readonly port: number | `${number}-${number}`;
  readonly protocol: "tcp" | "udp";
}

/**
 * Script lines that open ports in the OS's firewall (firewalld or ufw) when that firewall is running; a no-op
 * where the OS has none or it is inactive. Check-then-act, so a second run changes nothing.
 */
export function openFirewallPorts(
  os: OsProfile,
  ports: readonly FirewallPort[],
  trustedSources: readonly string[] = [],
): string {
  if (ports.length === 0 && trustedSources.length === 0) return "";
  const spec = (p: FirewallPort) => `${p.port}/${p.protocol}`;
  switch (os.firewall) {
    case "firewalld":
      return `if command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null 2>&1; then
  fw_changed=0
  for p in ${ports.map(spec).join(" ")}; do
    if ! firewall-cmd --permanent --query-port="$p" >/dev/null 2>&1; then firewall-cmd --permanent --add-port="$p" >/dev/null; fw_changed=1; fi
  done
  for src in ${trustedSources.join(" ")}; do
    if ! firewall-cmd --permanent --zone=trusted --query-source="$src" >/dev/null 2>&1; then firewall-cmd --permanent --zone=trusted --add-source="$src" >/dev/null; fw_changed=1; fi
  done
  if [ "$fw_changed" = 1 ]; then firewall-cmd --reload >/dev/null; ec_changed; fi
fi`;
    case "ufw":
      return `if command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q 'Status: active'; then
  for p in ${ports.map((p) => `${String(p.port).replace("-", ":")}/${p.protocol}`).join(" ")}; do
    if ! ufw show added 2>/dev/null | grep -qx "ufw allow $p"; then ufw allow "$p" >/dev/null; ec_changed; fi
  done
  for src in ${trustedSources.join(" ")}; do
    if ! ufw show added 2>/dev/null | grep -qx "ufw allow from $src"; then ufw allow from "$src" >/dev/null; ec_changed; fi
  done
fi`;
    case "none":
      return "";
  }
}

/** The inverse of `openFirewallPorts` (delete scripts). */
export function closeFirewallPorts(os: OsProfile, ports: readonly FirewallPort[]): string {
  const spec = (p: FirewallPort) => `${p.port}/${p.protocol}`;
  switch (os.firewall) {
    case "firewalld":
      return `if command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null 2>&1; then
  for p in ${ports.map(spec).join(" ")}; do
    if firewall-cmd --permanent --query-port="$p" >/dev/null 2>&1; then firewall-cmd --permanent --remove-port="$p" >/dev/null; ec_changed; fi
  done
  firewall-cmd --reload >/dev/null
fi`;
    case "ufw":
      return `if command -v ufw >/dev/null 2>&1; then
  for p in ${ports.map((p) => `${String(p.port).replace("-", ":")}/${p.protocol}`).join(" ")}; do
    if ufw show added 2>/dev/null | grep -qx "ufw allow $p"; then ufw delete allow "$p" >/dev/null; ec_changed; fi
  done
fi`;
    case "none":
      return "";
  }
}

/** A port opened to the listed sources only (IP addresses or CIDRs). */
export interface SourceLimitedPort {
  readonly port: number;
  readonly protocol: "tcp" | "udp";
  /** IPv4/IPv6 addresses or CIDRs allowed to connect. */
  readonly sources: readonly string[];
}

function richRule(p: SourceLimitedPort, source: string): string {
  const family = source.includes(":") ? "ipv6" : "ipv4";
  return `rule family="${family}" source address="${source}" port port="${p.port}" protocol="${p.protocol}" accept`;
}

function ufwRule(p: SourceLimitedPort, source: string): string {
  return `from ${source} to any port ${p.port} proto ${p.protocol}`;
}

function quoteWords(words: readonly string[]): string {
  return words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(" ");
}

/**
 * Opens each port to its sources only: firewalld rich rules (default zone) or ufw `allow from … to any port …`.
 * Unlike `openFirewallPorts` it does not trust the OS profile's default: it acts on whichever of firewalld and ufw
 * is running on the host at run time (an operator may enable firewalld on Debian, or ufw on Ubuntu), and is a
 * no-op where neither runs. Check-then-act, so a second run changes nothing.
 */
export function openFirewallPortsFrom(rules: readonly SourceLimitedPort[]): string {
  const rich = rules.flatMap((p) => p.sources.map((s) => richRule(p, s)));
  const ufw = rules.flatMap((p) => p.sources.map((s) => ufwRule(p, s)));
  if (rich.length === 0) return "";
  return `if command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null 2>&1; then
  fw_changed=0
  for r in ${quoteWords(rich)}; do
    if ! firewall-cmd --permanent --query-rich-rule="$r" >/dev/null 2>&1; then firewall-cmd --permanent --add-rich-rule="$r" >/dev/null; fw_changed=1; fi
  done
  if [ "$fw_changed" = 1 ]; then firewall-cmd --reload >/dev/null; ec_changed; fi
fi
if command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q 'Status: active'; then
  for r in ${quoteWords(ufw)}; do
    # shellcheck disable=SC2086 # the rule is ufw's own word list
    if ! ufw show added 2>/dev/null | grep -qxF "ufw allow $r"; then ufw allow $r >/dev/null; ec_changed; fi
  done
fi`;
}

/** The inverse of `openFirewallPortsFrom` (delete scripts): removes exactly those rules where they exist. */
export function closeFirewallPortsFrom(rules: readonly SourceLimitedPort[]): string {
  const rich = rules.flatMap((p) => p.sources.map((s) => richRule(p, s)));
  const ufw = rules.flatMap((p) => p.sources.map((s) => ufwRule(p, s)));
  if (rich.length === 0) return "";
  return `if command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null 2>&1; then
  fw_changed=0
  for r in ${quoteWords(rich)}; do
    if firewall-cmd --permanent --query-rich-rule="$r" >/dev/null 2>&1; then firewall-cmd --permanent --remove-rich-rule="$r" >/dev/null; fw_changed=1; fi
  done
  if [ "$fw_changed" = 1 ]; then firewall-cmd --reload >/dev/null; ec_changed; fi
fi
if command -v ufw >/dev/null 2>&1; then
  for r in ${quoteWords(ufw)}; do
    # shellcheck disable=SC2086 # the rule is ufw's own word list
    if ufw show added 2>/dev/null | grep -qxF "ufw allow $r"; then ufw delete allow $r >/dev/null; ec_changed; fi
  done
fi`;
}
