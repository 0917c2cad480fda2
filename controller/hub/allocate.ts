/**
 * The two things the hub hands out and must never hand out twice: each member cluster's block
 * of a slice subnet, and each slice's VNI. Pure functions, so the rules are tested without an
 * API server; the reconciler feeds them what is recorded in SliceConfig.status (and what the
 * WorkerSlices say, in case status was lost) and persists what they return before using it.
 *
 * Stability is the point: a member keeps its block for as long as it stays a member, whatever
 * order `clusters` lists it in and however often the controller restarts, because pods hold
 * addresses from it. A block becomes free only when its cluster leaves.
 */
import { formatCidr, network, parseCidr } from '../../lib/net/cidr.ts';

export interface Assignment {
  name: string;
  subnet: string;
}

export interface BlockPlan {
  /** One per member that got a block, sorted by cluster name. */
  assignments: Assignment[];
  /** Members left without a block: every block is taken (cannot happen while the CRD caps members at maxClusters). */
  unplaced: string[];
}

/** The smallest power of two ≥ n: the subnet splits evenly only into 2^k blocks. */
export function splitCount(maxClusters: number): number {
  let n = 1;
  while (n < maxClusters) n *= 2;
  return n;
}

/** The subnet's blocks, in address order. */
export function blocks(subnet: string, maxClusters: number): string[] {
  const c = parseCidr(subnet);
  if (typeof c === 'string') throw new RangeError(`subnet ${subnet} ${c}`);
  const n = splitCount(maxClusters);
  const prefix = c.prefix + Math.log2(n);
  if (prefix > 32) throw new RangeError(`subnet ${subnet} is too small for ${n} blocks`);
  const step = 2 ** (32 - prefix);
  const base = network(c);
  return Array.from({ length: n }, (_, i) => formatCidr({ address: base + i * step, prefix }));
}

/**
 * Keeps every current member's earlier block (if it is still one of the subnet's blocks and no
 * other member kept it), then gives new members the lowest free blocks, in name order so the
 * result does not depend on list order.
 */
export function assignBlocks(
  subnet: string,
  maxClusters: number,
  members: readonly string[],
  previous: readonly Assignment[],
): BlockPlan {
  const all = blocks(subnet, maxClusters);
  const valid = new Set(all);
  const names = [...new Set(members)].sort();
  const taken = new Map<string, string>();
  const kept = new Map<string, string>();
  for (const p of previous) {
    if (!names.includes(p.name) || kept.has(p.name) || !valid.has(p.subnet) || taken.has(p.subnet)) continue;
    kept.set(p.name, p.subnet);
    taken.set(p.subnet, p.name);
  }
  const free = all.filter((b) => !taken.has(b));
  const unplaced: string[] = [];
  for (const name of names) {
    if (kept.has(name)) continue;
    const b = free.shift();
    if (b === undefined) unplaced.push(name);
    else kept.set(name, b);
  }
  const assignments = names.filter((n) => kept.has(n)).map((name) => ({ name, subnet: kept.get(name)! }));
  return { assignments, unplaced };
}

/** VNIs below 4096 are left to whatever else uses VXLAN on the nodes (and to VLAN-ID lookalikes). */
export const VNI_MIN = 4096;
export const VNI_MAX = 16_777_215;

export class VniExhaustedError extends RangeError {
  readonly code = 'VNI_EXHAUSTED';
}

/**
 * The slice's VNI: `current` if it is in range and nobody else holds it, else the lowest free
 * one. `used` holds every other slice's VNI.
 */
export function allocateVni(current: number | undefined, used: ReadonlySet<number>): number {
  if (current !== undefined && current >= VNI_MIN && current <= VNI_MAX && !used.has(current)) return current;
  for (let v = VNI_MIN; v <= VNI_MAX; v++) if (!used.has(v)) return v;
  throw new VniExhaustedError('every VNI from 4096 to 16777215 is in use');
}
