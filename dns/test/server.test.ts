/**
 * DnsServer on 127.0.0.1, port 0: real clients (dig, from Debian's dnsutils) over UDP and TCP,
 * raw malformed datagrams and frames, answers that follow a new zone at once, TCP limits.
 */
import anyTest, { type TestFn } from 'ava';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import dnsPacket from 'dns-packet';
import { run } from '../../lib/exec.ts';
import type { Logger } from '../../lib/log.ts';
import { waitFor } from '../../lib/wait.ts';
import { DnsMetrics } from '../metrics.ts';
import { RecordStore, type ImportedService } from '../records.ts';
import { DnsServer } from '../server.ts';
import { ensureDig } from './helpers/tools.ts';

const quiet: Logger = {
  info: () => undefined,
  debug: () => undefined,
  error: () => undefined,
  with: () => quiet,
};
const test = anyTest as TestFn<{ server: DnsServer; store: RecordStore; registry: Registry }>;

const services = (ready: boolean[]): ImportedService[] => [
  {
    namespace: 'shop',
    name: 'web',
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    endpoints: ready.map((r, i) => ({
      ip: `10.90.0.${i + 1}`,
      cluster: 'east',
      hostname: `web-${i}`,
      ready: r,
    })),
  },
  {
    namespace: 'shop',
    name: 'big',
    ports: [],
    endpoints: Array.from({ length: 60 }, (_, i) => ({
      ip: `10.90.1.${i + 1}`,
      cluster: 'west',
      ready: true,
    })),
  },
];

test.before(() => ensureDig());

test.beforeEach(async (t) => {
  const registry = new Registry();
  const store = new RecordStore({ ttl: 5 });
  store.replace(services([true, true]));
  const server = new DnsServer({
    host: '127.0.0.1',
    port: 0,
    store,
    log: quiet,
    metrics: new DnsMetrics(registry, store),
    tcpMaxConnections: 4,
    tcpIdleMs: 30_000,
  });
  await server.start();
  t.context = { server, store, registry };
});
test.afterEach.always((t) => t.context.server?.stop());

const dig = (port: number, ...args: string[]): Promise<string> =>
  run(['dig', '@127.0.0.1', '-p', String(port), '+tries=1', '+time=3', ...args]);
const short = async (port: number, ...args: string[]): Promise<string[]> =>
  (await dig(port, '+short', ...args)).trim().split('\n').filter(Boolean);
const status = async (port: number, ...args: string[]): Promise<string> =>
  /status: (\w+)/.exec(await dig(port, ...args))?.[1] ?? 'none';

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values ?? []).find((x) =>
    Object.entries(labels).every(([k, val]) => (x.labels as Record<string, unknown>)[k] === val),
  );
  return v?.value ?? 0;
}

test('dig over UDP and TCP: A, per-endpoint A, SRV, NXDOMAIN, REFUSED, no recursion', async (t) => {
  const { port } = t.context.server;
  t.deepEqual(await short(port, 'web.shop.svc.slice.local'), ['10.90.0.1', '10.90.0.2']);
  t.deepEqual(await short(port, '+tcp', 'web.shop.svc.slice.local'), ['10.90.0.1', '10.90.0.2']);
  t.deepEqual(await short(port, 'web-1.east.web.shop.svc.slice.local'), ['10.90.0.2']);
  t.deepEqual(await short(port, '_http._tcp.web.shop.svc.slice.local', 'SRV'), [
    '0 50 80 web-0.east.web.shop.svc.slice.local.',
    '0 50 80 web-1.east.web.shop.svc.slice.local.',
  ]);
  t.is(await status(port, 'nope.shop.svc.slice.local'), 'NXDOMAIN');
  t.is(await status(port, 'example.com'), 'REFUSED');
  const full = await dig(port, 'web.shop.svc.slice.local');
  t.regex(full, /flags: qr aa rd;/);
  t.regex(full, /udp: 1232/);
  t.is(await metric(t.context.registry, 'slicenet_dns_queries_total', { rcode: 'NXDOMAIN' }), 1);
});

