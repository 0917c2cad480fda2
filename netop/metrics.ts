/**
 * netop's metrics (SPEC §8):
 *   slicenet_qos_bytes_total{slice, direction}     bytes through the slice's HTB class
 *   slicenet_qos_packets_total{slice, direction}
 *   slicenet_qos_drops_total{slice, direction}     packets the class dropped (over its ceiling)
 *   slicenet_policy_drops_total{slice, reason}     frames dropped on the slice bridge: policy, isolation
 *   slicenet_policy_rejected_total{slice}          policy updates refused as malformed
 *
 * The first four follow counters the kernel keeps (tc class stats, nft named counters), read at
 * each scrape. They are Prometheus counters: each scrape adds what the kernel counter rose by
 * since the last read (KernelDeltas). A kernel counter that went down was recreated (a class or
 * table replaced), so all of its new value is new. A failed read changes nothing; a series the
 * kernel no longer has (its slice went away) is removed.
 */
import { Counter, type Registry } from 'prom-client';
import { KeyedSerializer } from '../lib/serial.ts';
import type { PolicyDrops } from './policy/engine.ts';
import type { SliceQosStats } from './qos/engine.ts';

/** Turns successive reads of kernel counters, one per series key, into increments. */
export class KernelDeltas {
  private readonly last = new Map<string, number>();

  /** How much the series `key`, now reading `value`, grew since the last read. */
  next(key: string, value: number): number {
    const before = this.last.get(key);
    this.last.set(key, value);
    if (before === undefined || value < before) return value;
    return value - before;
  }

  /** Forgets every series not in `seen`; returns the keys forgotten. */
  keepOnly(seen: ReadonlySet<string>): string[] {
    const gone = [...this.last.keys()].filter((k) => !seen.has(k));
    for (const k of gone) this.last.delete(k);
    return gone;
  }
}

type Labels<L extends string> = Record<L, string>;

/**
 * A Counter whose series follow kernel counters: `read` returns every series' current value
 * (undefined when reading failed). Scrapes are serialized, so deltas are taken in read order.
 */
function kernelCounter<L extends string>(
  registry: Registry,
  serial: KeyedSerializer,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Promise<[Labels<L>, number][] | undefined>,
): void {
  const deltas = new KernelDeltas();
  const byKey = new Map<string, Labels<L>>();
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      return serial.run('collect', async () => {
        const values = await read();
        if (!values) return;
        const seen = new Set<string>();
        for (const [labels, value] of values) {
          const key = JSON.stringify(labelNames.map((l) => labels[l]));
          seen.add(key);
          byKey.set(key, labels);
          this.inc(labels, deltas.next(key, value));
        }
        for (const key of deltas.keepOnly(seen)) {
          this.remove(byKey.get(key)!);
          byKey.delete(key);
        }
      });
    },
  });
}

export class NetopMetrics {
  readonly rejected: Counter<'slice'>;

  constructor(
    registry: Registry,
    qos: () => Promise<SliceQosStats[]>,
    policy: () => Promise<Map<string, PolicyDrops>>,
  ) {
    const serial = new KeyedSerializer();
    const orUndefined = <T>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);
    for (const field of ['bytes', 'packets', 'drops'] as const)
      kernelCounter(
        registry,
        serial,
        `slicenet_qos_${field}_total`,
        `${field[0]!.toUpperCase()}${field.slice(1)} through each slice's QoS class on the uplink, by direction.`,
        ['slice', 'direction'],
        async () =>
          (await orUndefined(qos()))?.map((s) => [{ slice: s.slice, direction: s.direction }, s[field]]),
      );
    kernelCounter(
      registry,
      serial,
      'slicenet_policy_drops_total',
      'Frames dropped on the slice bridge, by slice and reason (policy, isolation).',
      ['slice', 'reason'],
      async () => {
        const drops = await orUndefined(policy());
        return (
          drops &&
          [...drops].flatMap(([slice, d]): [Labels<'slice' | 'reason'>, number][] => [
            [{ slice, reason: 'policy' }, d.policy],
            [{ slice, reason: 'isolation' }, d.isolation],
          ])
        );
      },
    );
    this.rejected = new Counter({
      name: 'slicenet_policy_rejected_total',
      help: 'Policy updates refused because a MultiNetworkPolicy was malformed; the previous ruleset stayed.',
      labelNames: ['slice'],
      registers: [registry],
    });
  }
}
