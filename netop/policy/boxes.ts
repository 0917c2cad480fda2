/**
 * The allowed traffic of one group of pods is a union of boxes (address range × protocol range
 * × port range) that overlap freely: two policies may allow the same pod, a /24 may contain a
 * pod that a selector also names. nftables' concatenated interval sets (the pipapo set type)
 * refuse partially overlapping elements, so this turns the union into disjoint boxes, merging
 * neighbours where it can to keep the set small:
 *
 *   1. cut the address axis at every range start and end; each elementary segment has a set of
 *      (protocol, port) boxes that cover it;
 *   2. make that set canonical: cut the protocol axis the same way, merge the port ranges of each
 *      protocol segment, then merge adjacent protocol segments with equal port lists;
 *   3. merge adjacent address segments whose canonical sets are equal.
 *
 * Cost: O(n log n) in the number of boxes, plus the size of the result.
 */
import type { Range } from './validate.ts';

export interface Box {
  addr: Range;
  proto: Range;
  port: Range;
}

interface ProtoPorts {
  proto: Range;
  ports: Range[];
}

/** Sorted, merged (touching ranges joined) copy. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const s = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of s) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** Elementary segments of the axis cut at every start and end of `ranges`, each with the indices covering it. */
function segments(ranges: readonly Range[]): { seg: Range; covering: number[] }[] {
  const events: [number, number, boolean][] = [];
  ranges.forEach(([lo, hi], i) => events.push([lo, i, true], [hi + 1, i, false]));
  events.sort((a, b) => a[0] - b[0]);
  const active = new Set<number>();
  const out: { seg: Range; covering: number[] }[] = [];
  for (let k = 0; k < events.length;) {
    const at = events[k]![0];
    for (; k < events.length && events[k]![0] === at; k++) {
      const [, i, start] = events[k]!;
      if (start) active.add(i);
      else active.delete(i);
    }
    const next = events[k]?.[0];
    if (next !== undefined && active.size) out.push({ seg: [at, next - 1], covering: [...active] });
  }
  return out;
}

function canonical(pp: readonly { proto: Range; port: Range }[]): ProtoPorts[] {
  const out: ProtoPorts[] = [];
  for (const { seg, covering } of segments(pp.map((b) => b.proto))) {
    const ports = mergeRanges(covering.map((i) => pp[i]!.port));
    const last = out[out.length - 1];
    if (last && last.proto[1] + 1 === seg[0] && sameRanges(last.ports, ports))
      last.proto = [last.proto[0], seg[1]];
    else out.push({ proto: seg, ports });
  }
  return out;
}

const sameRanges = (a: readonly Range[], b: readonly Range[]): boolean =>
  a.length === b.length && a.every((r, i) => r[0] === b[i]![0] && r[1] === b[i]![1]);

/** The union of `boxes` as disjoint boxes. */
export function disjointBoxes(boxes: readonly Box[]): Box[] {
  const memo = new Map<string, { key: string; pp: ProtoPorts[] }>();
  const canon = (covering: number[]): { key: string; pp: ProtoPorts[] } => {
    const pp = covering.map((i) => boxes[i]!);
    const raw = [...new Set(pp.map((b) => `${b.proto[0]}-${b.proto[1]}/${b.port[0]}-${b.port[1]}`))]
      .sort()
      .join();
    let c = memo.get(raw);
    if (!c) {
      const cp = canonical(pp);
      c = { key: JSON.stringify(cp), pp: cp };
      memo.set(raw, c);
    }
    return c;
  };
  const runs: { addr: [number, number]; key: string; pp: ProtoPorts[] }[] = [];
  for (const { seg, covering } of segments(boxes.map((b) => b.addr))) {
    const c = canon(covering);
    const last = runs[runs.length - 1];
    if (last && last.addr[1] + 1 === seg[0] && last.key === c.key) last.addr[1] = seg[1];
    else runs.push({ addr: [seg[0], seg[1]], ...c });
  }
  return runs.flatMap((r) =>
    r.pp.flatMap((p) => p.ports.map((port) => ({ addr: r.addr, proto: p.proto, port }))),
  );
}
