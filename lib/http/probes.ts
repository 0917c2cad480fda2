/**
 * /healthz, /readyz and /metrics on a plain-HTTP port of their own, as controller-runtime
 * does, for every Slicenet process: the kubelet and Prometheus need no CA for it, and the
 * probes answer while the process is still setting up (a webhook's TLS certificate, an
 * informer's first list), which is exactly when they matter.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ProbeServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The process's metrics registry. */
  metrics: Registry;
  /** Why the process is not ready yet, or undefined when it is. */
  notReady: () => string | undefined;
}

export class ProbeServer {
  private server: Server | undefined;

  constructor(private readonly opts: ProbeServerOptions) {}

  async start(signal: AbortSignal): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const send = (status: number, body: string, type = 'text/plain; charset=utf-8'): void =>
        void res.writeHead(status, { 'Content-Type': type }).end(body);
      if (path === '/healthz') return send(200, 'ok\n');
      if (path === '/readyz') {
        const why = this.opts.notReady();
        return why === undefined ? send(200, 'ok\n') : send(503, `not ready: ${why}\n`);
      }
      if (path === '/metrics') {
        this.opts.metrics.metrics().then(
          (text) => send(200, text, this.opts.metrics.contentType),
          (err: Error) => send(500, `metrics: ${err.message}\n`),
        );
        return;
      }
      send(404, 'try /healthz, /readyz or /metrics\n');
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.opts.host, port: this.opts.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    signal.addEventListener('abort', () => void this.stop(), { once: true });
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await closed;
  }
}
