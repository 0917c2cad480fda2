/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection: of all
 * the replicas of a controller, one acts at a time.
 *
 * Contract:
 * - `run(signal)` contends for the Lease until it holds it, then calls
 *   `onStartedLeading(leading)` and renews every `retryPeriodMs`. It resolves when leadership
 *   ends — `signal` aborted, the lease lost, or onStartedLeading threw — after it has aborted
 *   `leading`, waited for onStartedLeading's promise to settle, released the lease (unless it
 *   was lost) and called `onStoppedLeading()`. If `signal` aborts before the lease is won, run
 *   resolves and neither callback is called. To contend again, call run again.
 * - onStartedLeading must stop all leader work promptly when `leading` aborts: nothing else
 *   stops it, and the lease is released only after it returns.
 * - Leadership is lost when the Lease names another holder, or when no renewal has succeeded
 *   for `renewDeadlineMs`. That deadline is shorter than the lease duration, so a leader cut
 *   off from the API server stops before any other candidate can take the lease over.
 * - Another holder's lease counts as expired once it has gone unchanged (same
 *   resourceVersion) for its leaseDurationSeconds, timed on this process's monotonic clock from
 *   when we first saw that version. Clocks of different machines are never compared, so clock
 *   skew cannot make two leaders; the price is that a new candidate waits up to one lease
 *   duration even for a lease that went stale long ago. A released lease (no holder) is taken
 *   at once.
 * - Every write carries the resourceVersion just read: when two candidates write at once, one
 *   gets 409 Conflict and simply keeps contending.
 * - API errors never escape run: they are logged and retried. Bad options throw
 *   LeaderConfigError from the constructor, which does no I/O.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CoordinationV1Api,
  Observable,
  V1MicroTime,
  type ConfigurationOptions,
  type KubeConfig,
  type V1Lease,
} from '@kubernetes/client-node';
import { SlicenetError } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';
import { isConflict, isNotFound } from './client.ts';

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  /** Unique per process; default `<hostname>_<uuid>`. */
  identity?: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: (leading: AbortSignal) => void | Promise<void>;
  onStoppedLeading?: () => void;
  log?: Logger;
}

export class LeaderConfigError extends SlicenetError {
  constructor(setting: string, message: string) {
    super('LEADER_CONFIG_INVALID', `leader election: ${setting} ${message}`);
  }
}

type Attempt = 'held' | 'other' | 'conflict';

export class LeaderElector {
  readonly identity: string;
  private readonly api: CoordinationV1Api;
  private readonly log: Logger;
  private readonly leaseSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private leading = false;
  /** The version of the Lease we last saw change, and when (performance.now()). */
  private observed: { resourceVersion: string; at: number } | undefined;
  private failures = 0;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
    this.leaseSeconds = opts.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    if (!opts.name || !opts.namespace) throw new LeaderConfigError('lease', 'needs a name and a namespace');
    if (!Number.isInteger(this.leaseSeconds) || this.leaseSeconds < 1)
      throw new LeaderConfigError('leaseDurationSeconds', 'must be a whole number of seconds, at least 1');
    if (!(this.renewDeadlineMs < this.leaseSeconds * 1000))
      throw new LeaderConfigError('renewDeadlineMs', 'must be shorter than the lease duration');
    if (!(this.retryMs > 0 && this.retryMs < this.renewDeadlineMs))
      throw new LeaderConfigError('retryPeriodMs', 'must be positive and shorter than renewDeadlineMs');
    this.api = opts.kubeConfig.makeApiClient(CoordinationV1Api);
    this.log = (opts.log ?? createLogger('leader')).with({
      lease: `${opts.namespace}/${opts.name}`,
      identity: this.identity,
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  async run(signal: AbortSignal): Promise<void> {
    if (!(await this.acquire(signal))) return;
    const leading = new AbortController();
    this.leading = true;
    this.log.info('started leading');
    const work = (async () => {
      try {
        await this.opts.onStartedLeading(leading.signal);
      } catch (err) {
        this.log.error('leader work failed, stepping down', { err });
        leading.abort();
      }
    })();
    const lost = await this.renew(AbortSignal.any([signal, leading.signal]));
    leading.abort();
    await work;
    this.leading = false;
    if (!lost) await this.release();
    this.log.info('stopped leading', { lost });
    this.opts.onStoppedLeading?.();
  }

  /** Retries until the lease is ours (true) or `signal` aborts (false). */
  private async acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if ((await this.attempt(signal, 'acquire', this.renewDeadlineMs)) === 'held') return true;
      // A little jitter, so candidates that started together do not keep colliding.
      const wait = this.retryMs * (1 + Math.random() * 0.2);
      if (!(await pause(wait, signal))) return false;
    }
    return false;
  }

