/**
 * Coalescer (src/gro.c) against segments the Segmenter cut from hand-built super-frames: runs
 * of one flow become one super-frame whose header, lengths and checksums are checked by the
 * independent implementation in helpers/tcp-frames.ts, and splitting it again gives back the
 * very same segments. Frames that must not join (another flow, a gap, a pure ACK, PSH, a short
 * segment, not TCP, malformed) pass through unchanged and in order.
 */
import test from 'ava';
import { Coalescer, Segmenter, type Batch } from '../index.ts';
import {
  batchWithHdrs,
  F_NEEDS_CSUM,
  frameAt,
  GSO_TCPV4,
  ipOk,
  onesSum,
  PSH,
  tcpFrame,
  vnet,
  type FrameSpec,
} from './helpers/tcp-frames.ts';

const MSS = 1400;
const MAX_FRAME = 1414 + 40;
const F_DATA_VALID = 2;

/** The segments of one TCPv4 super-frame, as the sending gateway's Segmenter makes them. */
function segments(spec: FrameSpec, mss = MSS): Buffer[] {
  const { frame, l4, hdrs } = tcpFrame(spec);
  const hdr = vnet({
    flags: F_NEEDS_CSUM,
    gsoType: GSO_TCPV4,
    hdrLen: hdrs,
    gsoSize: mss,
    csumStart: l4,
    csumOffset: 16,
  });
  const out = new Segmenter(MAX_FRAME).split(batchWithHdrs([{ hdr, frame }]));
  return Array.from({ length: out.count }, (_, i) => Buffer.from(frameAt(out, i)));
}

/** A plain batch (no headers) of these frames, at odd offsets to catch offset mistakes. */
function plain(frames: Buffer[]): Batch {
  const buf = Buffer.alloc(frames.reduce((s, f) => s + f.length + 3, 0));
  const offsets = new Uint32Array(frames.length);
  const lengths = new Uint32Array(frames.length);
  let pos = 3;
  frames.forEach((f, i) => {
    f.copy(buf, pos);
    offsets[i] = pos;
    lengths[i] = f.length;
    pos += f.length;
  });
  return { buf, offsets, lengths, count: frames.length };
}

