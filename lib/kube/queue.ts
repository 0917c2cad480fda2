/**
 * The work queue between informers and reconcilers, after client-go's workqueue. Informer
 * handlers add keys (usually "namespace/name"); workers take keys out, reconcile, and call
 * `done`. The queue holds keys, never objects: a reconcile re-reads the world, so it only needs
 * to know which object to look at.
 *
 * Contract:
 * - A key waits in the queue at most once: adding a key that is already waiting does nothing,
 *   so a burst of events for one object costs one reconcile.
 * - A key is held by at most one worker at a time. Adding a key while a worker holds it marks
 *   it dirty, and `done(key)` queues it again, so the change is not lost and two reconciles of
 *   one object never overlap.
 * - Every key returned by `get` must be given back with `done`.
 * - `addAfter` delays an add; of several delays pending for one key the earliest wins.
 * - `addRateLimited` delays by the rate limiter (ratelimit.ts); `forget` resets the key's
 *   backoff and must be called when the key succeeds.
 * - `shutdown()` is final: pending and later `get`s resolve to undefined, queued keys and
 *   pending delays are dropped. Keys being processed may still be `done`. Unlike client-go the
 *   queue is not drained: a controller that shuts down (e.g. lost its leadership) must stop
 *   acting at once.
 *
 * Cost: O(1) per add and get (amortised), one timer per delayed key.
 */
import { ControllerRateLimiter, type RateLimiter } from './ratelimit.ts';

export interface WorkQueueOptions {
  rateLimiter?: RateLimiter;
}

export class WorkQueue {
  readonly rateLimiter: RateLimiter;
  /** Keys ready for a worker, oldest first; `head` avoids the O(n) Array.shift. */
  private ready: string[] = [];
  private head = 0;
  /** Keys that need a reconcile: waiting in `ready`, or re-added while being processed. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: Array<() => void> = [];
  private closed = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.rateLimiter = opts.rateLimiter ?? new ControllerRateLimiter();
  }

  /** Keys waiting for a worker (not counting delayed ones or those being processed). */
  get length(): number {
    return this.ready.length - this.head;
  }

  get shuttingDown(): boolean {
    return this.closed;
  }

  add(key: string): void {
    if (this.closed || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.processing.has(key)) this.push(key);
  }

  addAfter(key: string, ms: number): void {
    if (this.closed) return;
    if (ms <= 0) return this.add(key);
    const at = performance.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** The next key, marked as being processed; undefined once shut down or `signal` aborts. */
  get(signal?: AbortSignal): Promise<string | undefined> {
    if (this.closed || signal?.aborted) return Promise.resolve(undefined);
    if (this.length > 0) return Promise.resolve(this.take());
    return new Promise((resolve) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(undefined);
      };
      // Called synchronously right after a push (so a key is ready), or on shutdown.
      const waiter = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.closed ? undefined : this.take());
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Gives `key` back after processing; queues it again if it was added meanwhile. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.closed) this.push(key);
  }

  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    this.ready = [];
    this.head = 0;
    this.dirty.clear();
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private push(key: string): void {
    this.ready.push(key);
    this.waiters.shift()?.();
  }

  private take(): string {
    const key = this.ready[this.head++]!;
    // Compact once the consumed prefix dominates, keeping memory bounded.
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }
}
