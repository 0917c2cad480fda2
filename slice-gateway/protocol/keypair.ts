// One direction pair of transport keys from one handshake, with its counters. A peer holds
// up to three (previous, current, next; see peer.ts). Limits are WireGuard's: a keypair stops
// sending after REJECT_AFTER_MESSAGES or REJECT_AFTER_TIME, and the initiator of a keypair
// starts the next handshake at REKEY_AFTER_MESSAGES or REKEY_AFTER_TIME (the times come from
// the Device's Timers).
import {
  DEFAULT_TIMERS,
  REJECT_AFTER_MESSAGES,
  REKEY_AFTER_MESSAGES,
  type TransportCipher,
} from './constants.ts';
import type { DropReason } from './drop-reason.ts';
import { ReplayWindow } from './replay.ts';
import { openTransport, sealTransport } from './transport.ts';
import type { Transport } from './noise.ts';

export interface KeypairLimits {
  /** Jittered below the Device's rekeyAfterTime so peers that handshook together do not rekey together. */
  rekeyAfterTime: number;
  rejectAfterTime: number;
  cipher: TransportCipher;
}

const DEFAULT_LIMITS: KeypairLimits = { ...DEFAULT_TIMERS, cipher: 'chacha20-poly1305' };

export class Keypair {
  sendCounter = 0n;
  readonly replay = new ReplayWindow();
  readonly sendKey: Buffer;
  readonly recvKey: Buffer;

  constructor(
    transport: Transport,
    /** Our index: the receiver index the peer puts on datagrams to us. */
    readonly localIndex: number,
    /** The peer's index, put on our datagrams. */
    readonly remoteIndex: number,
    readonly isInitiator: boolean,
    readonly createdAt: number,
    readonly limits: KeypairLimits = DEFAULT_LIMITS,
  ) {
    this.sendKey = transport.sendKey;
    this.recvKey = transport.recvKey;
  }

  canSend(now: number): boolean {
    return this.sendCounter < REJECT_AFTER_MESSAGES && now - this.createdAt < this.limits.rejectAfterTime;
  }

  /** True when this side made the keypair and it is due for replacement. */
  wantsRekey(now: number): boolean {
    return (
      this.isInitiator &&
      (this.sendCounter >= REKEY_AFTER_MESSAGES || now - this.createdAt >= this.limits.rekeyAfterTime)
    );
  }

  /** Seals a frame (empty for a keepalive), or null if the keypair may no longer send. */
  seal(frame: Uint8Array, now: number): Buffer | null {
    if (!this.canSend(now)) return null;
    return sealTransport(this.sendKey, this.remoteIndex, this.sendCounter++, frame, this.limits.cipher);
  }

  open(counter: bigint, sealed: Uint8Array, now: number): Buffer | DropReason {
    if (now - this.createdAt >= this.limits.rejectAfterTime) return 'expired';
    if (counter >= REJECT_AFTER_MESSAGES) return 'counter_limit';
    if (!this.replay.mayAccept(counter)) return 'replay';
    const frame = openTransport(this.recvKey, counter, sealed, this.limits.cipher);
    if (!frame) return 'decrypt_failed';
    return this.replay.accept(counter) ? frame : 'replay';
  }
}
