/**
 * The gateway's fast path for lone packets (src/fastpath.c): a reader that woke for a single
 * frame or datagram offers it here first (PolledReader.setFast), and a routine one crosses the
 * gateway in C without a JavaScript call.
 *
 *   TAP frame → unicast, source mirrored as local (slot 0), destination behind slot P, P's
 *               sending session published and live → seal with counters[P] → sendto
 *   datagram  → transport message for a published receiving session, from its endpoint, before
 *               `until`, not a replay in its window → open → source MAC mirrored behind the
 *               session's slot → window updated → TAP write
 *
 * The caller owns every decision: it publishes what is routine (setRx, setTx, setMac) and
 * withdraws it when that changes; anything not published, or not fitting, goes to onBatch as
 * before. What the fast path did is added to `stats` (per slot and global, indices in STAT and
 * GLOBAL), and `counters[slot]` is the live send counter of slot's published session: read it
 * back before sealing under that session anywhere else. Times are ms on `now()`'s clock
 * (CLOCK_MONOTONIC). Bad arguments throw TypeError/RangeError naming the argument.
 */
import { type AeadKey } from './aead.ts';
import { loadNative, type NativeFastPath } from './binding.ts';
import type { Tap } from './tap.ts';
import type { UdpSocket } from './udp.ts';

/** Peer slots: 1..SLOTS-1 are peers, 0 is the TAP side. */
export const FAST_SLOTS = 64;

/** Per-slot fields of `stats`, at slot * STAT_FIELDS + field; times are 0 until set. */
export const STAT = {
  RX_BYTES: 0,
  RX_PACKETS: 1,
  /** The last authenticated datagram, keepalives included. */
  RX_LAST: 2,
  RX_DATA_FIRST: 3,
  RX_DATA_LAST: 4,
  TX_BYTES: 5,
  TX_PACKETS: 6,
  TX_FIRST: 7,
  TX_LAST: 8,
} as const;
export const STAT_FIELDS = 9;

/** Global fields of `stats`, after the slots. */
export const GLOBAL = {
  /** Set to 1 by every packet the fast path handles: there is something to fold. */
  DIRTY: 0,
  RX: 1,
  TX: 2,
  TAP_FULL: 3,
  TAP_REFUSED: 4,
  UDP_FULL: 5,
  UDP_REFUSED: 6,
  DECRYPT_FAILED: 7,
} as const;
const GLOBALS = 8;
export const GLOBAL_BASE = FAST_SLOTS * STAT_FIELDS;

export class FastPath {
  /** @internal */
  readonly native: NativeFastPath;
  /** Added to by the fast path; the owner reads and zeroes what it has folded. */
  readonly stats = new Float64Array(GLOBAL_BASE + GLOBALS);
  /** Per slot: the next send counter of its published session. */
  readonly counters = new BigUint64Array(FAST_SLOTS);

  /**
   * `maxFrame`: the longest Ethernet frame either way (sliceMtu + 14); longer ones stay
   * JavaScript's. Borrows the fds: close the readers that use this before closing them.
   */
  constructor(tap: Tap, udp: UdpSocket, maxFrame: number) {
    const { FastPath: Native } = loadNative();
    this.native = new Native(
      tap.fd,
      tap.vnetHdrLen,
      tap.headerFlags,
      udp.fd,
      maxFrame,
      this.stats,
      this.counters,
    );
  }

  /** Now on the fast path's clock (CLOCK_MONOTONIC, ms). */
  static now(): number {
    return loadNative().fastNow();
  }

  /**
   * Publishes receiving session `index` (our index) of the peer in `slot`: datagrams from
   * addr:port (addr as a host-order uint32) are opened with `key`, checked against and recorded
   * in `replayState` (a ReplayWindow's state), until `until`. Replaces any entry for `index`.
   */
  setRx(
    index: number,
    slot: number,
    key: AeadKey,
    replayState: Uint8Array,
    addr: number,
    port: number,
    until: number,
  ) {
    this.native.setRx(index, slot, key.native, addr, port, until, replayState);
  }

  deleteRx(index: number): void {
    this.native.deleteRx(index);
  }

  /**
   * Publishes slot's sending session: frames to MACs behind `slot` are sealed with `key` for the
   * peer's `remoteIndex` and sent to addr:port, while `now() < until` and `counters[slot] < limit`.
   */
  setTx(
    slot: number,
    key: AeadKey,
    remoteIndex: number,
    addr: number,
    port: number,
    until: number,
    limit: bigint,
  ) {
    this.native.setTx(slot, key.native, addr, port, until, remoteIndex, limit);
  }

  deleteTx(slot: number): void {
    this.native.deleteTx(slot);
  }

  /** Mirrors "MAC `mac` (48-bit integer) is behind `slot`"; false if the mirror is full. */
  setMac(mac: number, slot: number): boolean {
    return this.native.setMac(mac, slot);
  }

  deleteMac(mac: number): void {
    this.native.deleteMac(mac);
  }

  /** When the fast path last forwarded a frame from or to `mac`, or undefined. */
  macSeen(mac: number): number | undefined {
    const t = this.native.macSeen(mac);
    return t < 0 ? undefined : t;
  }

  /** The slot the mirror has for `mac`, or undefined (for tests and debugging). */
  macSlot(mac: number): number | undefined {
    const s = this.native.macSlot(mac);
    return s < 0 ? undefined : s;
  }

  /** Withdraws everything published (sessions and MACs); stats and counters stay. */
  clear(): void {
    this.native.clear();
  }
}

/**
 * The native replay window's accept on a ReplayWindow's state: exported so that tests can hold
 * the C and TypeScript windows to the same answers.
 */
export function replayAccept(replayState: Uint8Array, counter: bigint): boolean {
  return loadNative().replayAccept(replayState, counter);
}
