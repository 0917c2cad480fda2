/**
 * L2 forwarding between the local TAP (the slice bridge of this cluster) and the peer clusters.
 * Pure: no I/O, time passed in; the datapath asks it where each frame goes.
 *
 *   TAP frame  → learn src → local? → ARP for a known slice address? answer locally
 *                          → dst learned behind peer P? → P only
 *                          → dst learned on the TAP side? → nowhere (the bridge delivers it)
 *                          → broadcast / multicast / unknown / aged out → every peer
 *   peer frame → learn src behind that peer → the TAP, never another peer
 *
 * Split horizon (SPEC §6): a frame that came from one peer cluster is never sent to another,
 * so a full mesh of any size has no L2 loop and needs no spanning tree. The cost is that a
 * cluster reaches another only directly, which a full mesh always allows.
 *
 * Per frame: two 48-bit MAC reads and at most two Map operations; nothing allocated except a
 * learned entry for a new MAC (the table is bounded) and an ARP reply.
 */
import { arpReply, type ArpTable } from './arp.ts';
import { isGroup, macAt } from './mac.ts';

/** Where frames learned on the local side live, as opposed to a peer id. */
export const LOCAL = '';

export interface ForwarderOptions {
  /** A learned MAC is forgotten after this many ms without a frame from it (default 300 s, as Linux bridges). */
  ageMs?: number;
  /** Most MACs remembered; past it new MACs are not learned, only flooded to (default 16384). */
  maxEntries?: number;
  /** Slice addresses to answer ARP for locally; none by default. */
  arp?: ArpTable;
}

/**
 * A copy of the table kept elsewhere: told each time a MAC is learned on a new side or
 * forgotten (not on every frame), and asked, before an entry ages out, whether the copy's
 * owner forwarded a frame from or to that MAC since (then it is not aged).
 */
export interface MacMirror {
  set(mac: number, port: string): void;
  delete(mac: number): void;
  /** When the copy's owner last saw `mac` (on the forwarder's clock), or undefined. */
  seen(mac: number): number | undefined;
}

/** Where a frame from the TAP goes. */
export type TapDecision =
  | { kind: 'peer'; peer: string }
  | { kind: 'flood' }
  | { kind: 'reply'; frame: Buffer }
  | { kind: 'drop'; reason: 'runt' | 'local' };

interface Entry {
  port: string;
  seen: number;
}

const FLOOD: TapDecision = { kind: 'flood' };
const LOCAL_DROP: TapDecision = { kind: 'drop', reason: 'local' };
const RUNT: TapDecision = { kind: 'drop', reason: 'runt' };
const ETHER_HEADER = 14;

export class Forwarder {
  private readonly table = new Map<number, Entry>();
  private readonly ageMs: number;
  private readonly maxEntries: number;
  private readonly arp: ArpTable | undefined;
  private mirror: MacMirror | undefined;
  /** The reused decision for unicast to a learned peer: valid until the next call. */
  private readonly toPeer = { kind: 'peer' as const, peer: LOCAL };
  /** MACs not learned because the table was full, since construction. */
  tableFull = 0;

  constructor(opts: ForwarderOptions = {}) {
    this.ageMs = opts.ageMs ?? 300_000;
    this.maxEntries = opts.maxEntries ?? 16_384;
    this.arp = opts.arp;
  }

  /**
   * Keeps `mirror` a copy of the table from now on (the native fast path's, datapath.ts),
   * starting with what is known now; undefined stops.
   */
  setMirror(mirror: MacMirror | undefined): void {
    this.mirror = mirror;
    if (mirror) for (const [mac, e] of this.table) mirror.set(mac, e.port);
  }

  /**
   * Decides where the frame `buf[off, off+len)` read from the TAP goes, learning its source
   * as local. The returned object may be reused by the next call.
   */
  fromTap(buf: Uint8Array, off: number, len: number, now: number): TapDecision {
    if (len < ETHER_HEADER) return RUNT;
    this.learn(buf, off + 6, LOCAL, now);
    if (isGroup(buf, off)) {
      const target = this.arp?.requestTarget(buf, off, len);
      if (target !== undefined) {
        const dst = this.lookup(target.mac, now);
        // The owner is on our side of the bridge: it answers itself; nothing need cross the WAN.
        if (dst === LOCAL) return LOCAL_DROP;
        return { kind: 'reply', frame: arpReply(buf, off, target.mac) };
      }
      return FLOOD;
    }
    const port = this.lookup(macAt(buf, off), now);
    if (port === undefined) return FLOOD;
    if (port === LOCAL) return LOCAL_DROP;
    this.toPeer.peer = port;
    return this.toPeer;
  }

  /**
   * Learns the source of a frame that arrived from `peer`. Such a frame may only go to the
   * TAP (split horizon), so there is nothing to decide: false only for a runt to drop.
   */
  fromPeer(peer: string, buf: Uint8Array, off: number, len: number, now: number): boolean {
    if (len < ETHER_HEADER) return false;
    this.learn(buf, off + 6, peer, now);
    return true;
  }

  /** Forgets every MAC learned behind `peer` (it was removed or went down). */
  forgetPeer(peer: string): void {
    for (const [mac, e] of this.table) if (e.port === peer) this.forget(mac);
  }

  /** Drops aged entries; call now and then so MACs that went quiet do not hold memory. */
  sweep(now: number): void {
    for (const [mac, e] of this.table) if (this.aged(mac, e, now)) this.forget(mac);
  }

  /** Where `mac` was last seen (LOCAL or a peer id), or undefined if unknown or aged out. */
  lookup(mac: number, now: number): string | undefined {
    const e = this.table.get(mac);
    if (!e) return undefined;
    if (this.aged(mac, e, now)) {
      this.forget(mac);
      return undefined;
    }
    return e.port;
  }

  get size(): number {
    return this.table.size;
  }

  private learn(buf: Uint8Array, at: number, port: string, now: number): void {
    // A group address as a source is bogus; learning it would send its replies nowhere.
    if (isGroup(buf, at)) return;
    const mac = macAt(buf, at);
    const e = this.table.get(mac);
    if (e) {
      if (e.port !== port) this.mirror?.set(mac, port);
      e.port = port;
      e.seen = now;
    } else if (this.table.size < this.maxEntries) {
      this.table.set(mac, { port, seen: now });
      this.mirror?.set(mac, port);
    } else {
      this.tableFull++;
    }
  }

  /** Whether `e` went quiet for ageMs, here and in the mirror's owner. */
  private aged(mac: number, e: Entry, now: number): boolean {
    if (now - e.seen < this.ageMs) return false;
    const elsewhere = this.mirror?.seen(mac);
    if (elsewhere !== undefined && elsewhere > e.seen) e.seen = elsewhere;
    return now - e.seen >= this.ageMs;
  }

  private forget(mac: number): void {
    this.table.delete(mac);
    this.mirror?.delete(mac);
  }
}
