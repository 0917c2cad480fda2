/**
 * Segmenter (src/gso.c) against hand-built super-frames: every header field and checksum of
 * every segment is checked by the independent TypeScript implementation below, and malformed
 * virtio headers and lengths are dropped and counted, never read past.
 */
import test from 'ava';
import { Segmenter, type Batch } from '../index.ts';

const GSO_TCPV4 = 1;
const GSO_UDP_L4 = 5;
const GSO_TCPV6 = 4;
const F_NEEDS_CSUM = 1;
const FIN = 0x01;
const PSH = 0x08;
const CWR = 0x80;

interface Vnet {
  flags?: number;
  gsoType?: number;
  hdrLen?: number;
  gsoSize?: number;
  csumStart?: number;
  csumOffset?: number;
}

function vnet(h: Vnet): Buffer {
  const b = Buffer.alloc(10);
  b[0] = h.flags ?? 0;
  b[1] = h.gsoType ?? 0;
  b.writeUInt16LE(h.hdrLen ?? 0, 2);
  b.writeUInt16LE(h.gsoSize ?? 0, 4);
  b.writeUInt16LE(h.csumStart ?? 0, 6);
  b.writeUInt16LE(h.csumOffset ?? 0, 8);
  return b;
}

/** RFC 1071, the slow and obvious way: 16-bit big-endian words. */
function onesSum(parts: Buffer[]): number {
  const all = Buffer.concat(parts);
  let s = 0;
  for (let i = 0; i < all.length; i += 2) s += (all[i]! << 8) + (all[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

const ipOk = (ip: Buffer): boolean => onesSum([ip]) === 0xffff;

function tcpOk(ip: Buffer, tcp: Buffer, proto = 6): boolean {
  const pseudo = Buffer.alloc(12);
  ip.copy(pseudo, 0, 12, 20);
  pseudo[9] = proto;
  pseudo.writeUInt16BE(tcp.length, 10);
  return onesSum([pseudo, tcp]) === 0xffff;
}

interface FrameSpec {
  payload: number;
  ipOptions?: number;
  tcpOptions?: number;
  flags?: number;
  seq?: number;
  id?: number;
  vlan?: boolean;
}

/** Ethernet (+VLAN) + IPv4 + TCP + payload of a repeating pattern; checksums left as a TSO stack leaves them (wrong). */
function tcpFrame(s: FrameSpec): { frame: Buffer; l3: number; l4: number; hdrs: number } {
  const eth = Buffer.alloc(s.vlan ? 18 : 14);
  eth.fill(0x02, 0, 12);
  if (s.vlan) {
    eth.writeUInt16BE(0x8100, 12);
    eth.writeUInt16BE(7, 14);
    eth.writeUInt16BE(0x0800, 16);
  } else eth.writeUInt16BE(0x0800, 12);
  const ihl = 20 + (s.ipOptions ?? 0);
  const ip = Buffer.alloc(ihl);
  ip[0] = 0x40 | (ihl / 4);
  ip.writeUInt16BE(ihl + 20 + (s.tcpOptions ?? 0) + s.payload, 2);
  ip.writeUInt16BE(s.id ?? 0xfffe, 4);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip[8] = 64;
  ip[9] = 6;
  ip.writeUInt16BE(0x1234, 10); // stale checksum: must be recomputed
  Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]).copy(ip, 12);
  for (let i = 20; i < ihl; i++) ip[i] = 1; // NOP options
  const thl = 20 + (s.tcpOptions ?? 0);
  const tcp = Buffer.alloc(thl);
  tcp.writeUInt16BE(40000, 0);
  tcp.writeUInt16BE(5201, 2);
  tcp.writeUInt32BE(s.seq ?? 0xfffff000, 4); // wraps past 2^32 within the frame
  tcp.writeUInt32BE(77, 8);
  tcp[12] = (thl / 4) << 4;
  tcp[13] = s.flags ?? 0x10;
  tcp.writeUInt16BE(64000, 14);
  tcp.writeUInt16BE(0xbeef, 16);
  for (let i = 20; i < thl; i++) tcp[i] = 0x08 + i;
  const payload = Buffer.alloc(s.payload);
  for (let i = 0; i < s.payload; i++) payload[i] = (i * 7 + 3) & 0xff;
  const frame = Buffer.concat([eth, ip, tcp, payload]);
  return { frame, l3: eth.length, l4: eth.length + ihl, hdrs: eth.length + ihl + thl };
}

/** A TapReader-like batch: each frame preceded by its virtio_net_hdr, 8-byte aligned. */
function batchWithHdrs(items: { hdr: Buffer; frame: Buffer }[]): Batch {
  let size = 0;
  for (const it of items) size += 16 + it.frame.length + 8;
  const buf = Buffer.alloc(size);
  const offsets = new Uint32Array(items.length);
  const lengths = new Uint32Array(items.length);
  let pos = 0;
  items.forEach((it, i) => {
    it.hdr.copy(buf, pos);
    it.frame.copy(buf, pos + 10);
    offsets[i] = pos + 10;
    lengths[i] = it.frame.length;
    pos += (10 + it.frame.length + 7) & ~7;
  });
  return { buf, offsets, lengths, count: items.length };
}

const frameAt = (b: Batch, i: number): Buffer => b.buf.subarray(b.offsets[i], b.offsets[i]! + b.lengths[i]!);

function checkSegments(
  t: import('ava').ExecutionContext,
  spec: FrameSpec,
  gsoSize: number,
  maxFrame = 1414,
): void {
  const { frame, l3, l4, hdrs } = tcpFrame(spec);
  const hdr = vnet({
    flags: F_NEEDS_CSUM,
    gsoType: GSO_TCPV4,
    hdrLen: hdrs,
    gsoSize,
    csumStart: l4,
    csumOffset: 16,
  });
  const seg = new Segmenter(maxFrame);
  const out = seg.split(batchWithHdrs([{ hdr, frame }]));
  const n = Math.ceil(spec.payload / gsoSize);
  t.is(out.count, n);
  t.deepEqual([out.first[0], out.first[1]], [0, n]);
  const seq0 = frame.readUInt32BE(l4 + 4);
  const id0 = frame.readUInt16BE(l3 + 4);
  for (let k = 0; k < n; k++) {
    const f = frameAt(out, k);
    const len = Math.min(gsoSize, spec.payload - k * gsoSize);
    t.is(f.length, hdrs + len, `segment ${k} length`);
    t.true(f.length <= maxFrame);
    t.true(out.offsets[k]! % 8 === 0);
    t.deepEqual(f.subarray(0, l3), frame.subarray(0, l3), 'Ethernet header');
    const ip = f.subarray(l3, l4);
    const tcp = f.subarray(l4);
    t.is(ip.readUInt16BE(2), f.length - l3, 'IP total length');
    t.is(ip.readUInt16BE(4), (id0 + k) & 0xffff, 'IP id');
    t.true(ipOk(ip), `IP checksum of segment ${k}`);
    t.deepEqual(ip.subarray(12), frame.subarray(l3 + 12, l4), 'addresses and IP options');
    t.is(tcp.readUInt32BE(4), (seq0 + k * gsoSize) >>> 0, 'TCP seq');
    t.is(tcp.readUInt32BE(8), 77, 'TCP ack');
    t.deepEqual(tcp.subarray(18, hdrs - l4), frame.subarray(l4 + 18, hdrs), 'urgent pointer and TCP options');
    const fl = spec.flags ?? 0x10;
    const want = (k < n - 1 ? fl & ~(FIN | PSH) : fl) & (k > 0 ? ~CWR : 0xff);
    t.is(tcp[13], want, `TCP flags of segment ${k}`);
    t.true(tcpOk(ip, tcp), `TCP checksum of segment ${k}`);
    t.deepEqual(f.subarray(hdrs), frame.subarray(hdrs + k * gsoSize, hdrs + k * gsoSize + len), 'payload');
  }
  t.is(seg.counts().segmented, 1);
}

test('a TCPv4 super-frame becomes gso_size segments with a short last one', (t) => {
  checkSegments(t, { payload: 5000, flags: 0x10 | PSH | FIN | CWR }, 1348);
});

test('TCP and IP options, an odd gso_size and an odd last segment', (t) => {
  checkSegments(t, { payload: 4001, ipOptions: 8, tcpOptions: 12, flags: 0x18 }, 1335, 1414);
});

test('one 802.1Q tag, sequence and IP id wrap, exactly divisible payload', (t) => {
  checkSegments(t, { payload: 1300 * 5, vlan: true, id: 0xfffe, seq: 0xffffffff - 2000 }, 1300);
});

test('a GSO frame whose payload fits one segment, and a 64 KiB super-frame', (t) => {
  checkSegments(t, { payload: 900 }, 1348);
  checkSegments(t, { payload: 65535 - 14 - 20 - 32 - 20, tcpOptions: 12 }, 1348);
});

test('a plain frame with F_NEEDS_CSUM is checksummed; a plain frame without it is copied as is', (t) => {
  // UDP over IPv4, the checksum field seeded with the pseudo-header sum as the kernel does.
  const udpLen = 8 + 333;
  const f = Buffer.alloc(14 + 20 + udpLen);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + udpLen, 16);
  f[23] = 17;
  Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]).copy(f, 26);
  f.writeUInt16BE(1111, 34);
  f.writeUInt16BE(2222, 36);
  f.writeUInt16BE(udpLen, 38);
  for (let i = 42; i < f.length; i++) f[i] = i & 0xff;
  const pseudo = Buffer.alloc(12);
  f.copy(pseudo, 0, 26, 34);
  pseudo[9] = 17;
  pseudo.writeUInt16BE(udpLen, 10);
  f.writeUInt16BE(onesSum([pseudo]), 40);
  const plain = Buffer.from(f);
  const seg = new Segmenter(1414);
  const out = seg.split(
    batchWithHdrs([
      { hdr: vnet({ flags: F_NEEDS_CSUM, csumStart: 34, csumOffset: 6 }), frame: f },
      { hdr: vnet({}), frame: plain },
    ]),
  );
  t.is(out.count, 2);
  const got = frameAt(out, 0);
  t.true(tcpOk(got.subarray(14, 34), got.subarray(34), 17), 'UDP checksum');
  t.deepEqual(frameAt(out, 1), plain);
  t.is(f.readUInt16BE(40), onesSum([pseudo]), 'the source frame is not modified');
  t.is(seg.counts().checksummed, 1);
});

