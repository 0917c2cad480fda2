/**
 * IPv4 CIDR arithmetic, shared by the webhook's validation and the controller's subnet carving:
 * parse strictly (dotted quad without leading zeros, which
 * some parsers read as octal), and compare ranges as 32-bit numbers.
 */

export interface Cidr {
  /** The address as written, as an unsigned 32-bit number. */
  address: number;
  prefix: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Parses `a.b.c.d/n`; returns a string saying what is wrong instead of throwing. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.split('/');
  if (slash.length !== 2) return 'is not a CIDR: write it as address/prefix, e.g. 10.90.0.0/16';
  const [ip, len] = slash as [string, string];
  if (ip.includes(':')) return 'is an IPv6 CIDR; slices are IPv4';
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !OCTET.test(p) || Number(p) > 255)) {
    return `has an invalid IPv4 address "${ip}"`;
  }
  if (!/^(0|[1-9][0-9]?)$/.test(len) || Number(len) > 32) return `has an invalid prefix length "/${len}"`;
  const address = parts.reduce((acc, p) => acc * 256 + Number(p), 0);
  return { address, prefix: Number(len) };
}

/** The size of the range, as a number of addresses. */
const size = (c: Cidr): number => 2 ** (32 - c.prefix);

/** The network address: the address with its host bits cleared. */
export function network(c: Cidr): number {
  return c.address - (c.address % size(c));
}

export function formatCidr(c: Cidr): string {
  const n = network(c);
  return `${[24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.')}/${c.prefix}`;
}

/** True if every address of `inner` is in `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && network({ ...inner, prefix: outer.prefix }) === network(outer);
}

/** True if the two ranges share an address; CIDR ranges either nest or are disjoint. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b) || contains(b, a);
}

/** The private ranges of RFC 1918, the only ones a slice may use. */
export const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map(
  (r) => parseCidr(r) as Cidr,
);

export function isPrivate(c: Cidr): boolean {
  return PRIVATE_RANGES.some((r) => contains(r, c));
}

/** `a.b.c.d` of an unsigned 32-bit address. */
export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The unsigned 32-bit address of `a.b.c.d`; throws on anything else. */
export function parseIp(ip: string): number {
  const c = parseCidr(`${ip}/32`);
  if (typeof c === 'string') throw new RangeError(`${ip} is not an IPv4 address`);
  return c.address;
}

/** Parses a CIDR or throws a RangeError naming it. */
export function mustParseCidr(text: string): Cidr {
  const c = parseCidr(text);
  if (typeof c === 'string') throw new RangeError(`${text} ${c}`);
  return c;
}

/** `cidr` split into blocks of length `prefix` in address order (itself, if it is no larger). */
export function subdivide(text: string, prefix: number): string[] {
  const c = mustParseCidr(text);
  if (prefix <= c.prefix) return [formatCidr(c)];
  const step = 2 ** (32 - prefix);
  const base = network(c);
  return Array.from({ length: 2 ** (prefix - c.prefix) }, (_, i) =>
    formatCidr({ address: base + i * step, prefix }),
  );
}
