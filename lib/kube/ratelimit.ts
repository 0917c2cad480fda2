/**
 * How long a failed key waits before it is retried, after client-go's default controller rate
 * limiter: the longer of a per-key exponential backoff and an overall token bucket.
 *
 * The per-key backoff keeps one broken object from spinning a worker; the bucket bounds what
 * the whole controller asks of the API server when many keys fail at once (an outage, a bad
 * rollout), where per-key backoff alone would retry every key after 5 ms.
 */

export interface RateLimiter {
  /** The delay before `key` may be retried; counts as one more failure of `key`. */
  when(key: string): number;
  /** Forgets the failures of `key`: its next failure starts the backoff from the beginning. */
  forget(key: string): void;
  /** How many times in a row `key` has failed. */
  numRequeues(key: string): number;
}

/** Per-key backoff: base, 2×base, 4×base … capped at max. */
export class ExponentialBackoff implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 60_000,
  ) {}

  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2 ** n becomes Infinity past n = 1023, which min() still caps.
    return Math.min(this.maxMs, this.baseMs * 2 ** n);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * A token bucket of `burst` tokens refilled at `qps` per second. A reservation always
 * succeeds; when the bucket is empty it says how long to wait for the token, so reservations
 * made in a burst are spread out at `qps`.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  reserve(): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.qps) / 1000);
    this.last = t;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }
}

export interface ControllerRateLimiterOptions {
  baseMs?: number;
  maxMs?: number;
  qps?: number;
  burst?: number;
  now?: () => number;
}

/** The default for controllers: max(per-key 5 ms → 60 s, bucket 10 qps burst 100). */
export class ControllerRateLimiter implements RateLimiter {
  private readonly backoff: ExponentialBackoff;
  private readonly bucket: TokenBucket;

  constructor(opts: ControllerRateLimiterOptions = {}) {
    this.backoff = new ExponentialBackoff(opts.baseMs, opts.maxMs);
    this.bucket = new TokenBucket(opts.qps, opts.burst, opts.now);
  }

  when(key: string): number {
    return Math.max(this.backoff.when(key), this.bucket.reserve());
  }

  forget(key: string): void {
    this.backoff.forget(key);
  }

  numRequeues(key: string): number {
    return this.backoff.numRequeues(key);
  }
}
