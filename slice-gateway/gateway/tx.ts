/**
 * TAP → WAN: one TAP batch becomes at most one sendmmsg.
 *
 *   offloads on: super-frames ─Segmenter (native: TCPv4 → gso_size segments, checksums)→ frames
 *   frames ─size check─ forwarder ─→ per peer, the frames for it gathered by offset (no copy)
 *     peer has a session with native keys → reserve N counters → sealBatch → Datagrams
 *     otherwise                            → device.send per frame (queued until the handshake)
 *   all peers' datagrams ─UdpSocket.send (sendmmsg, GSO)→ WAN
 *
 * A flooded frame is sealed once per peer (one key each). Nothing blocks; a full socket
 * buffer drops the rest of the batch (`udp_full`) rather than waiting. With offloads the
 * forwarder decides once per super-frame (its segments share the Ethernet header) and the
 * segments inherit the decision; the Segmenter has already dropped anything over sliceMtu + 14.
 */
import {
  newDatagrams,
  sealBatch,
  Segmenter,
  TRANSPORT_OVERHEAD,
  type Batch,
  type Datagrams,
} from '../../native/index.ts';
import type { Action, Peer } from '../protocol/index.ts';
import type { Wiring } from './datapath.ts';
import { endpointAddress } from './sessions.ts';
import { ETHER_HEADER } from './mtu.ts';

const FLOOD = '\u0000flood';
const NOWHERE = '\u0000none';

export class Transmitter {
  /** Per frame of the current batch: a peer id, FLOOD or NOWHERE. */
  private dest: string[] = [];
  private gather: Batch = {
    buf: Buffer.alloc(0),
    offsets: new Uint32Array(0),
    lengths: new Uint32Array(0),
    count: 0,
  };
  private out: Datagrams = newDatagrams(0, 0);
  private readonly maxFrame: number;
  private readonly segmenter: Segmenter | undefined;
  private readonly segDrops = { malformed: 0, oversize: 0, unsupported: 0 };

  constructor(private readonly w: Wiring) {
    this.maxFrame = w.sliceMtu + ETHER_HEADER;
    if (w.offloads) this.segmenter = new Segmenter(this.maxFrame);
  }

  onBatch(tapBatch: Batch, now: number, actions: Action[]): void {
    const { drops } = this.w;
    let batch = tapBatch;
    if (this.segmenter) {
      const seg = this.segmenter.split(tapBatch);
      this.countSegmenterDrops();
      const first = seg.first;
      for (let i = 0; i < tapBatch.count; i++) {
        const a = first[i]!;
        const b = first[i + 1]!;
        if (a === b) continue;
        const dest = this.decide(seg, a, now);
        for (let j = a; j < b; j++) this.dest[j] = dest;
      }
      batch = seg;
    } else {
      for (let i = 0; i < batch.count; i++) {
        if (batch.lengths[i]! > this.maxFrame) {
          this.dest[i] = NOWHERE;
          drops.inc('oversize');
        } else this.dest[i] = this.decide(batch, i, now);
      }
    }
    const peers = this.w.device.peers;
    this.ensure(batch.count * Math.max(1, peers.size));
    const g = this.gather;
    const out = this.out;
    g.buf = batch.buf;
    let n = 0;
    let outPos = 0;
    for (const peer of peers.values()) {
      const start = n;
      for (let i = 0; i < batch.count; i++) {
        const d = this.dest[i];
        if (d !== FLOOD && d !== peer.id) continue;
        g.offsets[n] = batch.offsets[i]!;
        g.lengths[n] = batch.lengths[i]!;
        n++;
      }
      if (n === start) continue;
      const r = this.w.sessions.reserve(peer, n - start, now, actions);
      if (r) {
        const from = outPos;
        outPos = sealBatch(r.native.seal, r.kp.remoteIndex, r.first, g, out, start, n, outPos);
        this.w.traffic.tx(peer.id, outPos - from, n - start);
        out.addrs.fill(endpointAddress(r.endpoint), start, n);
        out.ports.fill(r.endpoint.port, start, n);
      } else {
        this.handOver(peer, start, n, actions);
        n = start;
      }
    }
    if (n > 0) this.w.sendDatagrams(out, n);
  }

  /** TCPv4 super-frames split so far (0 without offloads). */
  superFrames(): number {
    return this.segmenter?.counts().segmented ?? 0;
  }

  /** Where frame i of `batch` goes: a peer id, FLOOD or NOWHERE (answered locally or dropped). */
  private decide(batch: Batch, i: number, now: number): string {
    const d = this.w.forwarder.fromTap(batch.buf, batch.offsets[i]!, batch.lengths[i]!, now);
    if (d.kind === 'peer') return d.peer;
    if (d.kind === 'flood') return FLOOD;
    if (d.kind === 'reply') this.w.replies.push(d.frame);
    else this.w.drops.inc(d.reason);
    return NOWHERE;
  }

  private countSegmenterDrops(): void {
    const c = this.segmenter!.counts();
    const seen = this.segDrops;
    const { drops } = this.w;
    if (c.malformed !== seen.malformed) drops.inc('gso_malformed', c.malformed - seen.malformed);
    if (c.oversize !== seen.oversize) drops.inc('oversize', c.oversize - seen.oversize);
    if (c.unsupported !== seen.unsupported) drops.inc('gso_unsupported', c.unsupported - seen.unsupported);
    seen.malformed = c.malformed;
    seen.oversize = c.oversize;
    seen.unsupported = c.unsupported;
  }

  /** No usable session: the Device queues the frames (copying them) and handshakes. */
  private handOver(peer: Peer, start: number, end: number, actions: Action[]): void {
    const g = this.gather;
    for (let j = start; j < end; j++) {
      const off = g.offsets[j]!;
      for (const a of this.w.device.send(peer.id, g.buf.subarray(off, off + g.lengths[j]!))) actions.push(a);
    }
  }

  /** Grows the gather and output batches to `items`; rare (more peers than before). */
  private ensure(items: number): void {
    if (this.gather.offsets.length >= items) return;
    this.gather = {
      buf: this.gather.buf,
      offsets: new Uint32Array(items),
      lengths: new Uint32Array(items),
      count: 0,
    };
    this.out = newDatagrams(items, items * (this.maxFrame + TRANSPORT_OVERHEAD));
  }
}