test('malformed virtio headers and lengths are dropped and counted; good frames around them pass', (t) => {
  const good = tcpFrame({ payload: 3000 });
  const tso = (h: Vnet = {}): Buffer =>
    vnet({ flags: F_NEEDS_CSUM, gsoType: GSO_TCPV4, gsoSize: 1348, csumStart: 34, csumOffset: 16, ...h });
  const truncatedIp = good.frame.subarray(0, 14 + 12);
  const noTcp = good.frame.subarray(0, 14 + 20 + 10);
  const fragment = Buffer.from(good.frame);
  fragment.writeUInt16BE(0x2000, 14 + 6); // MF
  const notIpv4 = Buffer.from(good.frame);
  notIpv4.writeUInt16BE(0x86dd, 12);
  const udp = Buffer.from(good.frame);
  udp[14 + 9] = 17;
  const hugeThl = Buffer.from(good.frame.subarray(0, 34 + 40));
  hugeThl[34 + 12] = 0xf0;
  const cases: {
    name: string;
    hdr: Buffer;
    frame: Buffer;
    reason: 'malformed' | 'oversize' | 'unsupported';
  }[] = [
    { name: 'gso_size 0', hdr: tso({ gsoSize: 0 }), frame: good.frame, reason: 'malformed' },
    { name: 'IP header cut short', hdr: tso(), frame: truncatedIp, reason: 'malformed' },
    { name: 'TCP header cut short', hdr: tso(), frame: noTcp, reason: 'malformed' },
    { name: 'TCP data offset past the end', hdr: tso(), frame: hugeThl, reason: 'malformed' },
    { name: 'an IP fragment', hdr: tso(), frame: fragment, reason: 'malformed' },
    { name: 'TCPV4 on an IPv6 ethertype', hdr: tso(), frame: notIpv4, reason: 'malformed' },
    { name: 'TCPV4 carrying UDP', hdr: tso(), frame: udp, reason: 'malformed' },
    { name: 'shorter than Ethernet', hdr: vnet({}), frame: Buffer.alloc(13), reason: 'malformed' },
    {
      name: 'csum_start past the end',
      hdr: vnet({ flags: F_NEEDS_CSUM, csumStart: 60000, csumOffset: 6 }),
      frame: Buffer.alloc(100),
      reason: 'malformed',
    },
    {
      name: 'csum_offset past the end',
      hdr: vnet({ flags: F_NEEDS_CSUM, csumStart: 90, csumOffset: 9 }),
      frame: Buffer.alloc(100),
      reason: 'malformed',
    },
    { name: 'segments over maxFrame', hdr: tso({ gsoSize: 1400 }), frame: good.frame, reason: 'oversize' },
    { name: 'plain frame over maxFrame', hdr: vnet({}), frame: Buffer.alloc(1415), reason: 'oversize' },
    { name: 'USO', hdr: tso({ gsoType: GSO_UDP_L4 }), frame: good.frame, reason: 'unsupported' },
    { name: 'TSO6', hdr: tso({ gsoType: GSO_TCPV6 }), frame: good.frame, reason: 'unsupported' },
    { name: 'unknown gso_type', hdr: tso({ gsoType: 0x7f }), frame: good.frame, reason: 'unsupported' },
  ];
  for (const c of cases) {
    const seg = new Segmenter(1414);
    const out = seg.split(
      batchWithHdrs([{ hdr: tso(), frame: good.frame }, c, { hdr: tso(), frame: good.frame }]),
    );
    t.is(out.count, 6, c.name);
    t.deepEqual([...out.first.subarray(0, 4)], [0, 3, 3, 6], c.name);
    t.is(seg.counts()[c.reason], 1, c.name);
  }
});

