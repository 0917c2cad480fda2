/**
 * slicenet-dns's sockets: UDP and TCP on one address and port, each message handed to
 * `respond` (query.ts) with the zone of that moment, the answer written back.
 *
 *   UDP datagram ─┐
 *                 ├─ respond(bytes, transport, store.zone) ─ send / write ─ metrics
 *   TCP frame ────┘   (synchronous: nothing blocks between a query in and its answer out)
 *
 * TCP follows RFC 7766: two-byte length prefix, pipelined queries answered in order, idle
 * connections closed, a cap on open connections. A frame announcing more than a query can be
 * closes its connection; a connection that ends mid-frame is counted. The kernel's receive
 * buffer is the only UDP queue: when the process falls behind, datagrams drop there, not here.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../lib/log.ts';
import type { DnsMetrics } from './metrics.ts';
import { MAX_QUERY_BYTES, respond, type Transport } from './query.ts';
import type { RecordStore } from './records.ts';

export interface DnsServerOptions {
  host: string;
  /** 0 picks a free port that UDP and TCP share (tests). */
  port: number;
  store: RecordStore;
  log: Logger;
  metrics?: DnsMetrics;
  /** Open TCP connections at most; more are closed at once. Default 256. */
  tcpMaxConnections?: number;
  /** A TCP connection with no query for this long is closed. Default 10 s. */
  tcpIdleMs?: number;
}

const UDP_RECV_BUFFER = 4 * 1024 * 1024;

export class DnsServer {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<Socket>();
  private boundPort = 0;

  constructor(private readonly opts: DnsServerOptions) {}

  get port(): number {
    return this.boundPort;
  }

  async start(signal?: AbortSignal): Promise<void> {
    // With port 0 the kernel picks the UDP port; TCP may find it taken, then both try again.
    for (let attempt = 0; ; attempt++) {
      const udp = await this.bindUdp(this.opts.port);
      const port = udp.address().port;
      try {
        this.tcp = await this.listenTcp(port);
        this.udp = udp;
        this.boundPort = port;
        break;
      } catch (err) {
        udp.close();
        if (this.opts.port !== 0 || attempt >= 10 || (err as { code?: string }).code !== 'EADDRINUSE')
          throw err;
      }
    }
    this.opts.log.info('serving', { host: this.opts.host, port: this.boundPort });
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  async stop(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const c of this.connections) c.destroy();
    await Promise.all([
      udp ? new Promise<void>((r) => udp.close(() => r())) : undefined,
      tcp ? new Promise<void>((r) => tcp.close(() => r())) : undefined,
    ]);
  }

  private handle(query: Buffer, transport: Transport): Buffer | undefined {
    const t0 = performance.now();
    const outcome = respond(query, transport, this.opts.store.zone);
    this.opts.metrics?.observe(transport, outcome, (performance.now() - t0) / 1000);
    return outcome.response;
  }

  private bindUdp(port: number): Promise<UdpSocket> {
    const socket = createSocket({
      type: isIPv6(this.opts.host) ? 'udp6' : 'udp4',
      recvBufferSize: UDP_RECV_BUFFER,
    });
    socket.on('message', (msg, from) => {
      const response = this.handle(msg, 'udp');
      if (response) socket.send(response, from.port, from.address);
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: this.opts.host, port }, () => {
        socket.off('error', reject);
        // A send to a client that went away is its problem, not the server's.
        socket.on('error', (err) => this.opts.log.debug('udp error', { err }));
        resolve(socket);
      });
    });
  }

  private listenTcp(port: number): Promise<Server> {
    const server = createServer((c) => this.accept(c));
    server.on('error', (err) => this.opts.log.error('tcp listener error', { err }));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.opts.host, port }, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  private accept(c: Socket): void {
    const metrics = this.opts.metrics;
    if (this.connections.size >= (this.opts.tcpMaxConnections ?? 256)) {
      metrics?.drop('tcp', 'tcp_busy');
      c.destroy();
      return;
    }
    this.connections.add(c);
    metrics?.tcpConnections.inc();
    c.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    const incomplete = (): void => {
      if (pending.length) metrics?.drop('tcp', 'tcp_incomplete');
      pending = Buffer.alloc(0);
    };
    c.setTimeout(this.opts.tcpIdleMs ?? 10_000, () => {
      incomplete();
      c.destroy();
    });
    c.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (len > MAX_QUERY_BYTES) {
          metrics?.drop('tcp', 'oversized');
          pending = Buffer.alloc(0);
          c.destroy();
          return;
        }
        if (pending.length < 2 + len) return;
        const response = this.handle(pending.subarray(2, 2 + len), 'tcp');
        pending = pending.subarray(2 + len);
        if (!response) continue;
        const frame = Buffer.allocUnsafe(2 + response.length);
        frame.writeUInt16BE(response.length, 0);
        response.copy(frame, 2);
        // A client that pipelines queries but does not read its answers waits for itself.
        if (!c.write(frame)) {
          c.pause();
          c.once('drain', () => c.resume());
        }
      }
    });
    c.on('end', () => {
      incomplete();
      c.end();
    });
    c.on('error', () => undefined);
    c.on('close', () => {
      this.connections.delete(c);
      metrics?.tcpConnections.dec();
    });
  }
}
