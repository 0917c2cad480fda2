// mac1, mac2 and cookie replies: WireGuard's defence against handshake floods (whitepaper §5.4).
//
// mac1 is a MAC of the message under a key derived from the receiver's static public key:
// a datagram from someone who does not know that key costs us one MAC, not an X25519.
// Under load the receiver also wants mac2, a MAC under a cookie that only the holder of the
// source address can have: the cookie is MAC(secret, source), the secret changes every two
// minutes, and it travels encrypted (XChaCha20-Poly1305, AD = the mac1 it answers) in a
// cookie reply. The MAC is HMAC-BLAKE2s truncated to 16 bytes (node has no keyed BLAKE2s).
import crypto from 'node:crypto';
import {
  COOKIE_NONCE_LEN,
  COOKIE_REFRESH_TIME,
  KEY_LEN,
  LABEL_COOKIE,
  LABEL_MAC1,
  MAC_LEN,
} from './constants.ts';
import { equal, hash, mac } from './crypto.ts';
import { xaeadOpen, xaeadSeal } from './xchacha.ts';
import { buildCookieReply, type CookieReply } from './wire.ts';

export interface Clock {
  /** Monotonic milliseconds: timers and key ages. */
  now(): number;
  /** Wall-clock milliseconds since the epoch: initiation timestamps only. */
  wall(): number;
}

export type Random = (bytes: number) => Buffer;

function keys(staticPublic: Uint8Array): { mac1Key: Buffer; cookieKey: Buffer } {
  return {
    mac1Key: hash(Buffer.from(LABEL_MAC1), staticPublic),
    cookieKey: hash(Buffer.from(LABEL_COOKIE), staticPublic),
  };
}

const mac1End = (msg: Uint8Array): number => msg.length - 2 * MAC_LEN;
const mac2End = (msg: Uint8Array): number => msg.length - MAC_LEN;

/** The receiving side, keyed by our own static public key. */
export class CookieChecker {
  private readonly mac1Key: Buffer;
  private readonly cookieKey: Buffer;
  private secret: Buffer = Buffer.alloc(KEY_LEN);
  private secretAt = -Infinity;

  constructor(
    localStaticPublic: Uint8Array,
    private readonly clock: Clock,
    private readonly random: Random = crypto.randomBytes,
  ) {
    ({ mac1Key: this.mac1Key, cookieKey: this.cookieKey } = keys(localStaticPublic));
  }

  checkMac1(msg: Buffer): boolean {
    const end = mac1End(msg);
    return equal(mac(this.mac1Key, msg.subarray(0, end)), msg.subarray(end, end + MAC_LEN));
  }

  checkMac2(msg: Buffer, source: string): boolean {
    const end = mac2End(msg);
    return equal(mac(this.cookie(source), msg.subarray(0, end)), msg.subarray(end));
  }

  /** A cookie reply for `msg` (whose sender index is `receiverIndex`) from `source`. */
  createReply(msg: Buffer, receiverIndex: number, source: string): Buffer {
    const nonce = this.random(COOKIE_NONCE_LEN);
    const end = mac1End(msg);
    const sealed = xaeadSeal(this.cookieKey, nonce, this.cookie(source), msg.subarray(end, end + MAC_LEN));
    return buildCookieReply(receiverIndex, nonce, sealed);
  }

  private cookie(source: string): Buffer {
    const now = this.clock.now();
    if (now - this.secretAt >= COOKIE_REFRESH_TIME) {
      this.secret = this.random(KEY_LEN);
      this.secretAt = now;
    }
    return mac(this.secret, Buffer.from(source));
  }
}

/** The sending side for one peer, keyed by that peer's static public key. */
export class CookieGenerator {
  private readonly mac1Key: Buffer;
  private readonly cookieKey: Buffer;
  private cookie: Buffer | null = null;
  private cookieAt = 0;
  private lastMac1: Buffer | null = null;

  constructor(
    peerStaticPublic: Uint8Array,
    private readonly clock: Clock,
  ) {
    ({ mac1Key: this.mac1Key, cookieKey: this.cookieKey } = keys(peerStaticPublic));
  }

  /** Fills mac1 and, with a fresh cookie, mac2 into a type-1 or type-2 datagram in place. */
  addMacs(msg: Buffer): void {
    const end1 = mac1End(msg);
    const mac1 = mac(this.mac1Key, msg.subarray(0, end1));
    msg.set(mac1, end1);
    this.lastMac1 = mac1;
    const end2 = mac2End(msg);
    // A cookie is good for as long as the responder keeps its secret, minus slack for the trip.
    const fresh = this.cookie && this.clock.now() - this.cookieAt < COOKIE_REFRESH_TIME - 5000;
    msg.set(fresh && this.cookie ? mac(this.cookie, msg.subarray(0, end2)) : Buffer.alloc(MAC_LEN), end2);
  }

  /** Takes the cookie from a reply to the last message we sent; false if it does not decrypt. */
  consumeReply(reply: CookieReply): boolean {
    if (!this.lastMac1) return false;
    const cookie = xaeadOpen(this.cookieKey, reply.nonce, reply.encryptedCookie, this.lastMac1);
    if (!cookie) return false;
    this.cookie = cookie;
    this.cookieAt = this.clock.now();
    return true;
  }
}
