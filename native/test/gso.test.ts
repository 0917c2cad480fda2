/**
 * Segmenter (src/gso.c) against hand-built super-frames: every header field and checksum of
 * every segment is checked by the independent TypeScript implementation below, and malformed
 * virtio headers and lengths are dropped and counted, never read past.
 */
import test from 'ava';
import { Segmenter } from '../index.ts';
import {
  batchWithHdrs,
  CWR,
  F_NEEDS_CSUM,
  FIN,
  frameAt,
  GSO_TCPV4,
  GSO_TCPV6,
  GSO_UDP_L4,
  ipOk,
  onesSum,
  PSH,
  tcpFrame,
  tcpOk,
  vnet,
  type FrameSpec,
  type Vnet,
} from './helpers/tcp-frames.ts';

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
