import { isIP } from "net";
import { z } from "zod";

/** An IPv4 address in dotted-quad form, each octet 0-255 without leading zeros (zod's `ipv4`). */
export const ipv4 = z.ipv4({ message: "must be an IPv4 address such as 10.0.0.11 (four octets 0-255)" });
/** An IPv6 address (zod's `ipv6`), without brackets or zone. */
export const ipv6 = z.ipv6({ message: "must be an IPv6 address such as fd00::11" });
/** An IPv4 CIDR: a valid address and a prefix 0-32 (zod's `cidrv4`). */
export const cidrv4 = z.cidrv4({ message: "must be an IPv4 CIDR such as 10.42.0.0/16 (a single host is /32)" });
/** An IPv4 or IPv6 CIDR. */
export const cidr = z.union([z.cidrv4(), z.cidrv6()], {
  message: "must be a CIDR such as 10.0.0.0/8 or fd00::/8",
});

/** `4` or `6` for an IP address, 0 for anything else (node:net). */
export function ipVersion(v: string): 0 | 4 | 6 {
  return isIP(v) as 0 | 4 | 6;
}

/** A DNS name (RFC 1123 labels of at most 63 characters, at most 253 in all); case-insensitive. */
export function isDnsName(v: string): boolean {
  if (v.length === 0 || v.length > 253) return false;
  const labels = v.replace(/\.$/, "").split(".");
  // An all-numeric last label is an IPv4 typo (10.0.0.256), never a DNS name.
  if (/^\d+$/.test(labels[labels.length - 1])) return false;
  return labels.every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

/** An IPv4 address, an IPv6 address or a DNS name: what a host is reached at. */
export const address = z.string().superRefine((v, ctx) => {
  if (ipVersion(v) === 0 && !isDnsName(v))
    ctx.addIssue({
      code: "custom",
      message: "must be an IPv4 address (octets 0-255), an IPv6 address or a DNS name",
    });
});

/** A DNS name that may start with a `*.` wildcard label (certificate SANs). */
export const sanName = z.string().superRefine((v, ctx) => {
  const base = v.startsWith("*.") ? v.slice(2) : v;
  if (ipVersion(v) === 0 && !isDnsName(base))
    ctx.addIssue({ code: "custom", message: "must be an IP address or a DNS name (optionally *.wildcard)" });
});

/** Splits `host:port` / `[v6]:port` / `host`; undefined when it is none of them. */
export function parseHostPort(v: string): { host: string; port?: number } | undefined {
  const m6 = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(v);
  if (m6) {
    if (ipVersion(m6[1]) !== 6) return undefined;
    return portOk(m6[2]) ? { host: m6[1], ...(m6[2] ? { port: Number(m6[2]) } : {}) } : undefined;
  }
  if (ipVersion(v) === 6) return undefined; // a bare IPv6 address with a port is ambiguous: brackets required
  const i = v.lastIndexOf(":");
  const host = i < 0 ? v : v.slice(0, i);
  const port = i < 0 ? undefined : v.slice(i + 1);
  if (ipVersion(host) !== 4 && !isDnsName(host)) return undefined;
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return undefined;
  return portOk(port) ? { host, ...(port ? { port: Number(port) } : {}) } : undefined;
}

function portOk(p: string | undefined): boolean {
  return p === undefined || (Number(p) >= 1 && Number(p) <= 65535);
}

/** `host[:port]` without a scheme; IPv6 in brackets (`[fd00::1]:5000`). */
export const hostPort = z.string().superRefine((v, ctx) => {
  if (!parseHostPort(v))
    ctx.addIssue({
      code: "custom",
      message: "must be host[:port] without a scheme, e.g. 10.0.0.11:32500 or [fd00::11]:32500 (port 1-65535)",
    });
});

/** The host part of a URL or `host:port`: IPv6 addresses in brackets (RFC 3986 §3.2.2). */
export function urlHost(host: string): string {
  return ipVersion(host) === 6 ? `[${host}]` : host;
}

/** `host:port` for a URL or an endpoint list, IPv6 in brackets. */
export function joinHostPort(host: string, port: number): string {
  return `${urlHost(host)}:${port}`;
}

/** A TCP/UDP port 1-65535. */
export const port = z.number().int().min(1).max(65535);