test('a large answer: TC over UDP without EDNS, dig retries over TCP and gets it whole', async (t) => {
  const { port } = t.context.server;
  const cut = await dig(port, '+noedns', '+ignore', 'big.shop.svc.slice.local');
  t.regex(cut, /flags: qr aa tc rd;/);
  t.is((await short(port, '+noedns', 'big.shop.svc.slice.local')).length, 60);
  t.true((await metric(t.context.registry, 'slicenet_dns_truncated_total', {})) >= 1);
});

test('answers follow readiness at once: the next query after a swap sees it', async (t) => {
  const { port } = t.context.server;
  t.context.store.replace(services([false, true]));
  t.deepEqual(await short(port, 'web.shop.svc.slice.local'), ['10.90.0.2']);
  t.is(await status(port, 'web-0.east.web.shop.svc.slice.local'), 'NXDOMAIN');
  t.context.store.replace(services([false, false]));
  t.deepEqual(await short(port, 'web.shop.svc.slice.local'), []);
  t.is(await status(port, 'web.shop.svc.slice.local'), 'NOERROR');
});

/** Sends every datagram at once; gathers replies until `expected` IDs answered, then a little more. */
async function udpExchange(
  port: number,
  datagrams: Buffer[],
  expected: number[],
): Promise<Map<number, Buffer>> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  try {
    const replies = new Map<number, Buffer>();
    socket.on('message', (m) => replies.set(m.readUInt16BE(0), m));
    for (const d of datagrams) socket.send(d, port, '127.0.0.1');
    await waitFor(() => Promise.resolve(expected.every((id) => replies.has(id))), 10_000, 'UDP replies');
    await new Promise((r) => setTimeout(r, 300));
    return replies;
  } finally {
    socket.close();
  }
}

const good = (id: number, name = 'web.shop.svc.slice.local'): Buffer =>
  dnsPacket.encode({ id, type: 'query', questions: [{ name, type: 'A' }] });
