/**
 * Several processes serving one DNS port. One Node process tops out on per-datagram work in
 * the runtime (a dgram send and receive cost far more than the lookup), so slicenet-dns runs
 * `--workers` cluster workers that share the primary's UDP socket and take turns on TCP
 * connections; every worker holds the whole zone and follows the records file itself. The
 * primary serves the probes (metrics summed over workers) and restarts a worker that dies.
 *
 * Messages worker → primary: {type: 'dns-ready', port} once it serves.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../lib/log.ts';

export interface ReadyMessage {
  type: 'dns-ready';
  port: number;
}

const isReady = (m: unknown): m is ReadyMessage => (m as { type?: unknown } | null)?.type === 'dns-ready';

export class Supervisor {
  private readonly ready = new Set<Worker>();
  private stopping = false;
  private servingPort = 0;

  constructor(
    private readonly count: number,
    private readonly log: Logger,
  ) {}

  /** Why not every worker serves yet, or undefined. */
  notReady(): string | undefined {
    return this.ready.size === this.count ? undefined : `${this.ready.size} of ${this.count} workers serving`;
  }

  get port(): number {
    return this.servingPort;
  }

  /** Forks the workers; resolves when all serve, rejects if one fails before it does. */
  start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    return new Promise((resolve, reject) => {
      let started = false;
      const fork = (): void => {
        const w = cluster.fork();
        w.on('message', (m: unknown) => {
          if (!isReady(m)) return;
          this.servingPort = m.port;
          this.ready.add(w);
          if (!started && this.ready.size === this.count) {
            started = true;
            resolve();
          }
        });
        w.on('exit', (code, sig) => {
          this.ready.delete(w);
          if (this.stopping) return;
          this.log.error('worker exited', { pid: w.process.pid, code, signal: sig });
          if (!started) {
            reject(new Error(`a DNS worker exited with ${code ?? sig} before serving; see its log above`));
            void this.stop();
            return;
          }
          setTimeout(() => !this.stopping && fork(), 1000);
        });
      };
      for (let i = 0; i < this.count; i++) fork();
    });
  }

  /** Stops every worker (SIGTERM) and waits for them to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.process.kill('SIGTERM');
          }),
      ),
    );
  }
}
