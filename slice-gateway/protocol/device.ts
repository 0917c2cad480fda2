// The protocol engine of one gateway: our static key, our peers, and the index table that
// routes every datagram to its handshake or session. Pure: the driver passes datagrams and
// frames in and performs the returned actions; time comes from the injected clock.
//
//   receive(datagram, from) -> parse -> type 1/2: mac1 -> load? mac2 / token bucket -> Noise
//                                    -> type 3: cookie for our pending handshake
//                                    -> type 4: index -> session -> replay -> AEAD -> deliver
//   send(peer, frame)       -> current session -> seal            (or stage + handshake)
//   tick()                  -> retries, keepalives, expiry        (call at nextDeadline())
//
// Per transport packet: a Map lookup, a replay-window check and one AEAD; handshakes cost
// two X25519 each side (the static-static DH is cached per peer).
import crypto from 'node:crypto';
import { DEFAULT_TIMERS, REKEY_TIMEOUT_JITTER, type Timers, type TransportCipher } from './constants.ts';
import { dh, generateKeyPair, keyPairFromPrivate, type KeyPair } from './crypto.ts';
import { CookieChecker, type Clock, type Random } from './cookie.ts';
import { HandshakeLimiter, DEFAULT_LIMITS, type LimiterOptions } from './limiter.ts';
import { IndexTable } from './index-table.ts';
import { Keypair, type KeypairLimits } from './keypair.ts';
import { Peer } from './peer.ts';
import { createInitiation, prologue } from './handshake.ts';
import { nextTimestamp } from './tai64n.ts';
import { parse } from './wire.ts';
import { Receiver } from './receive.ts';
import type { Action, Endpoint } from './actions.ts';
import type { IkSetup } from './noise.ts';

const JITTER_POOL_BYTES = 512;

export interface DeviceOptions {
  /** Our X25519 static private key, 32 raw bytes. */
  privateKey: Uint8Array;
  /** The slice name: part of the prologue, so gateways of different slices never pair. */
  slice: string;
  clock: Clock;
  random?: Random;
  limits?: Partial<LimiterOptions>;
  /** Session timers (default DEFAULT_TIMERS); shortened in tests to see many rekeys. */
  timers?: Partial<Timers>;
  /**
   * The transport AEAD (default ChaCha20-Poly1305). Part of the prologue when not the default,
   * so two gateways configured differently fail the handshake instead of failing every packet.
   */
  cipher?: TransportCipher;
}

export class Device {
  readonly publicKey: Buffer;
  readonly clock: Clock;
  readonly random: Random;
  readonly setup: IkSetup;
  readonly peers = new Map<string, Peer>();
  readonly index: IndexTable;
  readonly cookies: CookieChecker;
  readonly limiter: HandshakeLimiter;
  readonly timers: Readonly<Timers>;
  readonly cipher: TransportCipher;
  private readonly staticKey: KeyPair;
  private readonly receiver: Receiver;

  constructor(options: DeviceOptions) {
    this.clock = options.clock;
    this.random = options.random ?? crypto.randomBytes;
    this.staticKey = keyPairFromPrivate(options.privateKey);
    this.publicKey = this.staticKey.publicKey;
    this.timers = checkTimers({ ...DEFAULT_TIMERS, ...options.timers });
    this.cipher = options.cipher ?? 'chacha20-poly1305';
    this.setup = { prologue: prologue(options.slice, this.cipher), localStatic: this.staticKey };
    this.index = new IndexTable(this.random);
    this.cookies = new CookieChecker(this.publicKey, this.clock, this.random);
    this.limiter = new HandshakeLimiter(this.clock, { ...DEFAULT_LIMITS, ...options.limits });
    this.receiver = new Receiver(this);
  }

  /** Adds a peer by its static public key (raw or base64, as in the Slice objects); returns its id. */
  addPeer(publicKey: Uint8Array | string, endpoint?: Endpoint): string {
    const key = typeof publicKey === 'string' ? Buffer.from(publicKey, 'base64') : Buffer.from(publicKey);
    const id = key.toString('base64');
    if (!this.peers.has(id))
      this.peers.set(id, new Peer(key, dh(this.staticKey, key), this.clock, endpoint, this.timers));
    return id;
  }

  removePeer(id: string): Action[] {
    const peer = this.peers.get(id);
    if (!peer) return [];
    const out: Action[] = [];
    this.clearHandshake(peer);
    peer.expire(this.clock.now(), (kp) => this.retire(peer, kp, out), true);
    this.peers.delete(id);
    return out;
  }

  peer(id: string): Peer | undefined {
    return this.peers.get(id);
  }

  /** Seals `frame` for `peer`, or queues it and starts a handshake. */
  send(peerId: string, frame: Uint8Array): Action[] {
    const out: Action[] = [];
    const peer = this.peers.get(peerId);
    if (!peer) return [{ type: 'drop', reason: 'unknown_peer', peer: peerId }];
    this.sendFrame(peer, frame, false, out);
    return out;
  }

  receive(datagram: Uint8Array, from: Endpoint): Action[] {
    const out: Action[] = [];
    const msg = parse(datagram);
    if (typeof msg === 'string') out.push({ type: 'drop', reason: msg, endpoint: from });
    else this.receiver.dispatch(msg, from, out);
    return out;
  }

