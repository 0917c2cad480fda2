/**
 * TAP → WAN: one TAP batch becomes at most one sendmmsg.
 *
 *   frames ─size check─ forwarder ─→ per peer, the frames for it gathered by offset (no copy)
 *     peer has a session with native keys → reserve N counters → sealBatch → Datagrams
 *     otherwise                            → device.send per frame (queued until the handshake)
 *   all peers' datagrams ─UdpSocket.send (sendmmsg, GSO)→ WAN
 *
 * A flooded frame is sealed once per peer (one key each). Nothing blocks; a full socket
 * buffer drops the rest of the batch (`udp_full`) rather than waiting.
 */
import {
  ipv4ToU32,
  newDatagrams,
  sealBatch,
  TRANSPORT_OVERHEAD,
  type Batch,
  type Datagrams,
} from '../../native/index.ts';
import type { Action, Peer } from '../protocol/index.ts';
import type { Wiring } from './datapath.ts';
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

  constructor(private readonly w: Wiring) {
    this.maxFrame = w.sliceMtu + ETHER_HEADER;
  }

  onBatch(batch: Batch, now: number, actions: Action[]): void {
    const { forwarder, drops } = this.w;
    for (let i = 0; i < batch.count; i++) {
      const off = batch.offsets[i]!;
      const len = batch.lengths[i]!;
      this.dest[i] = NOWHERE;
      if (len > this.maxFrame) {
        drops.inc('oversize');
        continue;
      }
      const d = forwarder.fromTap(batch.buf, off, len, now);
      if (d.kind === 'peer') this.dest[i] = d.peer;
      else if (d.kind === 'flood') this.dest[i] = FLOOD;
      else if (d.kind === 'reply') this.w.replies.push(d.frame);
      else drops.inc(d.reason);
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
        this.w.traffic.tx(peer.id, outPos - from);
        out.addrs.fill(ipv4ToU32(r.endpoint.address), start, n);
        out.ports.fill(r.endpoint.port, start, n);
      } else {
        this.handOver(peer, start, n, actions);
        n = start;
      }
    }
    if (n > 0) this.w.sendDatagrams(out, n);
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
