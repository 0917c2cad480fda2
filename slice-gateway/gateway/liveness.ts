/**
 * Keeps every peer's session up while the gateway runs, and tries a peer's other addresses
 * when the one in use does not answer.
 *
 * The protocol alone (WireGuard's timers) handshakes only when there is something to send and
 * lets an idle session expire after rejectAfterTime (3 minutes). A slice gateway wants each
 * peer's state known before the first frame (status, events, a first packet without a
 * handshake's delay) and no peer-down flapping on an idle slice, so once a second, per peer:
 *   - no usable session, none just answered, no handshake in flight → initiate;
 *   - we initiated the current session and it is due for rekey → initiate (as a send would);
 *   - the peer initiated it and has not renewed it by the time the protocol's renew-on-receive
 *     would have (rejectAfterTime − keepalive − rekeyTimeout) → initiate;
 *   - not up, several known addresses, the handshake unanswered for rekeyTimeout → move to the
 *     next address: the protocol's next retry goes there.
 * Roaming is left to the protocol: an authenticated packet from anywhere moves the peer.
 * Cost: one pass over the peers a second, one handshake per peer per rekey interval.
 */
import type { Action, Device, Endpoint, Peer } from '../protocol/index.ts';

interface Addresses {
  list: Endpoint[];
  /** Index in list of the address in use. */
  at: number;
  movedAt: number;
}

export class Liveness {
  private readonly addresses = new Map<string, Addresses>();

  constructor(private readonly device: Device) {}

  /** Sets the addresses configured for a peer (from the Slice); the first is tried first. */
  setAddresses(peer: string, list: Endpoint[], now: number): void {
    this.addresses.set(peer, { list, at: 0, movedAt: now });
  }

  forget(peer: string): void {
    this.addresses.delete(peer);
  }

  /** Runs the rules above for every peer; the returned actions go to Datapath.perform. */
  tick(now: number): Action[] {
    const out: Action[] = [];
    for (const peer of this.device.peers.values()) this.check(peer, now, out);
    return out;
  }

  /** The rules for one peer (also run at once for a peer just added). */
  check(peer: Peer, now: number, out: Action[]): void {
    const { rejectAfterTime, keepaliveTimeout, rekeyTimeout } = this.device.timers;
    const kp = peer.current;
    if (peer.pending) {
      this.rotate(peer, now, rekeyTimeout);
      return;
    }
    let due: boolean;
    if (!kp || !kp.canSend(now)) due = peer.next === null || now - peer.next.createdAt >= rekeyTimeout;
    else if (kp.isInitiator) due = kp.wantsRekey(now);
    else due = now - kp.createdAt >= rejectAfterTime - keepaliveTimeout - rekeyTimeout;
    if (due) this.device.initiate(peer, out);
  }

  private rotate(peer: Peer, now: number, after: number): void {
    const a = this.addresses.get(peer.id);
    if (!a || a.list.length < 2 || peer.up || now - a.movedAt < after) return;
    a.at = (a.at + 1) % a.list.length;
    a.movedAt = now;
    peer.endpoint = a.list[a.at];
  }
}
