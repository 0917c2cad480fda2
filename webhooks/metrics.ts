/**
 * The webhook's Prometheus metrics, on a registry of its own so that tests running several
 * servers in one process do not share counters.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** `result`: allowed, patched, denied (an answer), bad_request (400), error (lookup or bug). */
export type RequestResult = 'allowed' | 'patched' | 'denied' | 'bad_request' | 'error';

export class WebhookMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'slicenet_webhook_requests_total',
    help: 'Admission requests by webhook and result.',
    labelNames: ['webhook', 'result'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'slicenet_webhook_duration_seconds',
    help: 'Time from receiving an admission request to answering it, by webhook.',
    labelNames: ['webhook'] as const,
    // A pod review is answered in well under a millisecond; the API server gives a webhook at
    // most timeoutSeconds (5 s here).
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  private readonly connections = new Counter({
    name: 'slicenet_webhook_tls_connections_total',
    help: 'TLS connections accepted. Far fewer than requests when the API server reuses them; as many means a handshake per call.',
    registers: [this.registry],
  });

  /** Adds the process metrics (CPU, memory, event loop lag); once per process, in main. */
  withProcessMetrics(): this {
    collectDefaultMetrics({ register: this.registry });
    return this;
  }

  connectionAccepted(): void {
    this.connections.inc();
  }

  observe(webhook: string, result: RequestResult, seconds: number): void {
    this.requests.inc({ webhook, result });
    this.duration.observe({ webhook }, seconds);
  }
}