test('a batch with more segments than the output holds grows it and keeps order', (t) => {
  const items = [0, 1, 2].map((i) => {
    const { frame, l4, hdrs } = tcpFrame({ payload: 60000, seq: i * 1_000_000 });
    return {
      hdr: vnet({
        flags: F_NEEDS_CSUM,
        gsoType: GSO_TCPV4,
        hdrLen: hdrs,
        gsoSize: 100,
        csumStart: l4,
        csumOffset: 16,
      }),
      frame,
    };
  });
  const seg = new Segmenter(1414);
  const out = seg.split(batchWithHdrs(items));
  t.is(out.count, 1800);
  t.deepEqual([...out.first.subarray(0, 4)], [0, 600, 1200, 1800]);
  for (const k of [0, 599, 600, 1799]) {
    const f = frameAt(out, k);
    t.is(f.readUInt32BE(34 + 4), Math.floor(k / 600) * 1_000_000 + (k % 600) * 100);
    t.true(tcpOk(f.subarray(14, 34), f.subarray(34)));
  }
  // A second, small batch reuses the grown output.
  t.is(seg.split(batchWithHdrs([items[0]!])).count, 600);
});

test('bad arguments throw before any memory access', (t) => {
  const seg = new Segmenter(1414);
  t.throws(() => new Segmenter(13), { instanceOf: RangeError });
  const b = batchWithHdrs([{ hdr: vnet({}), frame: Buffer.alloc(60) }]);
  b.offsets[0] = 4; // no room for the header before the frame
  t.throws(() => seg.split(b), { instanceOf: RangeError, message: /virtio_net_hdr/ });
  const c = batchWithHdrs([{ hdr: vnet({}), frame: Buffer.alloc(60) }]);
  c.lengths[0] = c.buf.length;
  t.throws(() => seg.split(c), { instanceOf: RangeError, message: /runs past the end/ });
});
