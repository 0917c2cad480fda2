/**
 * Whether a peer is really connected, for status and events. The data path calls a peer
 * connected while its session may still send — up to 3 minutes after the peer went silent,
 * since a session's keys live that long. An operator wants to hear of a loss sooner, so a
 * peer also counts as lost when we have been sending to it and heard nothing back for
 * SILENCE_MS: every authenticated packet is answered at least by a keepalive within 10 s,
 * so that is the same judgement WireGuard's timers make before starting a new handshake.
 * An idle tunnel (nothing sent) is never judged by silence.
 */
import type { TunnelPeerStatus } from './tunnel.ts';

/** Keepalive timeout (10 s) + rekey timeout (5 s). */
export const SILENCE_MS = 15_000;

interface Seen {
  tx: number;
  rx: number;
  /** When rx last grew, or when it was first seen. */
  rxAt: number;
  /** When tx first grew after rx last did; undefined if it has not since. */
  txSinceRxAt: number | undefined;
}

export class PeerHealth {
  private readonly seen = new Map<string, Seen>();

  /** The poll with `connected` cleared for peers silent while being sent to. */
  judge(polled: readonly TunnelPeerStatus[], now: number): TunnelPeerStatus[] {
    const out: TunnelPeerStatus[] = [];
    const present = new Set<string>();
    for (const p of polled) {
      present.add(p.cluster);
      let s = this.seen.get(p.cluster);
      if (!s || p.rxBytes < s.rx || p.txBytes < s.tx) {
        s = { tx: p.txBytes, rx: p.rxBytes, rxAt: now, txSinceRxAt: undefined };
        this.seen.set(p.cluster, s);
      }
      if (p.rxBytes > s.rx) {
        s.rxAt = now;
        s.txSinceRxAt = undefined;
      } else if (p.txBytes > s.tx) s.txSinceRxAt ??= now;
      s.tx = p.txBytes;
      s.rx = p.rxBytes;
      const silent = s.txSinceRxAt !== undefined && now - s.txSinceRxAt >= SILENCE_MS;
      out.push(silent && p.connected ? { ...p, connected: false } : p);
    }
    for (const c of [...this.seen.keys()]) if (!present.has(c)) this.seen.delete(c);
    return out;
  }

  reset(): void {
    this.seen.clear();
  }
}
