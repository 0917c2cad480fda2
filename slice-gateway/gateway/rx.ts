/**
 * WAN → TAP: one recvmmsg batch becomes at most one TAP write batch.
 *
 *   datagram ─type 4 of a session with native keys, from the peer's known address, not the
 *             first use of a session we answered, no renewal due?
 *       yes → gathered by session (no copy) → openBatch → expiry, counter limit, replay window
 *             (the Keypair's own) → forwarder (learn; to the TAP only) → TAP write batch
 *       no  → device.receive: handshakes, cookies, unknown indices, and the transport
 *             datagrams that need the protocol's per-session work
 *
 * What the protocol does for a transport datagram (receive.ts) and where it happens here: the
 * replay window, keepalive and new-handshake timers are updated natively per batch (the same
 * Keypair and Peer fields); roaming (a new source address), promoting a responder's next
 * session (and flushing frames queued for it) and renewing an initiator's old session are
 * rare, so those datagrams go through device.receive, at the price of one TypeScript open.
 * A datagram sent to the Device is written to the TAP before the batch's native ones. With
 * offloads, the batch's frames go through the Coalescer first: a run of one TCP flow's segments
 * is written as one super-frame (one TAP write, one skb through bridge, veth and the pod's TCP).
 */
import {
  Coalescer,
  newOpened,
  OPEN_STATUS,
  openBatch,
  receiverIndexOf,
  u32ToIpv4,
  type Batch,
  type Datagrams,
  type Opened,
} from '../../native/index.ts';
import { constants, type Action, type Peer } from '../protocol/index.ts';
import type { Wiring } from './datapath.ts';
import { endpointAddress } from './sessions.ts';
import { ETHER_HEADER } from './mtu.ts';

const MSG_TRANSPORT = 4;

type Keypair = NonNullable<Peer['current']>;
const NOT_NATIVE = -1;

export class Receiver {
  /** Per datagram of the batch: its receiver index if it is opened natively, else NOT_NATIVE. */
  private native = new Float64Array(0);
  private readonly seen = new Set<number>();
  private gather: Batch = {
    buf: Buffer.alloc(0),
    offsets: new Uint32Array(0),
    lengths: new Uint32Array(0),
    count: 0,
  };
  private opened: Opened = newOpened(0, 0);
  private toTap: Batch = {
    buf: Buffer.alloc(0),
    offsets: new Uint32Array(0),
    lengths: new Uint32Array(0),
    count: 0,
  };
  private readonly maxFrame: number;
  /** The longest datagram a peer of this slice can send: a full frame sealed, or an initiation. */
  private readonly maxDatagram: number;

  /**
   * With offloads: runs of a flow's segments become one super-frame for the TAP. Items that stay
   * plain are marked F_DATA_VALID, as gateway.ts marks the TAP: authenticated end to end.
   */
  private readonly coalescer: Coalescer | undefined;

  constructor(private readonly w: Wiring) {
    this.maxFrame = w.sliceMtu + ETHER_HEADER;
    if (w.offloads) this.coalescer = new Coalescer(true);
    this.maxDatagram = Math.max(this.maxFrame + constants.TRANSPORT_OVERHEAD, constants.INITIATION_LEN);
  }

  onBatch(batch: Datagrams, now: number, actions: Action[]): void {
    this.ensure(batch);
    this.seen.clear();
    const { sessions, device } = this.w;
    for (let i = 0; i < batch.count; i++) {
      const off = batch.offsets[i]!;
      const len = batch.lengths[i]!;
      this.native[i] = NOT_NATIVE;
      if (len > this.maxDatagram) {
        // No peer of this slice sends one: refused before any lookup or copy.
        this.w.drops.inc('oversize');
        continue;
      }
      let next: { peer: Peer; kp: Keypair } | undefined;
      let peer: string | undefined;
      if (len >= constants.TRANSPORT_MIN_LEN && batch.buf[off] === MSG_TRANSPORT) {
        const index = receiverIndexOf(batch, i);
        const s = sessions.receiving(index);
        if (s && this.routine(s.peer, s.kp, batch.addrs[i]!, batch.ports[i]!, now)) {
          this.native[i] = index;
          this.seen.add(index);
          continue;
        }
        const e = device.index.get(index);
        if (e?.kind === 'keypair') {
          peer = e.peer.id;
          if (e.keypair === e.peer.next) next = { peer: e.peer, kp: e.keypair };
        }
      }
      // A copy: the Device may keep parts of a handshake message, and the batch is reused.
      const datagram = Buffer.from(batch.buf.subarray(off, off + len));
      const from = { address: u32ToIpv4(batch.addrs[i]!), port: batch.ports[i]! };
      const start = actions.length;
      for (const a of device.receive(datagram, from)) actions.push(a);
      if (peer !== undefined && authenticated(actions, start)) this.w.traffic.rx(peer, len);
      // Our response's session was just used by the initiator: a handshake round trip.
      if (next && next.peer.current === next.kp) this.w.confirmed(next.peer, next.kp, now);
    }
    // Frames the Device delivered go to the TAP before these, keeping each session's order.
    this.w.perform(actions.splice(0));
    let outPos = 0;
    const t = this.toTap;
    t.buf = this.opened.buf;
    t.count = 0;
    for (const index of this.seen) outPos = this.openSession(batch, index, now, outPos);
    if (t.count === 0) return;
    if (this.coalescer) this.w.writeTap(this.coalescer.coalesce(t), true);
    else this.w.writeTap(t);
  }

