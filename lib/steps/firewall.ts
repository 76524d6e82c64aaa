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
