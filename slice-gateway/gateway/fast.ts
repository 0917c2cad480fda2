/**
 * The data path's side of the native fast path (native/fastpath.ts): what it publishes, and
 * how what the fast path did gets back into the protocol's state.
 *
 *   publish(now) — at the end of every JavaScript turn of the data path:
 *     per peer: the current session, if it can send without the protocol (live, an endpoint,
 *               no frames staged, no rekey due) → setTx, its send counter into counters[slot]
 *               each receiving session the data path would open natively (rx.ts `routine`)
 *               → setRx with its replay window, until the moment it stops being routine
 *   forwarder changes (MacMirror) → setMac / deleteMac, LOCAL as slot 0
 *   sync(now) — at the start of every JavaScript turn, and every SYNC_MS while packets flow:
 *     counters[slot] → the session's sendCounter; per slot bytes and packets → PeerStats;
 *     first and last times → the peer's keepalive and new-handshake timers (as receive.ts and
 *     Sessions.reserve do per datagram); global drops → the DropCounter
 *
 * Why both: the fast path only follows what JavaScript decided, and JavaScript only runs when a
 * packet needs it, so the two meet at the edges of each JavaScript turn. Between turns the fast
 * path owns the published send counters and nothing else changes protocol state, so a sync at
 * the start of a turn makes the TypeScript view exact again. The protocol's timers work in
 * seconds; a SYNC_MS lag on them is far inside their slack.
 * Cost: publish compares a few fields per session and calls native code only on change.
 */
import { FAST_SLOTS, FastPath, GLOBAL, GLOBAL_BASE, STAT, STAT_FIELDS } from '../../native/index.ts';
import { constants, type Device, type Peer } from '../protocol/index.ts';
import type { DropCounter } from './counters.ts';
import { LOCAL, type MacMirror } from './forwarder.ts';
import { endpointAddress, type Sessions } from './sessions.ts';
import type { PeerStats } from './traffic.ts';

type Keypair = NonNullable<Peer['current']>;

/** How often counters and timers are folded while the fast path carries traffic. */
export const SYNC_MS = 100;

interface Published {
  kp: Keypair;
  endpoint: object;
  until: number;
  /** The publish() that last found it routine (receiving sessions). */
  round: number;
}

export class FastLane implements MacMirror {
  private readonly slots = new Map<string, number>();
  private readonly peerOf = new Array<Peer | undefined>(FAST_SLOTS);
  private readonly tx = new Array<Published | undefined>(FAST_SLOTS);
  private readonly rx = new Map<number, Published>();
  /** Fast-path time minus the data path's clock, measured at each publish and sync. */
  private offset = 0;
  private round = 0;

  constructor(
    private readonly fast: FastPath,
    private readonly device: Device,
    private readonly sessions: Sessions,
    private readonly traffic: PeerStats,
    private readonly drops: DropCounter,
    private readonly clockNow: () => number,
  ) {}

  /** Publishes the sessions that are routine now, and withdraws the ones no longer so. */
  publish(now: number): void {
    this.offset = FastPath.now() - this.clockNow();
    const round = ++this.round;
    for (const peer of this.device.peers.values()) {
      const slot = this.slotOf(peer.id);
      if (slot === undefined) continue;
      this.publishTx(peer, slot, now);
      this.publishRx(peer, peer.current, slot, now, round);
      this.publishRx(peer, peer.previous, slot, now, round);
      this.publishRx(peer, peer.older, slot, now, round);
    }
    for (const [index, p] of this.rx) {
      if (p.round === round) continue;
      this.fast.deleteRx(index);
      this.rx.delete(index);
    }
    for (let slot = 1; slot < FAST_SLOTS; slot++) {
      const peer = this.peerOf[slot];
      if (this.tx[slot] && (!peer || !this.device.peers.has(peer.id))) this.withdrawTx(slot);
    }
  }

