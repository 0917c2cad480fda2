/**
 * UDP scenario, run inside a namespace of its own by udp.test.ts: every socket is bound to
 * 127.0.0.1 there, so all traffic stays on that namespace's loopback. Prints one JSON line.
 */
import {
  UdpReader,
  ipv4ToU32,
  itemOf,
  newDatagrams,
  openUdp,
  u32ToIpv4,
  type Datagrams,
  type UdpSocket,
} from '../../index.ts';
import { thrown, until } from './netns.ts';

const LO = '127.0.0.1';

function datagrams(items: { to: UdpSocket; data: Buffer }[]): Datagrams {
  const d = newDatagrams(
    items.length,
    items.reduce((s, x) => s + x.data.length, 0),
  );
  let pos = 0;
  items.forEach((x, i) => {
    x.data.copy(d.buf, pos);
    d.offsets[i] = pos;
    d.lengths[i] = x.data.length;
    d.addrs[i] = ipv4ToU32(LO);
    d.ports[i] = x.to.port;
    pos += x.data.length;
  });
  d.count = items.length;
  return d;
}

const payload = (i: number, n: number) => {
  const p = Buffer.alloc(n, i & 0xff);
  if (n >= 4) p.writeUInt32BE(i, 0);
  return p;
};

function listen(sock: UdpSocket, opts = {}) {
  const got: { from: string; data: Buffer }[] = [];
  const sizes: number[] = [];
  const reader = new UdpReader(
    sock,
    (b) => {
      sizes.push(b.count);
      for (let i = 0; i < b.count; i++)
        got.push({ from: `${u32ToIpv4(b.addrs[i]!)}:${b.ports[i]}`, data: itemOf(b, i) });
    },
    undefined,
    opts,
  );
  reader.start();
  return { got, sizes, reader };
}

const report: Record<string, unknown> = {};
const a = openUdp({ address: LO, port: 0 });
// 4 MiB: the default 208 KiB receive buffer drops part of a 360 KB burst before we read it.
const b = openUdp({ address: LO, port: 0, bufBytes: 4 << 20 });
const c = openUdp({ address: LO, port: 0, gro: false });
const rb = listen(b);
const rc = listen(c);
report.features = { aGso: a.gso, aGro: a.gro, bGro: b.gro, cGro: c.gro };

// 1. A long run to one peer: GSO groups it, GRO may deliver it coalesced, the reader splits it.
{
  const items = Array.from({ length: 300 }, (_, i) => ({ to: b, data: payload(i, 1200) }));
  items.push({ to: b, data: payload(300, 500) }); // a shorter last segment ends a GSO group
  const next = a.send(datagrams(items));
  await until(() => rb.got.length >= 301);
  report.run = {
    next,
    sendCalls: a.sendCalls,
    received: rb.got.length,
    intact: rb.got.every(
      (g, i) => g.data.readUInt32BE(0) === i && g.data.length === (i === 300 ? 500 : 1200),
    ),
    from: [...new Set(rb.got.map((g) => g.from))],
    expectedFrom: `${LO}:${a.port}`,
    batches: rb.sizes.length,
    counters: rb.reader.counters(),
  };
}

// 2. Interleaved peers and sizes, including an empty datagram: each peer gets its own, in order.
{
  rb.got.length = 0;
  rc.got.length = 0;
  const calls = a.sendCalls;
  const items = Array.from({ length: 100 }, (_, i) => ({
    to: i % 3 === 0 ? c : b,
    data: payload(i, i === 99 ? 0 : 64 + ((i * 37) % 1300)),
  }));
  const next = a.send(datagrams(items));
  const want = (s: UdpSocket) => items.filter((x) => x.to === s).map((x) => x.data);
  await until(() => rb.got.length >= want(b).length && rc.got.length >= want(c).length);
  const same = (got: { data: Buffer }[], exp: Buffer[]) =>
    got.length === exp.length && got.every((g, i) => g.data.equals(exp[i]!));
  report.mixed = {
    next,
    sendCalls: a.sendCalls - calls,
    toB: same(rb.got, want(b)),
    toC: same(rc.got, want(c)),
  };
}

// 3. A datagram longer than the reader's slot is dropped and counted, the next one still comes.
{
  const d = openUdp({ address: LO, port: 0, gro: false });
  const rd = listen(d, { slotSize: 256 });
  a.send(
    datagrams([
      { to: d, data: payload(1, 1000) },
      { to: d, data: payload(2, 100) },
    ]),
  );
  await until(() => rd.got.length >= 1);
  await new Promise((r) => setTimeout(r, 20));
  report.truncated = { received: rd.got.map((g) => g.data.length), counters: rd.reader.counters() };
  d.close();
}

// 4. Boundary: bad addresses, ports, batches and fds throw with a clear error; none crashes.
{
  const ok = datagrams([{ to: b, data: payload(0, 10) }]);
  report.boundary = {
    badAddress: thrown(() => openUdp({ address: '300.1.1.1', port: 0 })),
    ipv6Address: thrown(() => openUdp({ address: '::1', port: 0 })),
    badPort: thrown(() => openUdp({ address: LO, port: 70000 })),
    portInUse: thrown(() => openUdp({ address: LO, port: b.port })),
    notLocal: thrown(() => openUdp({ address: '192.0.2.1', port: 0 })),
    pastBuffer: thrown(() => a.send({ ...ok, lengths: Uint32Array.of(11) })),
    tooLong: thrown(() => a.send({ ...datagrams([{ to: b, data: Buffer.alloc(65508) }]) })),
    shortPorts: thrown(() => a.send({ ...ok, ports: new Uint16Array(0) })),
    endPastArrays: thrown(() => a.send(ok, 0, 2)),
    wrongArrayType: thrown(() => a.send({ ...ok, addrs: new Int32Array(1) as unknown as Uint32Array })),
    badMaxBatch: thrown(() => new UdpReader(b, () => undefined, undefined, { maxBatch: 5000 })),
    tinySlot: thrown(() => new UdpReader(b, () => undefined, undefined, { slotSize: 8 })),
    stillWorks: a.send(ok),
  };
}

a.close();
b.close();
c.close();
report.closed = {
  send: thrown(() => a.send(datagrams([{ to: b, data: payload(0, 10) }]))),
  start: thrown(() => rb.reader.start()),
  closeTwice: thrown(() => a.close()),
};
console.log(JSON.stringify(report));
