/**
 * The gateway's data path: the slice's TAP on one side, the peer clusters' gateways over one
 * UDP socket on the other, the protocol Device in between for handshakes and session state.
 *
 *   TAP ─uv_poll→ TapReader batch (≤ 64) ─tx.ts→ size check → Forwarder (learn, unicast/flood,
 *       local ARP) → per peer: gather → reserve counters → sealBatch (native) → one sendmmsg
 *                                       └ no session: device.send (queues, handshakes)
 *   WAN ─uv_poll→ UdpReader batch (recvmmsg) ─rx.ts→ type 4 of a known session → gather per
 *       session → openBatch (native) → replay window → Forwarder (learn; TAP only: split
 *       horizon) → one TAP write batch
 *                                       └ handshakes, first of each session → device.receive
 *   timer at device.nextDeadline() → device.tick(): retries, keepalives, rekeys, expiry
 *   every Action → perform(): datagrams to send, frames to deliver, native keys to install or wipe
 *   a wake-up with ONE routine packet → the native fast path (fast.ts), no JavaScript at all;
 *       each JavaScript turn begins with lane.sync() and ends with lane.publish() (in arm())
 *
 * What may block: nothing. Every fd is non-blocking; a full socket buffer or TAP queue drops
 * the rest of the batch and counts it (`udp_full`, `tap_full`). Everything runs on the one
 * event loop thread, so no locks: a handler runs to completion, which is also why the send
 * counter shared with the Device (sessions.ts) needs no more than a reservation.
 * Cost per packet, steady state: one read or write system call's share (batched), a Map
 * lookup or two in the Forwarder, one native AEAD pass on a reused OpenSSL context, and for
 * each received datagram a replay-window update in bigint. Per batch: one JS call per reader
 * wake-up, one sendmmsg (GSO when the sizes agree), one TypeScript open per session.
 * Allocation per packet: none on the native paths; the Device's paths (handshakes, queued
 * frames) allocate, but they carry a handful of packets per session.
 */
import {
  batchOf,
  newDatagrams,
  TapReader,
  UdpReader,
  type Batch,
  type Datagrams,
  type Tap,
  type UdpSocket,
} from '../../native/index.ts';
import { ipv4ToU32 } from '../../native/batch.ts';
import {
  constants,
  type Action,
  type Clock,
  type Device,
  type Endpoint,
  type Peer,
} from '../protocol/index.ts';
import type { DropCounter } from './counters.ts';
import type { Forwarder } from './forwarder.ts';
import { FastPath } from '../../native/index.ts';
import { FastLane, SYNC_MS } from './fast.ts';
import { checkMtu, ETHER_HEADER } from './mtu.ts';
import { Receiver } from './rx.ts';
import { Sessions } from './sessions.ts';
import { PeerStats } from './traffic.ts';
import { Transmitter } from './tx.ts';

export interface DatapathOptions {
  device: Device;
  /** The TAP on the slice bridge, opened by the caller (constructors do no I/O). */
  tap: Tap;
  /** The gateway's UDP socket, opened by the caller. */
  udp: UdpSocket;
  forwarder: Forwarder;
  drops: DropCounter;
  clock: Clock;
  /** The slice MTU: frames up to this + 14 bytes cross; longer ones are dropped (`oversize`). */
  sliceMtu: number;
  /** The WAN MTU every datagram must fit (default 1500). */
  wanMtu?: number;
  /** The TAP was opened with vnetHdr and TUN_F_CSUM|TSO4: split its super-frames (default false). */
  offloads?: boolean;
  /** Packets per reader wake-up at most (default 64). */
  maxBatch?: number;
  /**
   * Lone routine packets cross in native code without waking JavaScript (native/fastpath.ts;
   * default true). Off, every packet goes through the TypeScript data path: for debugging,
   * and for measuring what the fast path buys.
   */
  fastPath?: boolean;
  /** Told of peer-up, peer-down, endpoint and handshake-failed, for logs, metrics and events. */
  onEvent?: (a: Action) => void;
}

/** What tx.ts and rx.ts share with the datapath. */
export interface Wiring {
  readonly device: Device;
  readonly forwarder: Forwarder;
  readonly drops: DropCounter;
  readonly sessions: Sessions;
  readonly sliceMtu: number;
  readonly offloads: boolean;
  readonly traffic: PeerStats;
  /** ARP replies and other frames for the TAP made while handling a batch. */
  readonly replies: Buffer[];
  sendDatagrams(d: Datagrams, count: number): void;
  /** `ownHeaders`: each frame brings its virtio_net_hdr (the Coalescer's output). */
  writeTap(b: Batch, ownHeaders?: boolean): void;
  perform(actions: Action[]): void;
  /** The initiator just used the session `kp` that we answered: a handshake round trip. */
  confirmed(peer: Peer, kp: NonNullable<Peer['current']>, now: number): void;
}

