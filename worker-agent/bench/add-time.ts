/**
 * The agent's side of CNI ADD, from its own histogram `slicenet_cni_request_duration_seconds`
 * (agent/metrics.ts): scraped on every node before and after a batch, the difference is that
 * batch's ADDs. Quantiles are estimated as Prometheus's histogram_quantile does (linear
 * within the bucket), so they are only as fine as the buckets; the mean (sum / count) is exact.
 * This is the time from the agent receiving the gRPC call to its answer; the plugin process's
 * own start-up and the gRPC connection come on top (bench:cni-plugin measures those).
 */
import type { Lab } from '../../lab/lab.ts';
import { run } from '../../lib/exec.ts';
import { LAB_AGENT_PROBE_PORT } from '../lab.ts';
import { CLUSTER } from './slice-lab.ts';

const METRIC = 'slicenet_cni_request_duration_seconds';

/** Cumulative counts per upper bound (Infinity last), and the sum, for one command. */
export interface Histogram {
  buckets: Map<number, number>;
  sum: number;
  count: number;
}

/** Reads one command's series of the duration histogram from Prometheus text. */
export function parseHistogram(text: string, command: string): Histogram {
  const h: Histogram = { buckets: new Map(), sum: 0, count: 0 };
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || !m[1]!.startsWith(METRIC)) continue;
    const labels: Record<string, string> = Object.fromEntries(
      [...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]),
    );
    if (labels.command !== command) continue;
    const value = Number(m[3]);
    if (m[1] === `${METRIC}_bucket`)
      h.buckets.set(labels.le === '+Inf' ? Infinity : Number(labels.le), value);
    else if (m[1] === `${METRIC}_sum`) h.sum = value;
    else if (m[1] === `${METRIC}_count`) h.count = value;
  }
  return h;
}

/** `after - before`, bucket by bucket; several histograms add up the same way with sign +1. */
export function combine(a: Histogram, b: Histogram, sign: 1 | -1): Histogram {
  const buckets = new Map<number, number>();
  for (const le of new Set([...a.buckets.keys(), ...b.buckets.keys()]))
    buckets.set(le, (a.buckets.get(le) ?? 0) + sign * (b.buckets.get(le) ?? 0));
  return { buckets, sum: a.sum + sign * b.sum, count: a.count + sign * b.count };
}

/** histogram_quantile: the q-quantile (0..1), linear within its bucket; NaN for no observations. */
export function quantile(h: Histogram, q: number): number {
  const bounds = [...h.buckets.keys()].sort((x, y) => x - y);
  const total = h.buckets.get(Infinity) ?? h.count;
  if (total === 0) return NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const cum = h.buckets.get(le)!;
    if (cum >= rank) {
      if (le === Infinity) return lower;
      return lower + ((le - lower) * (rank - below)) / Math.max(cum - below, 1e-9);
    }
    lower = le;
    below = cum;
  }
  return lower;
}

/** The ADD histogram of every agent of the cluster, summed. */
export async function scrapeAdd(lab: Lab): Promise<Histogram> {
  let total: Histogram = { buckets: new Map(), sum: 0, count: 0 };
  for (const n of lab.cluster(CLUSTER).nodes) {
    const text = await run(['curl', '-sf', `http://127.0.0.1:${LAB_AGENT_PROBE_PORT}/metrics`], {
      netns: n.netns,
    });
    total = combine(total, parseHistogram(text, 'ADD'), 1);
  }
  return total;
}
