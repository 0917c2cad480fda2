/**
 * netop's metrics (SPEC §8), read from the kernel at scrape time:
 *   slicenet_qos_bytes_total{slice, direction}     bytes through the slice's HTB class
 *   slicenet_qos_packets_total{slice, direction}
 *   slicenet_qos_drops_total{slice, direction}     packets the class dropped (over its ceiling)
 *   slicenet_policy_drops_total{slice, reason}     frames dropped on the slice bridge: policy, isolation
 *   slicenet_policy_rejected_total{slice}          policy updates refused as malformed
 * The first four are counters kept by the kernel, exported as gauges set at each scrape.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PolicyDrops } from './policy/engine.ts';
import type { SliceQosStats } from './qos/engine.ts';

export class NetopMetrics {
  readonly rejected: Counter<'slice'>;

  constructor(
    registry: Registry,
    qos: () => Promise<SliceQosStats[]>,
    policy: () => Promise<Map<string, PolicyDrops>>,
  ) {
    const fields = ['bytes', 'packets', 'drops'] as const;
    for (const field of fields)
      new Gauge({
        name: `slicenet_qos_${field}_total`,
        help: `${field[0]!.toUpperCase()}${field.slice(1)} through each slice's QoS class on the uplink, by direction.`,
        labelNames: ['slice', 'direction'],
        registers: [registry],
        async collect() {
          this.reset();
          for (const s of await qos().catch((): SliceQosStats[] => []))
            this.set({ slice: s.slice, direction: s.direction }, s[field]);
        },
      });
    new Gauge({
      name: 'slicenet_policy_drops_total',
      help: 'Frames dropped on the slice bridge, by slice and reason (policy, isolation).',
      labelNames: ['slice', 'reason'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const [slice, d] of await policy().catch(() => new Map<string, PolicyDrops>())) {
          this.set({ slice, reason: 'policy' }, d.policy);
          this.set({ slice, reason: 'isolation' }, d.isolation);
        }
      },
    });
    this.rejected = new Counter({
      name: 'slicenet_policy_rejected_total',
      help: 'Policy updates refused because a MultiNetworkPolicy was malformed; the previous ruleset stayed.',
      labelNames: ['slice'],
      registers: [registry],
    });
  }
}