export class Datapath implements Wiring {
  readonly device: Device;
  readonly forwarder: Forwarder;
  readonly drops: DropCounter;
  readonly sessions: Sessions;
  readonly sliceMtu: number;
  readonly offloads: boolean;
  readonly traffic = new PeerStats();
  readonly replies: Buffer[] = [];
  private readonly tap: Tap;
  private readonly udp: UdpSocket;
  private readonly clock: Clock;
  private readonly tx: Transmitter;
  private readonly rx: Receiver;
  private readonly maxBatch: number;
  private readonly onEvent: (a: Action) => void;
  private readers: { tap: TapReader; udp: UdpReader } | undefined;
  private readonly useFastPath: boolean;
  private lane: FastLane | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private udpDropped = 0;
  private tapDropped = 0;

  /** Validates the MTUs (throws SlicenetError `BAD_MTU` naming the setting); no I/O. */
  constructor(opts: DatapathOptions) {
    checkMtu(opts.sliceMtu, opts.wanMtu ?? 1500);
    this.device = opts.device;
    this.forwarder = opts.forwarder;
    this.drops = opts.drops;
    this.tap = opts.tap;
    this.udp = opts.udp;
    this.clock = opts.clock;
    this.sliceMtu = opts.sliceMtu;
    this.offloads = opts.offloads ?? false;
    this.maxBatch = opts.maxBatch ?? 64;
    this.useFastPath = opts.fastPath ?? true;
    this.onEvent = opts.onEvent ?? (() => {});
    this.sessions = new Sessions(this.device);
    this.tx = new Transmitter(this);
    this.rx = new Receiver(this);
  }

  /** Adds a peer gateway (its static public key and address, from the Slice). */
  addPeer(publicKey: Uint8Array | string, endpoint?: Endpoint): string {
    return this.device.addPeer(publicKey, endpoint);
  }

  removePeer(id: string): void {
    this.lane?.sync();
    this.perform(this.device.removePeer(id));
    this.forwarder.forgetPeer(id);
    this.lane?.forgetPeer(id);
    this.traffic.forget(id);
  }

  confirmed(peer: Peer, kp: NonNullable<Peer['current']>, now: number): void {
    this.traffic.responseConfirmed(peer.id, kp.createdAt, now);
  }

  /** Starts reading the TAP and the socket. Read errors stop the reader and are thrown as uncaught. */
  start(): void {
    if (this.readers) return;
    const batch = { maxBatch: this.maxBatch };
    const tap = new TapReader(this.tap, (b) => this.onTap(b), undefined, { ...batch, maxFrame: 65535 });
    const udp = new UdpReader(this.udp, (b) => this.onUdp(b), undefined, batch);
    this.readers = { tap, udp };
    if (this.useFastPath) {
      const fast = new FastPath(this.tap, this.udp, this.sliceMtu + ETHER_HEADER);
      const clock = this.clock;
      this.lane = new FastLane(fast, this.device, this.sessions, this.traffic, this.drops, () => clock.now());
      this.forwarder.setMirror(this.lane);
      tap.setFast(fast);
      udp.setFast(fast);
      // Between JavaScript turns only the fast path runs: fold what it did into the timers.
      this.syncTimer = setInterval(() => {
        if (this.lane?.sync()) this.arm();
      }, SYNC_MS).unref();
    }
    tap.start();
    udp.start();
    this.arm();
  }

  /** Stops reading, cancels the timer and wipes the native keys. The caller closes the fds. */
  stop(): void {
    this.readers?.tap.close();
    this.readers?.udp.close();
    this.readers = undefined;
    clearInterval(this.syncTimer);
    this.lane?.clear();
    this.forwarder.setMirror(undefined);
    this.lane = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.sessions.clear();
  }

  /** Reader counters, and TCPv4 super-frames split and made (offloads), for metrics. */
  counters():
    | {
        tap: ReturnType<TapReader['counters']>;
        udp: ReturnType<UdpReader['counters']>;
        superFrames: number;
        coalesced: number;
        /** Packets the native fast path carried, each way. */
        fast: { rx: number; tx: number };
      }
    | undefined {
    return (
      this.readers && {
        tap: this.readers.tap.counters(),
        udp: this.readers.udp.counters(),
        superFrames: this.tx.superFrames(),
        coalesced: this.rx.superFrames(),
        fast: this.lane?.carried() ?? { rx: 0, tx: 0 },
      }
    );
  }

