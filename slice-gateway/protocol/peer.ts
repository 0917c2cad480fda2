// One remote gateway: its keys, its sessions and its timers. Pure state; device.ts drives it.
//
// Up to four sessions at once, so a rekey never drops traffic (WireGuard's scheme, plus one):
//   current   what we send with;
//   previous  the session current replaced, still accepted for packets in flight;
//   older     the one before previous, still accepted (below);
//   next      a session we answered as responder but have not seen used: the initiator
//             sends on it first, and its first packet to us promotes it to current.
// Why `older`: when both sides initiate at once (both start together, or both rekey together),
// each ends up sending on the session it initiated, so the peer sends on what is our previous.
// WireGuard retires previous at the next rotation, and the datagrams the peer still has in
// flight on it are lost (measured: one ping lost in about one rekey in five after such a
// start). Kept one rotation longer, the peer's sending session is always still here.
// Every session dies at rejectAfterTime (180 s by default); all state is wiped after three of those
// without a new handshake.
import { DEFAULT_TIMERS, MAX_STAGED_FRAMES, type Timers } from './constants.ts';
import { CookieGenerator, type Clock } from './cookie.ts';
import type { Action, Endpoint } from './actions.ts';
import type { Keypair } from './keypair.ts';
import type { IkInitiator } from './noise.ts';

export class Peer {
  readonly id: string;
  readonly cookies: CookieGenerator;
  endpoint: Endpoint | undefined;
  up = false;

  // Responder side: the newest initiation accepted, against replays and floods.
  lastTimestamp: Buffer | undefined;
  lastInitiationAt = -Infinity;

  // Initiator side: our handshake in flight, and its retry schedule.
  pending: { initiator: IkInitiator; localIndex: number } | null = null;
  sentTimestamp: Buffer | undefined;
  attemptStart: number | undefined;
  retransmitAt: number | undefined;

  older: Keypair | null = null;
  previous: Keypair | null = null;
  current: Keypair | null = null;
  next: Keypair | null = null;
  lastHandshakeAt: number | undefined;

  /** Frames waiting for a session, oldest first. */
  staged: Buffer[] = [];

  /** Send a keepalive then: we received data and have sent nothing since. */
  keepaliveAt: number | undefined;
  /** Start a handshake then: we sent data and have heard nothing since. */
  newHandshakeAt: number | undefined;
  zeroKeysAt: number | undefined;

  constructor(
    readonly publicKey: Buffer,
    /** DH(our static, their static): fixed for the pair, so computed once. Null if their key is bad. */
    readonly ss: Buffer | null,
    clock: Clock,
    endpoint?: Endpoint,
    private readonly timers: Timers = DEFAULT_TIMERS,
  ) {
    this.id = publicKey.toString('base64');
    this.cookies = new CookieGenerator(publicKey, clock);
    this.endpoint = endpoint;
  }

  stage(frame: Buffer): void {
    this.staged.push(frame);
    if (this.staged.length > MAX_STAGED_FRAMES) this.staged.shift();
  }

  /**
   * Initiator: the response arrived; the new session becomes current at once. With a next
   * waiting (we also answered the peer's initiation), the peer sends on current now and on
   * next soon: both stay receivable (WireGuard retires current here).
   */
  installAsInitiator(kp: Keypair, now: number, retire: (kp: Keypair) => void): void {
    this.rotatePrevious(this.current, retire);
    if (this.next) {
      this.rotatePrevious(this.next, retire);
      this.next = null;
    }
    this.current = kp;
    this.sessionDerived(now);
  }

  /** Responder: the session waits in next until the initiator uses it. */
  installAsResponder(kp: Keypair, now: number, retire: (kp: Keypair) => void): void {
    if (this.next) retire(this.next);
    this.next = kp;
    this.rotatePrevious(null, retire);
    this.sessionDerived(now);
  }

  /** The initiator's first packet on next confirmed it. */
  confirmNext(retire: (kp: Keypair) => void): void {
    if (!this.next) return;
    this.rotatePrevious(this.current, retire);
    this.current = this.next;
    this.next = null;
  }

  /** Drops sessions past rejectAfterTime, or every session when `all`. */
  expire(now: number, retire: (kp: Keypair) => void, all = false): void {
    const keep = (kp: Keypair | null): Keypair | null => {
      if (kp === null || (!all && now - kp.createdAt < this.timers.rejectAfterTime)) return kp;
      retire(kp);
      return null;
    };
    this.older = keep(this.older);
    this.previous = keep(this.previous);
    this.current = keep(this.current);
    this.next = keep(this.next);
  }

  /** The earliest time at which tick() has work for this peer. */
  nextDeadline(): number | undefined {
    // Called after every packet batch: no arrays, no closures.
    const reject = this.timers.rejectAfterTime;
    let min = earliest(
      earliest(this.retransmitAt, this.keepaliveAt),
      earliest(this.newHandshakeAt, this.zeroKeysAt),
    );
    if (this.older) min = earliest(min, this.older.createdAt + reject);
    if (this.previous) min = earliest(min, this.previous.createdAt + reject);
    if (this.current) min = earliest(min, this.current.createdAt + reject);
    if (this.next) min = earliest(min, this.next.createdAt + reject);
    return min;
  }

  /** Timer bookkeeping for a received authenticated data packet (WireGuard's timersDataReceived). */
  dataReceived(now: number): void {
    this.keepaliveAt ??= now + this.timers.keepaliveTimeout;
  }

  /** We sent a data packet: expect to hear back within keepalive + rekey timeout. */
  dataSent(now: number, jitter: () => number): void {
    this.newHandshakeAt ??= now + this.timers.keepaliveTimeout + this.timers.rekeyTimeout + jitter();
  }

  report(out: Action[], now: number): void {
    const up = this.current?.canSend(now) ?? false;
    if (up !== this.up) out.push({ type: up ? 'peer-up' : 'peer-down', peer: this.id });
    this.up = up;
  }

  /** kp becomes previous, previous becomes older, and the old older is retired. */
  private rotatePrevious(kp: Keypair | null, retire: (kp: Keypair) => void): void {
    if (this.older) retire(this.older);
    this.older = this.previous;
    this.previous = kp;
  }

  private sessionDerived(now: number): void {
    this.lastHandshakeAt = now;
    this.zeroKeysAt = now + 3 * this.timers.rejectAfterTime;
  }
}

/** The earlier of two optional times. */
function earliest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined || a <= b ? a : b;
}
