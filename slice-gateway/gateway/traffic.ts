/**
 * Per-peer figures for status and metrics: transport bytes each way, sessions established and
 * the last handshake round trip. The data path updates them once per batch per peer (a Map
 * lookup), never per packet.
 *
 * RTT comes from the handshake, the only exchange the protocol answers at once:
 *   initiator: initiation sent → response received (the responder's two X25519 included, ~0.2 ms);
 *   responder: response sent → the initiator's first datagram on the new session (it confirms
 *              the session at once, with queued frames or a keepalive).
 * So every session measures it on both sides, at least every rekey (2 minutes).
 */
export interface PeerFigures {
  /** UDP payload bytes sent to the peer: transport datagrams and handshake messages. */
  txBytes: number;
  /** UDP payload bytes of authenticated transport datagrams received from the peer. */
  rxBytes: number;
  /** Datagrams sent to the peer, and authenticated ones received from it (as the bytes). */
  txPackets: number;
  rxPackets: number;
  /** Sessions established (handshakes completed), either side initiating. */
  handshakes: number;
  /** The last handshake round trip, ms; undefined until one was measured. */
  rttMs?: number;
}

interface Entry extends PeerFigures {
  initiatedAt?: number;
}

export class PeerStats {
  private readonly byPeer = new Map<string, Entry>();

  get(peer: string): PeerFigures {
    let e = this.byPeer.get(peer);
    if (!e) {
      e = { txBytes: 0, rxBytes: 0, txPackets: 0, rxPackets: 0, handshakes: 0 };
      this.byPeer.set(peer, e);
    }
    return e;
  }

  tx(peer: string, bytes: number, packets = 1): void {
    const e = this.get(peer);
    e.txBytes += bytes;
    e.txPackets += packets;
  }

  rx(peer: string, bytes: number, packets = 1): void {
    const e = this.get(peer);
    e.rxBytes += bytes;
    e.rxPackets += packets;
  }

  /** Our initiation went out; a retry restarts the clock (its response answers the new one only). */
  initiationSent(peer: string, now: number): void {
    (this.get(peer) as Entry).initiatedAt = now;
  }

  /** A session was installed (install-keys). */
  sessionStarted(peer: string, isInitiator: boolean, now: number): void {
    const e = this.get(peer) as Entry;
    e.handshakes++;
    if (!isInitiator || e.initiatedAt === undefined) return;
    // Only our own handshake's completion ends the clock: when both sides initiate at once, the
    // peer's session (installed as responder) arrives first and ours completes after.
    e.rttMs = now - e.initiatedAt;
    e.initiatedAt = undefined;
  }

  /** The initiator used the session we answered at `respondedAt`. */
  responseConfirmed(peer: string, respondedAt: number, now: number): void {
    this.get(peer).rttMs = now - respondedAt;
  }

  forget(peer: string): void {
    this.byPeer.delete(peer);
  }
}