const rawHeader = (id: number, qd: number, flags = 0): Buffer => {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qd, 4);
  return h;
};
const loop = (id: number): Buffer => Buffer.concat([rawHeader(id, 1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
const rcodeOf = (b: Buffer | undefined): number | undefined => (b ? b[3]! & 0xf : undefined);

test('raw UDP: malformed datagrams get an error or nothing, counted by reason; the server keeps answering', async (t) => {
  const { port } = t.context.server;
  const chaos = Buffer.from(good(6));
  chaos.writeUInt16BE(3, chaos.length - 2);
  const response = Buffer.from(good(2));
  response[2] = response[2]! | 0x80;
  const replies = await udpExchange(
    port,
    [
      Buffer.from([1, 2, 3]), // short
      response, // a response: never answered
      Buffer.concat([good(3), Buffer.alloc(2000)]), // oversized
      good(4).subarray(0, 20), // truncated
      loop(5), // compression loop
      chaos, // class CH
      Buffer.concat([rawHeader(7, 2), good(7).subarray(12), good(7).subarray(12)]), // two questions
      good(8),
    ],
    [3, 4, 5, 6, 7, 8],
  );
  t.deepEqual(
    [...replies.keys()].sort((a, b) => a - b),
    [3, 4, 5, 6, 7, 8],
  );
  t.deepEqual(
    [3, 4, 5, 6, 7, 8].map((id) => rcodeOf(replies.get(id))),
    [1, 1, 1, 5, 1, 0],
  );
  const reg = t.context.registry;
  for (const reason of [
    'short_header',
    'response',
    'oversized',
    'truncated',
    'bad_pointer',
    'bad_class',
    'question_count',
  ])
    t.is(await metric(reg, 'slicenet_dns_bad_queries_total', { transport: 'udp', reason }), 1, reason);
  t.is(await metric(reg, 'slicenet_dns_dropped_total', { reason: 'response' }), 1);
  t.deepEqual(await short(port, 'web.shop.svc.slice.local'), ['10.90.0.1', '10.90.0.2']);
});

function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

/** Opens a connection that gathers every reply frame. */
async function tcpClient(
  port: number,
): Promise<{ socket: Socket; replies: Buffer[]; closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((r, j) => socket.once('connect', () => r()).once('error', j));
  const replies: Buffer[] = [];
  let buf = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      replies.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + buf.readUInt16BE(0));
    }
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return { socket, replies, closed };
}

test('raw TCP: pipelined queries and malformed frames answered in order on one connection', async (t) => {
  const { port } = t.context.server;
  const c = await tcpClient(port);
  t.teardown(() => c.socket.destroy());
  const queries = [
    good(1),
    loop(2),
    good(3).subarray(0, 15),
    good(4),
    ...Array.from({ length: 100 }, (_, i) => good(100 + i)),
  ];
  // One write, frames split at odd places by the kernel or not: either way all must come back.
  c.socket.write(Buffer.concat(queries.map(frame)));
  await waitFor(() => Promise.resolve(c.replies.length === queries.length), 10_000, 'all TCP replies');
  t.deepEqual(
    c.replies.map((r) => r.readUInt16BE(0)),
    queries.map((q) => q.readUInt16BE(0)),
  );
  t.deepEqual(c.replies.slice(0, 4).map(rcodeOf), [0, 1, 1, 0]);
});

test('raw TCP: a frame too long for a query closes the connection; a cut frame is counted', async (t) => {
  const { port } = t.context.server;
  const big = await tcpClient(port);
  big.socket.write(Buffer.from([0xff, 0xff, 0, 0]));
  await big.closed;
  const cut = await tcpClient(port);
  cut.socket.end(frame(good(9)).subarray(0, 10));
  await cut.closed;
  const reg = t.context.registry;
  await waitFor(
    async () => (await metric(reg, 'slicenet_dns_dropped_total', { reason: 'tcp_incomplete' })) === 1,
    5000,
    'the cut frame counted',
  );
  t.is(await metric(reg, 'slicenet_dns_dropped_total', { transport: 'tcp', reason: 'oversized' }), 1);
  t.deepEqual(await short(port, '+tcp', 'web.shop.svc.slice.local'), ['10.90.0.1', '10.90.0.2']);
});

test('raw TCP: connections past the cap are closed at once', async (t) => {
  const { port } = t.context.server;
  const reg = t.context.registry;
  const clients = await Promise.all(Array.from({ length: 4 }, () => tcpClient(port)));
  t.teardown(() => clients.forEach((c) => c.socket.destroy()));
  await waitFor(
    async () => (await metric(reg, 'slicenet_dns_tcp_connections', {})) === 4,
    20_000,
    '4 accepted',
  );
  const extra = await tcpClient(port);
  await extra.closed;
  t.is(await metric(reg, 'slicenet_dns_dropped_total', { reason: 'tcp_busy' }), 1);
  t.is(await metric(reg, 'slicenet_dns_tcp_connections', {}), 4);
});

test('raw TCP: an idle connection is closed after the timeout', async (t) => {
  const registry = new Registry();
  const store = new RecordStore();
  const server = new DnsServer({
    host: '127.0.0.1',
    port: 0,
    store,
    log: quiet,
    metrics: new DnsMetrics(registry, store),
    tcpIdleMs: 300,
  });
  await server.start();
  t.teardown(() => server.stop());
  const c = await tcpClient(server.port);
  t.teardown(() => c.socket.destroy());
  const t0 = Date.now();
  await c.closed;
  t.true(Date.now() - t0 < 10_000);
  await waitFor(
    async () => (await metric(registry, 'slicenet_dns_tcp_connections', {})) === 0,
    5000,
    'none open',
  );
  t.pass();
});
