/**
 * slicenet-dns metrics (SPEC §8):
 *   slicenet_dns_queries_total{transport, rcode}      queries answered
 *   slicenet_dns_bad_queries_total{transport, reason} malformed or refused queries, answered or dropped
 *   slicenet_dns_dropped_total{transport, reason}     queries not answered at all
 *   slicenet_dns_truncated_total                      UDP answers cut to fit (TC set)
 *   slicenet_dns_query_duration_seconds{transport}    from datagram or frame in to answer out
 *   slicenet_dns_records, slicenet_dns_zone_serial    the zone being served
 *   slicenet_dns_reload_errors_total                  record sources that could not be read
 *   slicenet_dns_tcp_connections                      open TCP connections
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BadReason, Outcome, Transport } from './query.ts';
import type { RecordStore } from './records.ts';

export class DnsMetrics {
  readonly reloadErrors: Counter;
  readonly tcpConnections: Gauge;
  private readonly queries: Counter<'transport' | 'rcode'>;
  private readonly bad: Counter<'transport' | 'reason'>;
  private readonly dropped: Counter<'transport' | 'reason'>;
  private readonly truncated: Counter;
  private readonly duration: Histogram<'transport'>;

  constructor(registry: Registry, store: RecordStore) {
    const registers = [registry];
    this.queries = new Counter({
      name: 'slicenet_dns_queries_total',
      help: 'Queries answered, by transport and response code.',
      labelNames: ['transport', 'rcode'],
      registers,
    });
    this.bad = new Counter({
      name: 'slicenet_dns_bad_queries_total',
      help: 'Malformed or refused queries by reason, whether answered with an error or dropped.',
      labelNames: ['transport', 'reason'],
      registers,
    });
    this.dropped = new Counter({
      name: 'slicenet_dns_dropped_total',
      help: 'Queries not answered at all, by reason.',
      labelNames: ['transport', 'reason'],
      registers,
    });
    this.truncated = new Counter({
      name: 'slicenet_dns_truncated_total',
      help: 'UDP answers cut to their question because they did not fit (TC set).',
      registers,
    });
    this.duration = new Histogram({
      name: 'slicenet_dns_query_duration_seconds',
      help: 'Time from a query read to its answer written, by transport.',
      labelNames: ['transport'],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
      registers,
    });
    this.reloadErrors = new Counter({
      name: 'slicenet_dns_reload_errors_total',
      help: 'Record updates that could not be read; the previous zone stays served.',
      registers,
    });
    this.tcpConnections = new Gauge({
      name: 'slicenet_dns_tcp_connections',
      help: 'Open TCP connections.',
      registers,
    });
    new Gauge({
      name: 'slicenet_dns_records',
      help: 'Records in the zone being served.',
      registers,
      aggregator: 'max',
      collect() {
        this.set(store.zone.records);
      },
    });
    new Gauge({
      name: 'slicenet_dns_zone_serial',
      help: "The served zone's SOA serial; it counts up with every update.",
      registers,
      aggregator: 'max',
      collect() {
        this.set(store.zone.serial);
      },
    });
  }

  /** Counts one query's outcome; `seconds` is how long it took. */
  observe(transport: Transport, outcome: Outcome, seconds: number): void {
    if (outcome.bad) this.bad.inc({ transport, reason: outcome.bad });
    if (!outcome.response) {
      this.dropped.inc({ transport, reason: outcome.bad ?? 'unknown' });
      return;
    }
    if (outcome.truncated) this.truncated.inc();
    this.queries.inc({ transport, rcode: outcome.rcode ?? 'unknown' });
    this.duration.observe({ transport }, seconds);
  }

  /** A query the transport itself gave up on (a TCP frame cut short, too many connections). */
  drop(transport: Transport, reason: BadReason | 'tcp_incomplete' | 'tcp_busy'): void {
    this.bad.inc({ transport, reason });
    this.dropped.inc({ transport, reason });
  }
}
