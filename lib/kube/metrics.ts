/**
 * Reconcile metrics (SPEC §8), one set per process, labelled by controller:
 *   slicenet_reconciles_total{controller, result}    result: success, requeue, terminal, error
 *   slicenet_reconcile_duration_seconds{controller}
 *   slicenet_workqueue_depth{controller}              keys waiting, read at scrape time
 * `hook(controller, queue)` gives the `onReconcile` option of `runWorkers`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WorkQueue } from './queue.ts';
import type { ReconcileEvent } from './workers.ts';

export class ReconcileMetrics {
  private readonly queues = new Map<string, WorkQueue>();
  private readonly total: Counter<'controller' | 'result'>;
  private readonly duration: Histogram<'controller'>;

  constructor(registry: Registry) {
    this.total = new Counter({
      name: 'slicenet_reconciles_total',
      help: 'Reconciles by controller and result (success, requeue, terminal, error).',
      labelNames: ['controller', 'result'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'slicenet_reconcile_duration_seconds',
      help: 'Time one reconcile took, by controller.',
      labelNames: ['controller'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    });
    const queues = this.queues;
    new Gauge({
      name: 'slicenet_workqueue_depth',
      help: 'Keys waiting in a controller work queue.',
      labelNames: ['controller'],
      registers: [registry],
      collect() {
        for (const [controller, queue] of queues) this.set({ controller }, queue.length);
      },
    });
  }

  hook(controller: string, queue: WorkQueue): (event: ReconcileEvent) => void {
    this.queues.set(controller, queue);
    return (event) => {
      this.total.inc({ controller, result: event.outcome });
      this.duration.observe({ controller }, event.durationMs / 1000);
    };
  }
}
