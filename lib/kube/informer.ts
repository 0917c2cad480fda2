/**
 * A list-watch of one collection that never gives up, with a local cache.
 *
 * client-node's ListWatch relists when a watch expires (410 Gone), but on any other error —
 * the API server restarting, a refused connection, a 5xx on the list — it reports the error
 * and stops for good. A process that must keep working through control-plane restarts needs
 * it restarted: this class does that, with exponential backoff (200 ms doubling to 10 s,
 * back to 200 ms after a list and watch succeed). The ListWatch instance, and so its cache,
 * survives restarts: a restart resumes from the last resourceVersion, and a relist reports
 * objects that disappeared meanwhile as deletions.
 *
 * Contract:
 * - `add`, `update` and `delete` handlers run synchronously, in event order; `update` fires
 *   only when resourceVersion changed. Handlers should only record or enqueue work.
 * - Cached objects are plain JSON as the API server sends it: timestamps are strings, even
 *   where the client-node model types say Date.
 * - `start()` resolves once the first list has been received (retrying until then), or when
 *   the informer is stopped first; `synced` tells which.
 * - `stop()` is final.
 */
import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { createLogger, type Logger } from '../log.ts';

export interface Selectors {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface InformerOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** The collection's API path, e.g. `/api/v1/pods` or `/apis/k8s.cni.cncf.io/v1/namespaces/x/network-attachment-definitions`. */
  path: string;
  /** Lists the same collection; it must pass the selectors on, so list and watch agree. */
  list: (selectors: Selectors) => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  /** Names the informer in logs. */
  name?: string;
  log?: Logger;
  backoff?: { initialMs: number; maxMs: number };
}

export type Handler<T> = (obj: T) => void;

export class Informer<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
  private readonly log: Logger;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private delayMs: number;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Counts errors, so a start can tell whether one happened while it ran. */
  private errors = 0;
  private syncedOnce = false;
  private resolveSynced: () => void = () => undefined;
  private readonly syncedPromise = new Promise<void>((r) => (this.resolveSynced = r));

  constructor(opts: InformerOptions<T>) {
    const selectors: Selectors = {};
    if (opts.labelSelector !== undefined) selectors.labelSelector = opts.labelSelector;
    if (opts.fieldSelector !== undefined) selectors.fieldSelector = opts.fieldSelector;
    const list = async (): Promise<KubernetesListObject<T>> => plain(await opts.list(selectors));
    this.lw = new ListWatch<T>(
      opts.path,
      new Watch(opts.kubeConfig),
      list,
      false,
      opts.labelSelector,
      opts.fieldSelector,
    );
    this.log = (opts.log ?? createLogger('informer')).with({ informer: opts.name ?? opts.path });
    this.initialMs = opts.backoff?.initialMs ?? 200;
    this.maxMs = opts.backoff?.maxMs ?? 10_000;
    this.delayMs = this.initialMs;
    this.lw.on('error', (err) => this.failed(err));
  }

  on(event: 'add' | 'update' | 'delete', handler: Handler<T>): void {
    this.lw.on(event, handler);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.lw.list(namespace);
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  async start(): Promise<void> {
    void this.attempt();
    await this.syncedPromise;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.resolveSynced();
    await this.lw.stop();
  }

  private async attempt(): Promise<void> {
    this.restartTimer = undefined;
    if (this.stopped) return;
    const errorsBefore = this.errors;
    try {
      await this.lw.start();
    } catch (err) {
      // Thrown before the watch request was made (e.g. unreadable client certificate).
      this.failed(err);
      return;
    }
    if (this.errors !== errorsBefore || this.stopped) return;
    if (this.delayMs !== this.initialMs) this.log.info('informer recovered');
    this.delayMs = this.initialMs;
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      this.resolveSynced();
    }
  }

  private failed(err: unknown): void {
    this.errors++;
    // Stopping aborts the watch request, which ListWatch also reports as an error.
    if (this.stopped || this.restartTimer) return;
    // The first failure of an outage is an error; the retries that follow are routine.
    const fields = { err, retryInMs: this.delayMs };
    if (this.delayMs === this.initialMs) this.log.error('informer failed, restarting', fields);
    else this.log.debug('informer failed, restarting', fields);
    this.restartTimer = setTimeout(() => void this.attempt(), this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, this.maxMs);
  }
}

/**
 * A list comes back as client-node model objects (Dates in time fields), watch events as
 * parsed JSON; this makes list items look like watch objects, so the cache holds one kind.
 */
export function plain<V>(value: V): V {
  return JSON.parse(
    JSON.stringify(value, function (key, v: unknown) {
      const raw = (this as Record<string, unknown>)[key];
      return raw instanceof Date ? raw.toISOString().replace(/\.000Z$/, 'Z') : v;
    }),
  ) as V;
}
