/**
 * What bench:control reads around each run: Prometheus histograms and counters from the API
 * server's and the webhook's /metrics, and CPU time from /proc.
 */
import { readFileSync } from 'node:fs';

export type Buckets = Map<number, number>;

/**
 * Cumulative bucket counts of histogram `metric` in a Prometheus text page, summed over the
 * series whose labels include `match`.
 */
export function histogram(page: string, metric: string, match: string): Buckets {
  const buckets: Buckets = new Map();
  const re = new RegExp(`^${metric}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const [, labels, value] of page.matchAll(re)) {
    if (!labels!.includes(match)) continue;
    const le = /le="([^"]+)"/.exec(labels!)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(value));
  }
  return buckets;
}

/**
 * The q-quantile (0–1) of the observations between two bucket snapshots, interpolated linearly
 * inside its bucket as Prometheus's histogram_quantile does; in ms.
 */
export function bucketQuantileMs(before: Buckets, after: Buckets, q: number, what: string): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const count = (le: number): number => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const total = count(Infinity);
  if (total === 0) throw new Error(`no observation of ${what} in this run`);
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const c = count(le);
    if (c >= q * total) {
      if (le === Infinity) return lower * 1000;
      return (lower + ((le - lower) * (q * total - below)) / Math.max(1, c - below)) * 1000;
    }
    lower = le;
    below = c;
  }
  return lower * 1000;
}

/** The sum of the first capture group of every match of `re` (a global, multiline pattern). */
export const sumOf = (page: string, re: RegExp): number =>
  [...page.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
