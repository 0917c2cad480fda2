/**
 * The HTTPS admission server: one path per webhook, bodies capped and checked before any
 * handler runs, and every failure answered rather than thrown, so that no request can take
 * the process down.
 *
 * Answers: a body that is not an AdmissionReview the webhook can use gets HTTP 400 with a
 * plain-text message (the API server logs it and applies the failure policy). Once a review
 * has a uid, a failure to decide (a lookup failed) is answered as a denial whose status
 * carries the reason, so the user creating the object sees why rather than "webhook failed".
 *
 * Plain node:https rather than express: four routes, and the body cap, content type and error
 * mapping are each a few lines here, where express would add a dependency and a body-parser
 * whose errors would need mapping anyway.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../lib/log.ts';
import { AdmissionReviewError, httpStatusOf } from './errors.ts';
import type { AdmissionHandler } from './handlers.ts';
import type { RequestResult, WebhookMetrics } from './metrics.ts';
import { deny, parseReview, reviewOf } from './review.ts';

/** Longer than the 90 s the API server keeps an idle connection, so that it closes first. */
export const KEEP_ALIVE_MS = 120_000;

export interface TlsMaterial {
  cert: string;
  key: string;
}

export interface AdmissionServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  maxBodyBytes: number;
  /** URL path → handler; the metric's `webhook` label is the path without its slash. */
  handlers: Record<string, AdmissionHandler>;
  metrics: WebhookMetrics;
  log: Logger;
}

export class AdmissionServer {
  private server: Server | undefined;

  constructor(private readonly opts: AdmissionServerOptions) {}

  async start(tls: TlsMaterial, signal: AbortSignal): Promise<void> {
    const server = createServer({ ...tls, minVersion: 'TLSv1.2' }, (req, res) => void this.serve(req, res));
    // The API server waits at most timeoutSeconds; a client slower than this is not one.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    // The API server (Go's http.Transport, HTTP/1.1: it never offers h2 to webhooks) keeps an
    // idle connection for 90 s. Node's default of 5 s closed them at every pause in pod
    // creation, so the next burst paid a TLS handshake per connection on both sides, and a
    // request sent just as a close arrived failed or had to be retried.
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.on('secureConnection', () => this.opts.metrics.connectionAccepted());
    server.on('tlsClientError', (err) => this.opts.log.debug('tls handshake failed', { err }));
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

  /** Swaps the serving certificate; connections already open keep theirs. */
  setTls(tls: TlsMaterial): void {
    this.server?.setSecureContext(tls);
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), 5000);
    await closed;
    clearTimeout(timer);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const path = (req.url ?? '/').split('?')[0]!;
    const handler = this.opts.handlers[path];
    if (!handler) return plain(res, 404, `no webhook at ${path}`);
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return plain(res, 405, `${path} takes POST`);
    }
    const webhook = path.slice(1);
    const done = (result: RequestResult): void =>
      this.opts.metrics.observe(webhook, result, Number(process.hrtime.bigint() - started) / 1e9);
    let uid: string | undefined;
    try {
      const review = parseReview(await readBody(req, this.opts.maxBodyBytes));
      uid = review.uid;
      const answer = await handler(review);
      json(res, 200, reviewOf(answer.response));
      done(answer.result);
      const fields = { webhook, uid, namespace: review.namespace, result: answer.result };
      if (answer.result === 'denied')
        this.opts.log.info('admission denied', { ...fields, message: answer.response.status?.message });
      else this.opts.log.debug('admission answered', fields);
    } catch (err) {
      const status = httpStatusOf(err);
      if (status === 400 || uid === undefined) {
        // The rest of an unread body is drained, not read, and the connection not reused.
        res.setHeader('Connection', 'close');
        req.resume();
        plain(res, status, (err as Error).message);
        done(status === 400 ? 'bad_request' : 'error');
        this.opts.log.info('bad admission request', { webhook, status, err });
        return;
      }
      json(res, 200, reviewOf(deny(uid, status, (err as Error).message, 'InternalError')));
      done('error');
      this.opts.log.error('admission failed', { webhook, uid, err });
    }
  }
}

/** Reads a JSON body of at most `max` bytes, or throws AdmissionReviewError saying why not. */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    return Promise.reject(
      new AdmissionReviewError(`content type ${JSON.stringify(type || '(none)')}; send application/json`),
    );
  }
  const tooLarge = (): AdmissionReviewError =>
    new AdmissionReviewError(`body is larger than the ${max}-byte limit`);
  if (Number(req.headers['content-length'] ?? 0) > max) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      req.off('data', onData);
      reject(tooLarge());
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

function plain(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(message + '\n');
}

function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
