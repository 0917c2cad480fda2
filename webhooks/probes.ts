/**
 * /healthz, /readyz and /metrics on a plain-HTTP port of their own, as controller-runtime
 * does: the kubelet and Prometheus need no CA for it, and the probes answer while the TLS
 * certificate is still being set up (or cannot be), which is exactly when they matter.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookMetrics } from './metrics.ts';

export interface ProbeServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  metrics: WebhookMetrics;
  /** Why the webhook is not ready yet, or undefined when it is. */
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
        this.opts.metrics.text().then(
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
