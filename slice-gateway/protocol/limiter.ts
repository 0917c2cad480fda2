// Handshake admission: a load detector and a token bucket per source address.
//
// Handshake messages cost an X25519 or two each, so past `threshold` messages per second
// (with valid mac1) the device counts as under load for the next second and then demands
// mac2 (see cookie.ts); a source that proved its address with mac2 still gets only `rate`
// handshakes per second with bursts of `burst` (WireGuard's 20/s, burst 5). The table of
// buckets is capped so a spray of spoofed sources cannot grow it without bound: when full,
// unknown sources are refused until idle entries age out.
import type { Clock } from './cookie.ts';

export interface LimiterOptions {
  /** Handshake messages per second above which the device is under load. */
  threshold: number;
  /** Tokens per second per source. */
  rate: number;
  burst: number;
  maxSources: number;
}

export const DEFAULT_LIMITS: LimiterOptions = { threshold: 100, rate: 20, burst: 5, maxSources: 65536 };

interface Bucket {
  tokens: number;
  at: number;
}

export class HandshakeLimiter {
  private windowStart = -Infinity;
  private windowCount = 0;
  private underLoadUntil = -Infinity;
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(
    private readonly clock: Clock,
    private readonly options: LimiterOptions = DEFAULT_LIMITS,
  ) {}

  /** Counts one handshake message and says whether the device is now under load. */
  recordAndCheckLoad(): boolean {
    const now = this.clock.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    if (++this.windowCount > this.options.threshold) this.underLoadUntil = now + 1000;
    return now < this.underLoadUntil;
  }

  /** Takes a token from the source's bucket; false when it has none left. */
  allow(source: string): boolean {
    const now = this.clock.now();
    this.sweep(now);
    let b = this.buckets.get(source);
    if (!b) {
      if (this.buckets.size >= this.options.maxSources) return false;
      b = { tokens: this.options.burst, at: now };
      this.buckets.set(source, b);
    }
    b.tokens = Math.min(this.options.burst, b.tokens + ((now - b.at) / 1000) * this.options.rate);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Once a second, forget sources whose bucket has refilled: they are as good as new. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    const full = (this.options.burst / this.options.rate) * 1000;
    for (const [source, b] of this.buckets) if (now - b.at >= full) this.buckets.delete(source);
  }
}
