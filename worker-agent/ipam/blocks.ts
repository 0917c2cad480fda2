/**
 * The pure part of node IPAM (SPEC §5): a cluster's share of a slice subnet is cut into node
 * blocks; a node leases blocks and hands out their addresses. The slice subnet's own network
 * and broadcast addresses are never handed out; every other address of a block is.
 */
import { formatIp, mustParseCidr, network, parseIp, subdivide } from '../../lib/net/cidr.ts';

/** Node blocks of `share`, in address order. */
export const nodeBlocks = (share: string, prefix: number): string[] => subdivide(share, prefix);

/** The lowest block of `share` nobody holds, or undefined when all are taken. */
export function freeBlock(share: string, prefix: number, taken: ReadonlySet<string>): string | undefined {
  return nodeBlocks(share, prefix).find((b) => !taken.has(b));
}

/** Addresses of `block` that may be handed out, in order. */
export function usableAddresses(block: string, subnet: string): string[] {
  const b = mustParseCidr(block);
  const s = mustParseCidr(subnet);
  const sFirst = network(s);
  const sLast = sFirst + 2 ** (32 - s.prefix) - 1;
  const first = network(b);
  const out: string[] = [];
  for (let a = first; a < first + 2 ** (32 - b.prefix); a++)
    if (a !== sFirst && a !== sLast) out.push(formatIp(a));
  return out;
}

/**
 * The next address to hand out: the first free one after `last` (wrapping), so a released
 * address is reused as late as possible, as host-local does: a late packet for a pod just
 * gone does not reach its successor.
 */
export function nextAddress(
  candidates: string[],
  used: ReadonlySet<string>,
  last?: string,
): string | undefined {
  if (candidates.length === 0) return undefined;
  const start = last === undefined ? 0 : candidates.findIndex((a) => parseIp(a) > parseIp(last));
  const from = start < 0 ? 0 : start;
  for (let i = 0; i < candidates.length; i++) {
    const a = candidates[(from + i) % candidates.length]!;
    if (!used.has(a)) return a;
  }
  return undefined;
}

/** The block of `blocks` that holds `ip`. */
export function blockOf(ip: string, blocks: Iterable<string>): string | undefined {
  const n = parseIp(ip);
  for (const b of blocks) {
    const c = mustParseCidr(b);
    if (n >= network(c) && n < network(c) + 2 ** (32 - c.prefix)) return b;
  }
  return undefined;
}