  tick(): Action[] {
    const out: Action[] = [];
    const now = this.clock.now();
    for (const peer of this.peers.values()) {
      if (peer.pending && peer.retransmitAt !== undefined && now >= peer.retransmitAt) {
        if (now - (peer.attemptStart ?? now) >= this.timers.rekeyAttemptTime) {
          out.push({ type: 'handshake-failed', peer: peer.id, droppedFrames: peer.staged.length });
          peer.staged = [];
          this.clearHandshake(peer);
        } else this.initiate(peer, out, true);
      }
      if (peer.keepaliveAt !== undefined && now >= peer.keepaliveAt) {
        peer.keepaliveAt = undefined;
        this.sendFrame(peer, Buffer.alloc(0), true, out);
      }
      if (peer.newHandshakeAt !== undefined && now >= peer.newHandshakeAt) {
        peer.newHandshakeAt = undefined;
        this.initiate(peer, out);
      }
      const wipe = peer.zeroKeysAt !== undefined && now >= peer.zeroKeysAt;
      if (wipe) {
        peer.zeroKeysAt = undefined;
        this.clearHandshake(peer);
      }
      peer.expire(now, (kp) => this.retire(peer, kp, out), wipe);
      peer.report(out, now);
    }
    return out;
  }

  /** When tick() next has work, in clock.now() milliseconds; undefined when idle. */
  nextDeadline(): number | undefined {
    let min: number | undefined;
    for (const peer of this.peers.values()) {
      const d = peer.nextDeadline();
      if (d !== undefined && (min === undefined || d < min)) min = d;
    }
    return min;
  }

  sendFrame(peer: Peer, frame: Uint8Array, keepalive: boolean, out: Action[]): void {
    const now = this.clock.now();
    const kp = peer.current;
    const datagram = kp?.seal(frame, now);
    if (kp && datagram && peer.endpoint) {
      out.push({ type: 'send', peer: peer.id, endpoint: peer.endpoint, datagram });
      peer.keepaliveAt = undefined;
      if (!keepalive) peer.dataSent(now, this.jitter);
      if (kp.wantsRekey(now)) this.initiate(peer, out);
      return;
    }
    if (keepalive) return;
    // A copy: the driver may reuse its buffer once send() returns.
    peer.stage(Buffer.from(frame));
    this.initiate(peer, out);
  }

  /** Sends a handshake initiation unless one is in flight (`retry` replaces it). */
  initiate(peer: Peer, out: Action[], retry = false): void {
    if ((peer.pending && !retry) || !peer.endpoint || !peer.ss) return;
    const now = this.clock.now();
    peer.attemptStart ??= now;
    if (peer.pending) this.index.delete(peer.pending.localIndex);
    const localIndex = this.index.allocate({ kind: 'handshake', peer });
    peer.sentTimestamp = nextTimestamp(this.clock.wall(), peer.sentTimestamp);
    const ephemeral = generateKeyPair(this.random);
    const created = createInitiation(
      this.setup,
      peer.publicKey,
      peer.ss,
      localIndex,
      ephemeral,
      peer.sentTimestamp,
    );
    if (!created) {
      this.index.delete(localIndex);
      return;
    }
    peer.cookies.addMacs(created.datagram);
    peer.pending = { initiator: created.initiator, localIndex };
    peer.retransmitAt = now + this.timers.rekeyTimeout + this.jitter();
    peer.keepaliveAt = undefined;
    out.push({ type: 'send', peer: peer.id, endpoint: peer.endpoint, datagram: created.datagram });
  }

  /** A new session: registers its index and tells the driver its keys. */
  newKeypair(peer: Peer, kp: Keypair, out: Action[]): void {
    this.index.set(kp.localIndex, { kind: 'keypair', peer, keypair: kp });
    const { localIndex, remoteIndex, sendKey, recvKey, isInitiator } = kp;
    out.push({
      type: 'install-keys',
      peer: peer.id,
      keys: { localIndex, remoteIndex, sendKey, recvKey, isInitiator },
    });
  }

  retire(peer: Peer, kp: Keypair, out: Action[]): void {
    this.index.delete(kp.localIndex);
    out.push({ type: 'retire-keys', peer: peer.id, localIndex: kp.localIndex });
  }

  clearHandshake(peer: Peer): void {
    if (peer.pending) this.index.delete(peer.pending.localIndex);
    peer.pending = null;
    peer.attemptStart = undefined;
    peer.retransmitAt = undefined;
  }

  /**
   * Random 0-333 ms, so peers that lost packets together do not retry in lockstep. Drawn from a
   * pool: a sender asks for one per data batch, and a randomBytes call (~15 µs) per batch was a
   * fifth of a ping's time in the gateway.
   */
  readonly jitter = (): number => {
    if (this.jitterPos + 2 > this.jitterPool.length) {
      this.jitterPool = this.random(JITTER_POOL_BYTES);
      this.jitterPos = 0;
    }
    const r = this.jitterPool.readUInt16LE(this.jitterPos);
    this.jitterPos += 2;
    return r % (REKEY_TIMEOUT_JITTER + 1);
  };
  private jitterPool: Buffer = Buffer.alloc(0);
  private jitterPos = 0;

  /** The limits of a new session: as initiator, a rekey age jittered down by up to 1/24 (5 s of 120 s). */
  keypairLimits(initiator: boolean): KeypairLimits {
    const { rekeyAfterTime, rejectAfterTime } = this.timers;
    const spread = Math.floor(rekeyAfterTime / 24) + 1;
    const jitter = initiator ? this.random(2).readUInt16LE(0) % spread : 0;
    return { rekeyAfterTime: rekeyAfterTime - jitter, rejectAfterTime, cipher: this.cipher };
  }
}

function checkTimers(t: Timers): Timers {
  for (const [name, v] of Object.entries(t))
    if (!Number.isFinite(v) || v <= 0)
      throw new RangeError(`timers.${name} ${v}: must be a positive number of ms`);
  if (t.rejectAfterTime <= t.rekeyAfterTime)
    throw new RangeError(
      `timers.rejectAfterTime ${t.rejectAfterTime}: must exceed rekeyAfterTime ${t.rekeyAfterTime}`,
    );
  return t;
}
