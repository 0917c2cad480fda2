/**
 * TAP scenario, run inside a namespace of its own by tap.test.ts. Every address here exists
 * only in that namespace: 192.0.2.0/24 and 198.51.100.0/24 sit on the scenario's own TAP
 * devices, and their ".2" peers are static neighbour entries that only this process answers
 * for (by reading and writing the TAP). Prints one JSON line: what it observed.
 */
import { run } from '../../../lib/exec.ts';
import {
  TUN_F,
  TapReader,
  batchOf,
  UdpReader,
  ipv4ToU32,
  itemOf,
  newDatagrams,
  openTap,
  openUdp,
  u32ToIpv4,
  type Batch,
  type Tap,
} from '../../index.ts';
import { udpFrame, udpPayload } from './frames.ts';
import { thrown, until } from './netns.ts';

const PEER_MAC = '02:00:00:00:00:02';

async function setUp(tap: Tap, cidr: string, peer: string): Promise<string> {
  await run(['ip', 'link', 'set', tap.name, 'up']);
  await run(['ip', 'addr', 'add', cidr, 'dev', tap.name]);
  await run(['ip', 'neigh', 'add', peer, 'lladdr', PEER_MAC, 'dev', tap.name]);
  const [link] = JSON.parse(await run(['ip', '-j', 'link', 'show', tap.name])) as { address: string }[];
  return link!.address;
}

function datagramsTo(ip: string, port: number, payloads: Buffer[]) {
  const d = newDatagrams(
    payloads.length,
    payloads.reduce((s, x) => s + x.length, 0),
  );
  const b = batchOf(payloads);
  d.buf = b.buf;
  d.offsets = b.offsets;
  d.lengths = b.lengths;
  d.count = b.count;
  d.addrs.fill(ipv4ToU32(ip));
  d.ports.fill(port);
  return d;
}

const payload = (i: number, n: number) => {
  const p = Buffer.alloc(n, i & 0xff);
  p.writeUInt32BE(i, 0);
  return p;
};

/** Frames to `port` that the reader saw, and how they came in batches. */
function collect(port: number) {
  const got: Buffer[] = [];
  const hdrs: Buffer[] = [];
  const sizes: number[] = [];
  const onBatch = (b: Batch) => {
    sizes.push(b.count);
    for (let i = 0; i < b.count; i++) {
      const f = itemOf(b, i);
      const p = udpPayload(f, port);
      if (p) {
        got.push(Buffer.from(p));
        const off = b.offsets[i]!;
        hdrs.push(Buffer.from(b.buf.subarray(off - 10, off)));
      }
    }
  };
  return { got, hdrs, sizes, onBatch };
}

const report: Record<string, unknown> = {};

// 1. Plain TAP: frames the kernel sends out are read in batches; frames we write arrive.
{
  const tap = openTap('sntap0');
  const mac = await setUp(tap, '192.0.2.1/24', '192.0.2.2');
  const c = collect(9999);
  const errors: string[] = [];
  const reader = new TapReader(tap, c.onBatch, (e) => errors.push(e.message), {
    maxBatch: 64,
    maxFrame: 1600,
  });
  reader.start();
  const sock = openUdp({ address: '192.0.2.1', port: 0, gso: false });
  const n = 300;
  const out = datagramsTo(
    '192.0.2.2',
    9999,
    Array.from({ length: n }, (_, i) => payload(i, 1000)),
  );
  report.sent = sock.send(out);
  await until(() => c.got.length >= n);
  report.read = {
    frames: c.got.length,
    inOrder: c.got.every((p, i) => p.readUInt32BE(0) === i && p.length === 1000),
    batches: c.sizes.length,
    largestBatch: Math.max(...c.sizes),
    counters: reader.counters(),
    errors,
  };

  // An oversized datagram is refused (IP_PMTUDISC_DO), never fragmented, and counted.
  const big = datagramsTo('192.0.2.2', 9999, [payload(0, 2000), payload(1, 100)]);
  report.oversized = { next: sock.send(big), dropped: sock.dropped, errno: sock.lastDropErrno };

  // GSO through a TAP without checksum offload: the kernel segments and checksums in software.
  const gsoSock = openUdp({ address: '192.0.2.1', port: 0, gso: true });
  const gsoOut = datagramsTo(
    '192.0.2.2',
    9999,
    Array.from({ length: 10 }, (_, i) => payload(1000 + i, 500)),
  );
  const gsoNext = gsoSock.send(gsoOut);
  const fromGso = () => c.got.filter((p) => p.readUInt32BE(0) >= 1000);
  await until(() => fromGso().length >= 10);
  report.gso = {
    next: gsoNext,
    on: gsoSock.gso,
    sendCalls: gsoSock.sendCalls,
    frames: fromGso().length,
    intact: fromGso().every((p, i) => p.readUInt32BE(0) === 1000 + i && p.length === 500),
  };

  // Writing: frames from the fake peer to our socket arrive through the kernel, source intact.
  const rx: { from: string; data: Buffer }[] = [];
  const udpReader = new UdpReader(sock, (b) => {
    for (let i = 0; i < b.count; i++)
      rx.push({ from: `${u32ToIpv4(b.addrs[i]!)}:${b.ports[i]}`, data: itemOf(b, i) });
  });
  udpReader.start();
  const frames = Array.from({ length: 100 }, (_, i) =>
    udpFrame(
      { mac: PEER_MAC, ip: '192.0.2.2', port: 7777 },
      { mac, ip: '192.0.2.1', port: sock.port },
      payload(i, 700),
    ),
  );
  const short = Buffer.alloc(5);
  const wb = batchOf([...frames.slice(0, 50), short, ...frames.slice(50)]);
  report.write = {
    next: tap.writeFrames(wb),
    count: wb.count,
    dropped: tap.dropped,
    errno: tap.lastDropErrno,
  };
  await until(() => rx.length >= 100);
  Object.assign(report.write as object, {
    received: rx.length,
    inOrder: rx.every((r, i) => r.data.readUInt32BE(0) === i && r.data.length === 700),
    from: [...new Set(rx.map((r) => r.from))],
  });

  report.boundary = {
    oversizedFrame: thrown(() => tap.writeFrames(batchOf([Buffer.alloc(65536)]))),
    pastBuffer: thrown(() =>
      tap.writeFrames({ ...batchOf([Buffer.alloc(60)]), lengths: Uint32Array.of(61) }),
    ),
    emptyName: thrown(() => openTap('')),
    longName: thrown(() => openTap('x'.repeat(16))),
    notATap: thrown(() => openTap('lo')),
    offloadsWithoutHdr: thrown(() => openTap('sntapx', { offloads: TUN_F.CSUM })),
    unknownOffload: thrown(() => openTap('sntapx', { vnetHdr: true, offloads: 0x800 })),
    badMaxBatch: thrown(() => new TapReader(tap, () => undefined, undefined, { maxBatch: 0 })),
  };
  sock.close();
  gsoSock.close();
  tap.close();
  report.afterClose = {
    write: thrown(() => tap.writeFrames(batchOf(frames.slice(0, 1)))),
    start: thrown(() => reader.start()),
    udpSend: thrown(() => sock.send(out)),
  };
}

