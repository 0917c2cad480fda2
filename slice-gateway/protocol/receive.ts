// The receive path for parsed datagrams. Order matters for cost: everything that can be
// refused by a MAC, a table lookup or a token bucket is refused before any X25519 or AEAD.
import { INITIATION_MIN_INTERVAL } from './constants.ts';
import { generateKeyPair } from './crypto.ts';
import { consumeInitiation, consumeResponse, createResponse } from './handshake.ts';
import { Keypair } from './keypair.ts';
import { isNewer } from './tai64n.ts';
import { sameEndpoint, type Action, type Endpoint } from './actions.ts';
import type { Device } from './device.ts';
import type { DropReason } from './drop-reason.ts';
import type { Peer } from './peer.ts';
import type { CookieReply, Initiation, Message, Response, TransportData } from './wire.ts';

export class Receiver {
  constructor(private readonly device: Device) {}

  dispatch(msg: Message, from: Endpoint, out: Action[]): void {
    const drop = (reason: DropReason, peer?: Peer): void => {
      out.push({ type: 'drop', reason, endpoint: from, ...(peer ? { peer: peer.id } : {}) });
    };
    if (msg.type === 4) return this.transport(msg, from, out, drop);
    if (msg.type === 3) return this.cookieReply(msg, drop);
    const { cookies, limiter } = this.device;
    if (!cookies.checkMac1(msg.bytes)) return drop('bad_mac1');
    if (limiter.recordAndCheckLoad()) {
      if (!cookies.checkMac2(msg.bytes, `${from.address}:${from.port}`)) {
        const datagram = cookies.createReply(msg.bytes, msg.senderIndex, `${from.address}:${from.port}`);
        out.push({ type: 'send', endpoint: from, datagram });
        return drop('bad_mac2_needed');
      }
      if (!limiter.allow(from.address)) return drop('rate_limited');
    }
    if (msg.type === 1) this.initiation(msg, from, out, drop);
    else this.response(msg, from, out, drop);
  }

  private initiation(
    msg: Initiation,
    from: Endpoint,
    out: Action[],
    drop: (r: DropReason, p?: Peer) => void,
  ): void {
    const d = this.device;
    const c = consumeInitiation(d.setup, msg, (rs) => d.peers.get(rs.toString('base64'))?.ss ?? undefined);
    if (typeof c === 'string') return drop(c);
    const peer = d.peers.get(c.responder.remoteStatic.toString('base64'));
    if (!peer) return drop('unknown_peer');
    const now = d.clock.now();
    if (!isNewer(c.timestamp, peer.lastTimestamp)) return drop('stale_timestamp', peer);
    if (now - peer.lastInitiationAt < INITIATION_MIN_INTERVAL) return drop('too_soon', peer);

    const localIndex = d.index.allocate({ kind: 'handshake', peer });
    const resp = createResponse(c.responder, localIndex, msg.senderIndex, generateKeyPair(d.random));
    if (!resp) {
      d.index.delete(localIndex);
      return drop('bad_key', peer);
    }
    peer.lastTimestamp = c.timestamp;
    peer.lastInitiationAt = now;
    this.roam(peer, from, out);
    const kp = new Keypair(resp.transport, localIndex, msg.senderIndex, false, now, d.keypairLimits(false));
    peer.installAsResponder(kp, now, (old) => d.retire(peer, old, out));
    d.newKeypair(peer, kp, out);
    peer.cookies.addMacs(resp.datagram);
    peer.keepaliveAt = undefined;
    out.push({ type: 'send', peer: peer.id, endpoint: from, datagram: resp.datagram });
  }

  private response(
    msg: Response,
    from: Endpoint,
    out: Action[],
    drop: (r: DropReason, p?: Peer) => void,
  ): void {
    const d = this.device;
    const entry = d.index.get(msg.receiverIndex);
    if (!entry) return drop('unknown_index');
    const peer = entry.peer;
    if (entry.kind !== 'handshake' || peer.pending?.localIndex !== msg.receiverIndex) {
      return drop('unexpected', peer);
    }
    const t = consumeResponse(peer.pending.initiator, msg);
    if (typeof t === 'string') return drop(t, peer);
    const now = d.clock.now();
    const kp = new Keypair(t, msg.receiverIndex, msg.senderIndex, true, now, d.keypairLimits(true));
    // The handshake's index lives on as the session's: clear pending first so it is kept.
    peer.pending = null;
    d.clearHandshake(peer);
    this.roam(peer, from, out);
    peer.installAsInitiator(kp, now, (old) => d.retire(peer, old, out));
    d.newKeypair(peer, kp, out);
    peer.report(out, now);
    // The responder may not send on the new session until it sees it used: confirm it now,
    // with the frames that waited for it or with a keepalive.
    this.flush(peer, out, true);
  }

  private cookieReply(msg: CookieReply, drop: (r: DropReason, p?: Peer) => void): void {
    const entry = this.device.index.get(msg.receiverIndex);
    if (!entry) return drop('unknown_index');
    if (!entry.peer.cookies.consumeReply(msg)) return drop('decrypt_failed', entry.peer);
  }

  private transport(
    msg: TransportData,
    from: Endpoint,
    out: Action[],
    drop: (r: DropReason, p?: Peer) => void,
  ): void {
    const d = this.device;
    const entry = d.index.get(msg.receiverIndex);
    if (!entry || entry.kind !== 'keypair') return drop('unknown_index');
    const { peer, keypair: kp } = entry;
    const now = d.clock.now();
    const frame = kp.open(msg.counter, msg.sealed, now);
    if (typeof frame === 'string') return drop(frame, peer);
    this.roam(peer, from, out);
    peer.newHandshakeAt = undefined;
    if (kp === peer.next) {
      peer.confirmNext((old) => d.retire(peer, old, out));
      // A session is up: our own initiation, if one is still unanswered, is not needed (else
      // its retry would make a second session a few seconds later).
      d.clearHandshake(peer);
      peer.report(out, now);
      this.flush(peer, out, false);
    }
    if (frame.length > 0) {
      out.push({ type: 'deliver', peer: peer.id, frame });
      peer.dataReceived(now);
    }
    // An initiator that only receives would let its session expire: renew it in time.
    const { rejectAfterTime, keepaliveTimeout, rekeyTimeout } = d.timers;
    const renewAt = rejectAfterTime - keepaliveTimeout - rekeyTimeout;
    if (kp === peer.current && kp.isInitiator && now - kp.createdAt >= renewAt) d.initiate(peer, out);
  }

  private flush(peer: Peer, out: Action[], keepaliveIfEmpty: boolean): void {
    const frames = peer.staged;
    peer.staged = [];
    for (const f of frames) this.device.sendFrame(peer, f, false, out);
    if (frames.length === 0 && keepaliveIfEmpty) this.device.sendFrame(peer, Buffer.alloc(0), true, out);
  }

  private roam(peer: Peer, from: Endpoint, out: Action[]): void {
    if (sameEndpoint(peer.endpoint, from)) return;
    peer.endpoint = { address: from.address, port: from.port };
    out.push({ type: 'endpoint', peer: peer.id, endpoint: peer.endpoint });
  }
}