  /** Renews until `signal` aborts (false) or leadership is lost (true). */
  private async renew(signal: AbortSignal): Promise<boolean> {
    let renewedAt = performance.now();
    for (;;) {
      if (!(await pause(this.retryMs, signal))) return false;
      const left = this.renewDeadlineMs - (performance.now() - renewedAt);
      const result = await this.attempt(signal, 'renew', Math.max(1, Math.ceil(left)));
      if (signal.aborted) return false;
      if (result === 'held') renewedAt = performance.now();
      if (result === 'other') return true;
      if (performance.now() - renewedAt >= this.renewDeadlineMs) {
        this.log.error('lease not renewed within the deadline', { renewDeadlineMs: this.renewDeadlineMs });
        return true;
      }
    }
  }

  /** One read-and-write of the Lease, cut off after `timeoutMs`; undefined if it failed. */
  private async attempt(signal: AbortSignal, what: string, timeoutMs: number): Promise<Attempt | undefined> {
    const requestSignal = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    try {
      const r = await this.tryAcquireOrRenew(withSignal(requestSignal));
      if (this.failures > 0) this.log.info('lease API reachable again', { failures: this.failures });
      this.failures = 0;
      return r;
    } catch (err) {
      if (signal.aborted) return undefined;
      // The first failure of an outage is an error; the retries that follow are routine.
      if (this.failures++ === 0) this.log.error(`lease ${what} failed`, { err });
      else this.log.debug(`lease ${what} failed`, { err });
      return undefined;
    }
  }

  private async tryAcquireOrRenew(options: ConfigurationOptions): Promise<Attempt> {
    const { name, namespace } = this.opts;
    const now = new V1MicroTime(Date.now());
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace }, options);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const body: V1Lease = {
        metadata: { name, namespace },
        spec: {
          holderIdentity: this.identity,
          leaseDurationSeconds: this.leaseSeconds,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        },
      };
      return this.write(() => this.api.createNamespacedLease({ namespace, body }, options));
    }
    this.observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const mine = holder === this.identity;
    // A leader never takes its lease back from someone else: that someone may be acting.
    if (!mine && (this.leading || (holder !== '' && !this.expired(spec.leaseDurationSeconds))))
      return 'other';
    if (!mine) this.log.debug('taking over the lease', { previousHolder: holder || undefined });
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseSeconds,
        renewTime: now,
        acquireTime: mine ? spec.acquireTime : now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    return this.write(() => this.api.replaceNamespacedLease({ name, namespace, body }, options));
  }

  private async write(send: () => Promise<V1Lease>): Promise<Attempt> {
    try {
      this.observe(await send());
      return 'held';
    } catch (err) {
      if (isConflict(err)) return 'conflict';
      throw err;
    }
  }

  private observe(lease: V1Lease): void {
    const rv = lease.metadata?.resourceVersion ?? '';
    if (this.observed?.resourceVersion !== rv) this.observed = { resourceVersion: rv, at: performance.now() };
  }

  private expired(leaseSeconds: number | undefined): boolean {
    const at = this.observed?.at ?? performance.now();
    return performance.now() - at >= (leaseSeconds ?? this.leaseSeconds) * 1000;
  }

  /** Clears the holder so a successor need not wait for expiry; best effort. */
  private async release(): Promise<void> {
    const { name, namespace } = this.opts;
    const options = withSignal(AbortSignal.timeout(this.renewDeadlineMs));
    try {
      const lease = await this.api.readNamespacedLease({ name, namespace }, options);
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = new V1MicroTime(Date.now());
      const spec = {
        ...lease.spec,
        holderIdentity: undefined,
        leaseDurationSeconds: 1,
        renewTime: now,
        acquireTime: now,
      };
      await this.api.replaceNamespacedLease({ name, namespace, body: { ...lease, spec } }, options);
      this.log.info('released the lease');
    } catch (err) {
      this.log.error('releasing the lease failed; it will expire', { err });
    }
  }
}

/** Sleeps; false if `signal` aborted first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Request options that abort the HTTP request with `signal` (client-node has no timeout of its own). */
function withSignal(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(signal);
          return new Observable(Promise.resolve(ctx));
        },
        post: (rsp) => new Observable(Promise.resolve(rsp)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}