  /** Brings the protocol's view up to date with the fast path (for status and metrics readers). */
  sync(): void {
    this.lane?.sync();
  }

  onTap(batch: Batch): void {
    this.lane?.sync();
    const actions: Action[] = [];
    this.tx.onBatch(batch, this.clock.now(), actions);
    this.perform(actions);
  }

  onUdp(batch: Datagrams): void {
    this.lane?.sync();
    const actions: Action[] = [];
    this.rx.onBatch(batch, this.clock.now(), actions);
    this.perform(actions);
  }

  sendDatagrams(d: Datagrams, count: number): void {
    const next = this.udp.send(d, 0, count);
    if (next < count) this.drops.inc('udp_full', count - next);
    if (this.udp.dropped !== this.udpDropped) {
      this.drops.inc('udp_refused', this.udp.dropped - this.udpDropped);
      this.udpDropped = this.udp.dropped;
    }
  }

  writeTap(b: Batch, ownHeaders = false): void {
    const next = this.tap.writeFrames(b, 0, b.count, { ownHeaders });
    if (next < b.count) this.drops.inc('tap_full', b.count - next);
    if (this.tap.dropped !== this.tapDropped) {
      this.drops.inc('tap_refused', this.tap.dropped - this.tapDropped);
      this.tapDropped = this.tap.dropped;
    }
  }

  /**
   * Carries out the Device's actions in order; the slow path (a few packets per session). Also
   * the entry for actions made outside the data path (liveness, peer changes), hence the sync:
   * whoever made them may have read the protocol's state, and a send counter must be current
   * before anything seals.
   */
  perform(actions: Action[]): void {
    this.lane?.sync();
    const sends: { endpoint: Endpoint; datagram: Buffer }[] = [];
    const frames = this.replies.splice(0);
    const now = this.clock.now();
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          sends.push(a);
          if (a.peer === undefined) break;
          this.traffic.tx(a.peer, a.datagram.length);
          if (a.datagram[0] === constants.MSG_INITIATION) this.traffic.initiationSent(a.peer, now);
          break;
        case 'deliver':
          if (a.frame.length > this.sliceMtu + 14) this.drops.inc('oversize');
          else if (this.forwarder.fromPeer(a.peer, a.frame, 0, a.frame.length, now)) frames.push(a.frame);
          else this.drops.inc('runt');
          break;
        case 'install-keys':
          this.sessions.install(a.keys);
          this.traffic.sessionStarted(a.peer, a.keys.isInitiator, now);
          break;
        case 'retire-keys':
          this.sessions.retire(a.localIndex);
          break;
        case 'drop':
          this.drops.inc(a.reason);
          break;
        case 'handshake-failed':
          if (a.droppedFrames) this.drops.inc('no_session', a.droppedFrames);
          this.onEvent(a);
          break;
        default:
          this.onEvent(a);
      }
    }
    if (sends.length) this.sendDatagrams(pack(sends), sends.length);
    if (frames.length) this.writeTap(batchOf(frames));
    this.arm();
  }

  /** Keeps one timer set for the Device's next deadline. */
  private arm(): void {
    if (!this.readers) return;
    this.lane?.publish(this.clock.now());
    const at = this.device.nextDeadline();
    if (at === undefined || at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    // At least 10 ms: a deadline the Device leaves in the past must not spin the loop.
    this.timer = setTimeout(() => this.fire(), Math.max(10, at - this.clock.now()));
  }

  private fire(): void {
    this.lane?.sync();
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    this.forwarder.sweep(now);
    this.perform(this.device.tick());
  }
}

function pack(sends: { endpoint: Endpoint; datagram: Buffer }[]): Datagrams {
  const d = newDatagrams(
    sends.length,
    sends.reduce((s, x) => s + x.datagram.length, 0),
  );
  let pos = 0;
  sends.forEach((s, i) => {
    d.buf.set(s.datagram, pos);
    d.offsets[i] = pos;
    d.lengths[i] = s.datagram.length;
    d.addrs[i] = ipv4ToU32(s.endpoint.address);
    d.ports[i] = s.endpoint.port;
    pos += s.datagram.length;
  });
  d.count = sends.length;
  return d;
}