// 2. IFF_VNET_HDR: the header precedes every frame read and is added to every frame written.
{
  const tap = openTap('sntap1', { vnetHdr: true });
  const mac = await setUp(tap, '198.51.100.1/24', '198.51.100.2');
  const c = collect(9999);
  const reader = new TapReader(tap, c.onBatch, undefined, { maxFrame: 1600 });
  reader.start();
  const sock = openUdp({ address: '198.51.100.1', port: 0, gso: false });
  sock.send(
    datagramsTo(
      '198.51.100.2',
      9999,
      Array.from({ length: 20 }, (_, i) => payload(i, 1200)),
    ),
  );
  await until(() => c.got.length >= 20);
  const rx: Buffer[] = [];
  const udpReader = new UdpReader(sock, (b) => {
    for (let i = 0; i < b.count; i++) rx.push(itemOf(b, i));
  });
  udpReader.start();
  const frames = Array.from({ length: 20 }, (_, i) =>
    udpFrame(
      { mac: PEER_MAC, ip: '198.51.100.2', port: 7777 },
      { mac, ip: '198.51.100.1', port: sock.port },
      payload(i, 300),
    ),
  );
  const next = tap.writeFrames(batchOf(frames));
  await until(() => rx.length >= 20);
  report.vnet = {
    vnetHdrLen: tap.vnetHdrLen,
    read: c.got.length,
    readInOrder: c.got.every((p, i) => p.readUInt32BE(0) === i),
    // No offloads were asked for: every header says "no GSO" (byte 1 = gso_type 0).
    gsoTypes: [...new Set(c.hdrs.map((h) => h[1]))],
    written: next,
    received: rx.length,
  };
  tap.close();
  sock.close();
}

// 3. Offloads on: the TAP can checksum, so GSO stays on and UDP super-frames reach the reader.
{
  const tap = openTap('sntap2', { vnetHdr: true, offloads: TUN_F.CSUM | TUN_F.USO4 | TUN_F.USO6 });
  await setUp(tap, '203.0.113.1/24', '203.0.113.2');
  const c = collect(9999);
  const reader = new TapReader(tap, c.onBatch);
  reader.start();
  const sock = openUdp({ address: '203.0.113.1', port: 0, gso: true });
  const next = sock.send(
    datagramsTo(
      '203.0.113.2',
      9999,
      Array.from({ length: 16 }, (_, i) => payload(i, 1000)),
    ),
  );
  await until(() => c.got.length >= 1);
  await new Promise((r) => setTimeout(r, 50));
  report.offload = {
    next,
    gso: sock.gso,
    sendCalls: sock.sendCalls,
    frames: c.got.length,
    // virtio_net_hdr: flags, gso_type (5 = UDP_L4), hdr_len, gso_size.
    hdr: c.hdrs[0] ? { gsoType: c.hdrs[0][1], gsoSize: c.hdrs[0].readUInt16LE(4) } : null,
    bytes: c.got.reduce((s, p) => s + p.length, 0),
  };
  tap.close();
  sock.close();
}

// 4. The device disappears under a running reader: it stops and reports, it does not spin.
{
  const tap = openTap('sntap3');
  await run(['ip', 'link', 'set', tap.name, 'up']);
  const errors: string[] = [];
  const reader = new TapReader(
    tap,
    () => undefined,
    (e) => errors.push((e as NodeJS.ErrnoException).code ?? ''),
  );
  reader.start();
  await run(['ip', 'link', 'del', tap.name]);
  await until(() => errors.length > 0, 1000);
  report.deleted = { errors, counters: reader.counters() };
  tap.close();
}

console.log(JSON.stringify(report));