  /** Folds what the fast path did since the last sync into the protocol and the figures; false if it did nothing. */
  sync(): boolean {
    const s = this.fast.stats;
    if (s[GLOBAL_BASE + GLOBAL.DIRTY] === 0) return false;
    this.offset = FastPath.now() - this.clockNow();
    for (let slot = 1; slot < FAST_SLOTS; slot++) {
      const peer = this.peerOf[slot];
      const at = slot * STAT_FIELDS;
      if (peer && this.tx[slot]) this.readCounter(slot);
      if (s[at + STAT.RX_PACKETS] === 0 && s[at + STAT.TX_PACKETS] === 0) continue;
      if (peer) this.foldTimers(peer, s, at);
      s.fill(0, at, at + STAT_FIELDS);
    }
    const g = GLOBAL_BASE;
    this.count('tap_full', s[g + GLOBAL.TAP_FULL]!);
    this.count('tap_refused', s[g + GLOBAL.TAP_REFUSED]!);
    this.count('udp_full', s[g + GLOBAL.UDP_FULL]!);
    this.count('udp_refused', s[g + GLOBAL.UDP_REFUSED]!);
    this.count('decrypt_failed', s[g + GLOBAL.DECRYPT_FAILED]!);
    s.fill(0, g + GLOBAL.TAP_FULL, g + GLOBAL.DECRYPT_FAILED + 1);
    s[g + GLOBAL.DIRTY] = 0;
    return true;
  }

  /** Packets the fast path carried, each way, since start. */
  carried(): { rx: number; tx: number } {
    const s = this.fast.stats;
    return { rx: s[GLOBAL_BASE + GLOBAL.RX]!, tx: s[GLOBAL_BASE + GLOBAL.TX]! };
  }

