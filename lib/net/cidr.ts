/** IPv4 CIDR arithmetic for validation (pod/service CIDRs vs host networks). */
export interface Cidr {
  readonly base: number;
  readonly bits: number;
}

export function parseIpv4(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export function parseCidr(c: string): Cidr | undefined {
  const [ip, bitsS] = c.split("/");
  const base = parseIpv4(ip ?? "");
  const bits = Number(bitsS);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  return { base: base - (base % 2 ** (32 - bits)), bits };
}

function range(c: Cidr): [number, number] {
  return [c.base, c.base + 2 ** (32 - c.bits) - 1];
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 <= b1 && b0 <= a1;
}

export function cidrContains(c: Cidr, ip: number): boolean {
  const [lo, hi] = range(c);
  return ip >= lo && ip <= hi;
}