  /** TCPv4 super-frames written to the TAP so far (0 without offloads). */
  superFrames(): number {
    return this.coalescer?.counts().superFrames ?? 0;
  }

  /** Opens this batch's remaining datagrams of one session; returns the next free byte of opened. */
  private openSession(batch: Datagrams, index: number, now: number, outPos: number): number {
    const s = this.w.sessions.receiving(index);
    const g = this.gather;
    g.buf = batch.buf;
    let n = 0;
    let bytes = 0;
    for (let i = 0; i < batch.count; i++) {
      if (this.native[i] !== index) continue;
      g.offsets[n] = batch.offsets[i]!;
      g.lengths[n] = batch.lengths[i]!;
      bytes += g.lengths[n]! - constants.TRANSPORT_MIN_LEN;
      n++;
    }
    const { drops, forwarder } = this.w;
    if (n === 0) return outPos;
    if (!s) {
      // A datagram the Device handled in this batch retired it (a rekey completed).
      drops.inc('unknown_index', n);
      return outPos;
    }
    if (now - s.kp.createdAt >= s.kp.limits.rejectAfterTime) {
      drops.inc('expired', n);
      return outPos;
    }
    const o = this.opened;
    openBatch(s.native.open, g, o, 0, n, outPos);
    const t = this.toTap;
    let heard = false;
    let data = false;
    let rx = 0;
    let packets = 0;
    for (let j = 0; j < n; j++) {
      const status = o.status[j];
      if (status !== OPEN_STATUS.OK) {
        drops.inc(
          status === OPEN_STATUS.AUTH
            ? 'decrypt_failed'
            : status === OPEN_STATUS.SHORT
              ? 'short'
              : 'unknown_type',
        );
        continue;
      }
      const counter = o.counters[j]!;
      if (counter >= constants.REJECT_AFTER_MESSAGES) drops.inc('counter_limit');
      else if (!s.kp.replay.accept(counter)) drops.inc('replay');
      else {
        heard = true;
        packets++;
        const off = o.offsets[j]!;
        const len = o.lengths[j]!;
        rx += len + constants.TRANSPORT_OVERHEAD;
        if (len === 0) continue; // a keepalive
        data = true;
        if (len > this.maxFrame) drops.inc('oversize');
        else if (!forwarder.fromPeer(s.peer.id, o.buf, off, len, now)) drops.inc('runt');
        else {
          t.offsets[t.count] = off;
          t.lengths[t.count] = len;
          t.count++;
        }
      }
    }
    if (heard) {
      this.w.traffic.rx(s.peer.id, rx, packets);
      // What the Device's receive path does per authenticated datagram (receive.ts).
      s.peer.newHandshakeAt = undefined;
      if (data) s.peer.dataReceived(now);
    }
    return outPos + bytes;
  }

  /** Whether the protocol has nothing to do for this datagram beyond what openSession does. */
  private routine(peer: Peer, kp: Keypair, addr: number, port: number, now: number): boolean {
    const e = peer.endpoint;
    if (kp === peer.next || !e || e.port !== port || endpointAddress(e) !== addr) return false;
    if (kp !== peer.current || !kp.isInitiator || peer.pending) return true;
    const { rejectAfterTime, keepaliveTimeout, rekeyTimeout } = this.w.device.timers;
    return now - kp.createdAt < rejectAfterTime - keepaliveTimeout - rekeyTimeout;
  }

  private ensure(batch: Datagrams): void {
    const items = batch.offsets.length;
    if (this.native.length >= items) return;
    this.native = new Float64Array(items);
    this.gather = {
      buf: batch.buf,
      offsets: new Uint32Array(items),
      lengths: new Uint32Array(items),
      count: 0,
    };
    this.opened = newOpened(items, batch.buf.length);
    this.toTap = {
      buf: this.opened.buf,
      offsets: new Uint32Array(items),
      lengths: new Uint32Array(items),
      count: 0,
    };
  }
}

/** Whether the Device accepted the datagram whose actions start at `start`: it dropped nothing. */
function authenticated(actions: Action[], start: number): boolean {
  for (let k = start; k < actions.length; k++) if (actions[k]!.type === 'drop') return false;
  return true;
}