  /** The peer is gone: its slot's sessions and MACs are withdrawn (the forwarder forgets the MACs). */
  forgetPeer(id: string): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    this.sync();
    this.withdrawTx(slot);
    this.slots.delete(id);
    this.peerOf[slot] = undefined;
  }

  /** Withdraws everything (stop). */
  clear(): void {
    this.sync();
    this.fast.clear();
    this.rx.clear();
    this.tx.fill(undefined);
  }

  // MacMirror: the forwarder's table, LOCAL as slot 0.
  set(mac: number, port: string): void {
    const slot = port === LOCAL ? 0 : this.slotOf(port);
    if (slot === undefined || !this.fast.setMac(mac, slot)) this.fast.deleteMac(mac);
  }

  delete(mac: number): void {
    this.fast.deleteMac(mac);
  }

  seen(mac: number): number | undefined {
    const t = this.fast.macSeen(mac);
    return t === undefined ? undefined : t - this.offset;
  }

  private publishRx(peer: Peer, kp: Keypair | null, slot: number, now: number, round: number): void {
    const e = peer.endpoint;
    if (!kp || !e) return;
    const until = this.rxUntil(peer, kp);
    const native = this.sessions.get(kp.localIndex);
    if (!native || until <= now) return;
    const p = this.rx.get(kp.localIndex);
    if (p && p.kp === kp && p.endpoint === e && p.until === until) {
      p.round = round;
      return;
    }
    const addr = endpointAddress(e);
    this.fast.setRx(kp.localIndex, slot, native.open, kp.replay.state, addr, e.port, until + this.offset);
    this.rx.set(kp.localIndex, { kp, endpoint: e, until, round });
  }

  private publishTx(peer: Peer, slot: number, now: number): void {
    const kp = peer.current;
    const e = peer.endpoint;
    const native = kp && this.sessions.get(kp.localIndex);
    const until = kp ? this.txUntil(kp) : 0;
    if (!kp || !e || !native || peer.staged.length > 0 || until <= now || !kp.canSend(now)) {
      this.withdrawTx(slot);
      return;
    }
    this.peerOf[slot] = peer;
    const p = this.tx[slot];
    if (p && p.kp !== kp) this.withdrawTx(slot);
    // Never backwards: a counter value sealed under once must not be handed out again.
    if (this.fast.counters[slot]! < kp.sendCounter || p?.kp !== kp) this.fast.counters[slot] = kp.sendCounter;
    if (p && p.kp === kp && p.endpoint === e && p.until === until) return;
    const limit = kp.isInitiator ? constants.REKEY_AFTER_MESSAGES : constants.REJECT_AFTER_MESSAGES;
    this.fast.setTx(
      slot,
      native.seal,
      kp.remoteIndex,
      endpointAddress(e),
      e.port,
      until + this.offset,
      limit,
    );
    this.tx[slot] = { kp, endpoint: e, until, round: this.round };
  }

  private withdrawTx(slot: number): void {
    if (!this.tx[slot]) return;
    this.readCounter(slot);
    this.fast.deleteTx(slot);
    this.tx[slot] = undefined;
  }

  /** The published session's send counter back from the fast path (it only ever grows). */
  private readCounter(slot: number): void {
    const kp = this.tx[slot]!.kp;
    const c = this.fast.counters[slot]!;
    if (c > kp.sendCounter) kp.sendCounter = c;
  }

  /** Until when the session may send without the protocol: its expiry, or its rekey for the initiator. */
  private txUntil(kp: Keypair): number {
    const expiry = kp.createdAt + kp.limits.rejectAfterTime;
    return kp.isInitiator ? Math.min(expiry, kp.createdAt + kp.limits.rekeyAfterTime) : expiry;
  }

  /** Until when a datagram of the session needs nothing from the protocol (rx.ts `routine`). */
  private rxUntil(peer: Peer, kp: Keypair): number {
    if (kp === peer.next) return 0;
    const expiry = kp.createdAt + kp.limits.rejectAfterTime;
    if (kp !== peer.current || !kp.isInitiator || peer.pending) return expiry;
    const { keepaliveTimeout, rekeyTimeout } = this.device.timers;
    return Math.min(expiry, kp.createdAt + kp.limits.rejectAfterTime - keepaliveTimeout - rekeyTimeout);
  }

  /** What receive.ts and Sessions.reserve do per datagram, once for the slot's activity, in order. */
  private foldTimers(peer: Peer, s: Float64Array, at: number): void {
    const rxPackets = s[at + STAT.RX_PACKETS]!;
    const txPackets = s[at + STAT.TX_PACKETS]!;
    const rx = (): void => {
      if (rxPackets === 0) return;
      this.traffic.rx(peer.id, s[at + STAT.RX_BYTES]!, rxPackets);
      peer.newHandshakeAt = undefined;
      if (s[at + STAT.RX_DATA_FIRST]! > 0) peer.dataReceived(s[at + STAT.RX_DATA_FIRST]! - this.offset);
    };
    const tx = (): void => {
      if (txPackets === 0) return;
      this.traffic.tx(peer.id, s[at + STAT.TX_BYTES]!, txPackets);
      peer.keepaliveAt = undefined;
      peer.dataSent(s[at + STAT.TX_FIRST]! - this.offset, this.device.jitter);
    };
    // Whichever happened last decides, as it would have packet by packet.
    if (s[at + STAT.RX_LAST]! > s[at + STAT.TX_LAST]!) {
      tx();
      rx();
    } else {
      rx();
      tx();
    }
  }

  private count(reason: Parameters<DropCounter['inc']>[0], n: number): void {
    if (n > 0) this.drops.inc(reason, n);
  }

  private slotOf(id: string): number | undefined {
    let slot = this.slots.get(id);
    if (slot !== undefined) return slot;
    for (let i = 1; i < FAST_SLOTS; i++) {
      if (this.peerOf[i] || [...this.slots.values()].includes(i)) continue;
      slot = i;
      break;
    }
    if (slot === undefined) return undefined; // more peers than slots: these stay JavaScript's
    this.slots.set(id, slot);
    this.peerOf[slot] = this.device.peers.get(id);
    return slot;
  }
}
