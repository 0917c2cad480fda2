/**
 * Runs a reconcile function over a work queue with n workers, controller-runtime style.
 *
 * A reconcile gets a key and converges the world to the object it names (level-triggered: it
 * re-reads everything it needs, and does not care which event queued it). It ends in one of
 * four ways, each with a fixed consequence:
 * - returns nothing or `{}`: success; the key's backoff is forgotten.
 * - returns `{ requeueAfter: ms }`: success, look again in ms (polling something that has no
 *   watch, a timeout); the backoff is forgotten.
 * - throws a TerminalError: retrying cannot help until the object changes; logged, forgotten.
 * - throws anything else: retried with the queue's rate limiter (5 ms doubling to 60 s).
 *
 * `runWorkers` resolves once `signal` aborts and every reconcile in flight has returned; the
 * reconcile gets the same signal to cut its API calls short.
 */
import { randomUUID } from 'node:crypto';
import { createLogger, type Logger } from '../log.ts';
import { TerminalError } from './errors.ts';
import type { WorkQueue } from './queue.ts';

export interface ReconcileResult {
  requeueAfter?: number;
}

export interface ReconcileContext {
  signal: AbortSignal;
  /** A logger carrying the key and a fresh `reconcileID`. */
  log: Logger;
}

export type Reconcile = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult | void>;

export type ReconcileOutcome = 'success' | 'requeue' | 'terminal' | 'error';

export interface ReconcileEvent {
  key: string;
  outcome: ReconcileOutcome;
  durationMs: number;
}

export interface WorkerOptions {
  /** Names the controller in logs. */
  name?: string;
  log?: Logger;
  /** Called after every reconcile; the metrics hook. */
  onReconcile?: (event: ReconcileEvent) => void;
}

export async function runWorkers(
  queue: WorkQueue,
  n: number,
  reconcile: Reconcile,
  signal: AbortSignal,
  opts: WorkerOptions = {},
): Promise<void> {
  const log = (opts.log ?? createLogger('controller')).with({ controller: opts.name ?? 'controller' });
  const stop = (): void => queue.shutdown();
  if (signal.aborted) stop();
  signal.addEventListener('abort', stop, { once: true });

  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get(signal);
      if (key === undefined) return;
      let event: ReconcileEvent;
      try {
        event = await reconcileOne(key);
      } finally {
        queue.done(key);
      }
      try {
        opts.onReconcile?.(event);
      } catch (err) {
        log.error('reconcile hook failed', { err });
      }
    }
  };

  const reconcileOne = async (key: string): Promise<ReconcileEvent> => {
    const klog = log.with({ key, reconcileID: randomUUID() });
    const start = performance.now();
    const event = (outcome: ReconcileOutcome): ReconcileEvent => ({
      key,
      outcome,
      durationMs: performance.now() - start,
    });
    try {
      const result = await reconcile(key, { signal, log: klog });
      queue.forget(key);
      const after = result?.requeueAfter;
      if (after !== undefined && after > 0) {
        queue.addAfter(key, after);
        klog.debug('reconciled, requeue', { requeueAfterMs: after });
        return event('requeue');
      }
      klog.debug('reconciled');
      return event('success');
    } catch (err) {
      if (err instanceof TerminalError) {
        queue.forget(key);
        klog.error('reconcile failed, not retrying', { err, code: err.code });
        return event('terminal');
      }
      queue.addRateLimited(key);
      // An abort at shutdown makes in-flight API calls fail; that is not worth an error line.
      const fields = { err, requeues: queue.numRequeues(key) };
      if (signal.aborted) klog.debug('reconcile failed, retrying', fields);
      else klog.error('reconcile failed, retrying', fields);
      return event('error');
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, n) }, worker));
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