interface Item {
  frame: Buffer;
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

function items(out: Batch): Item[] {
  return Array.from({ length: out.count }, (_, i) => {
    const h = out.buf.subarray(out.offsets[i]! - 10, out.offsets[i]);
    return {
      frame: Buffer.from(frameAt(out, i)),
      flags: h[0]!,
      gsoType: h[1]!,
      hdrLen: h.readUInt16LE(2),
      gsoSize: h.readUInt16LE(4),
      csumStart: h.readUInt16LE(6),
      csumOffset: h.readUInt16LE(8),
    };
  });
}

/** What a super-frame item must be; returns its segments as the Segmenter cuts them again. */
function checkSuper(t: import('ava').ExecutionContext, it: Item, mss: number): Buffer[] {
  t.is(it.gsoType, GSO_TCPV4);
  t.is(it.flags, F_NEEDS_CSUM);
  t.is(it.gsoSize, mss);
  t.is(it.hdrLen, 54);
  t.is(it.csumStart, 34);
  t.is(it.csumOffset, 16);
  const ip = it.frame.subarray(14, 34);
  t.is(ip.readUInt16BE(2), it.frame.length - 14, 'IP total length');
  t.true(ipOk(ip), 'IP header checksum');
  // CHECKSUM_PARTIAL: the TCP checksum field holds the pseudo-header sum, not complemented.
  const pseudo = Buffer.alloc(12);
  ip.copy(pseudo, 0, 12, 20);
  pseudo[9] = 6;
  pseudo.writeUInt16BE(it.frame.length - 34, 10);
  t.is(it.frame.readUInt16BE(34 + 16), onesSum([pseudo]), 'TCP pseudo-header sum');
  const hdr = vnet({
    flags: it.flags,
    gsoType: it.gsoType,
    hdrLen: it.hdrLen,
    gsoSize: it.gsoSize,
    csumStart: 34,
    csumOffset: 16,
  });
  const again = new Segmenter(MAX_FRAME).split(batchWithHdrs([{ hdr, frame: it.frame }]));
  return Array.from({ length: again.count }, (_, i) => Buffer.from(frameAt(again, i)));
}

test('a run of one flow becomes one super-frame, and splitting it gives back the same segments', (t) => {
  const segs = segments({ payload: 10 * MSS + 700, id: 100 });
  t.is(segs.length, 11);
  const c = new Coalescer();
  const out = items(c.coalesce(plain(segs)));
  t.is(out.length, 1);
  t.deepEqual(checkSuper(t, out[0]!, MSS), segs);
  t.deepEqual(c.counts(), { merged: 11, superFrames: 1 });
});

test('interleaved flows each get their own super-frame, in the order their runs began', (t) => {
  const a = segments({ payload: 3 * MSS });
  const b = segments({ payload: 3 * MSS }).map((f) => {
    const g = Buffer.from(f);
    g.writeUInt16BE(40001, 34); // another source port: another flow (TCP checksum now stale, no matter here)
    return g;
  });
  const out = items(new Coalescer().coalesce(plain([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!])));
  t.is(out.length, 2);
  t.is(out[0]!.frame.readUInt16BE(34), 40000);
  t.is(out[1]!.frame.readUInt16BE(34), 40001);
  t.deepEqual(checkSuper(t, out[0]!, MSS), a);
  t.is(out[1]!.frame.length, 14 + 20 + 20 + 3 * MSS);
});

test('a gap, a pure ACK, PSH and a short segment each end the run; nothing passes a frame of its flow', (t) => {
  const s = segments({ payload: 8 * MSS, seq: 1000 });
  const ack = tcpFrame({ payload: 0, seq: 5 }).frame;
  // s[3] missing: a gap. Then a pure ACK of the same flow between s[5] and s[6].
  const out = items(new Coalescer().coalesce(plain([s[0]!, s[1]!, s[2]!, s[4]!, s[5]!, ack, s[6]!, s[7]!])));
  t.deepEqual(
    out.map((i) => [i.gsoType, i.frame.length]),
    [
      [GSO_TCPV4, 54 + 3 * MSS],
      [GSO_TCPV4, 54 + 2 * MSS],
      [0, ack.length],
      [GSO_TCPV4, 54 + 2 * MSS],
    ],
  );
  t.deepEqual(out[2]!.frame, ack);

  const p = segments({ payload: 3 * MSS, flags: 0x10 | PSH }); // PSH lands on the last segment only
  const q = segments({ payload: 2 * MSS, seq: (0xfffff000 + 3 * MSS) >>> 0 });
  const pushed = items(new Coalescer().coalesce(plain([...p, ...q])));
  t.is(pushed.length, 2, 'PSH closes the run; the next segments start another');
  t.is(pushed[0]!.frame[34 + 13]! & PSH, PSH);

  const short = segments({ payload: MSS + 500 }); // 1400 then 500
  const next = segments({ payload: MSS, seq: (0xfffff000 + MSS + 500) >>> 0 });
  const afterShort = items(new Coalescer().coalesce(plain([...short, ...next])));
  t.deepEqual(
    afterShort.map((i) => i.frame.length),
    [54 + MSS + 500, 54 + MSS],
  );
});

test('a super-frame stops at 65535 bytes of IP packet', (t) => {
  // IP IDs consecutive across the two sources, so the re-split gives back the same bytes.
  const segs = [
    ...segments({ payload: 40 * MSS, seq: 0 }),
    ...segments({ payload: 10 * MSS, seq: 40 * MSS, id: (0xfffe + 40) & 0xffff }),
  ];
  const out = items(new Coalescer().coalesce(plain(segs)));
  t.deepEqual(
    out.map((i) => (i.frame.length - 54) / MSS),
    [46, 4],
  );
  t.deepEqual([...checkSuper(t, out[0]!, MSS), ...checkSuper(t, out[1]!, MSS)], segs);
});

test('frames that are not TCP data pass through unchanged, in order, with the plain flags asked for', (t) => {
  const arp = Buffer.alloc(42, 1);
  arp.writeUInt16BE(0x0806, 12);
  const udp = tcpFrame({ payload: 100 }).frame;
  udp[14 + 9] = 17;
  const runt = Buffer.alloc(20, 0xff);
  const lying = Buffer.from(segments({ payload: MSS })[0]!);
  lying.writeUInt16BE(9000, 16); // IP total length past the frame
  const options = tcpFrame({ payload: 100, ipOptions: 4 }).frame;
  const frames = [arp, udp, runt, lying, options];
  const out = items(new Coalescer(true).coalesce(plain(frames)));
  t.deepEqual(
    out.map((i) => i.frame),
    frames,
  );
  for (const i of out) t.deepEqual([i.flags, i.gsoType, i.gsoSize], [F_DATA_VALID, 0, 0]);
  t.deepEqual(new Coalescer().coalesce(plain([])).count, 0);
});

test('buffers are reused and grown; items outside the batch buffer are refused', (t) => {
  const c = new Coalescer();
  const small = c.coalesce(plain(segments({ payload: 2 * MSS })));
  t.is(small.count, 1);
  const big = c.coalesce(plain(Array.from({ length: 300 }, () => tcpFrame({ payload: 10 }).frame)));
  t.is(big.count, 300, 'identical segments (same seq) never join');
  const bad: Batch = {
    buf: Buffer.alloc(100),
    offsets: Uint32Array.of(90),
    lengths: Uint32Array.of(60),
    count: 1,
  };
  t.throws(() => c.coalesce(bad), { instanceOf: RangeError });
});
