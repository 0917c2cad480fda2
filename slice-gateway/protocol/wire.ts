// The four datagram types and their strict parser. Layouts (little-endian, byte offsets):
//
//   1 initiation  [0]=1 [1..4)=0 sender[4..8) ephemeral[8..40) static[40..88)
//                 timestamp[88..116) mac1[116..132) mac2[132..148)          148 bytes
//   2 response    [0]=2 [1..4)=0 sender[4..8) receiver[8..12) ephemeral[12..44)
//                 empty[44..60) mac1[60..76) mac2[76..92)                     92 bytes
//   3 cookie      [0]=3 [1..4)=0 receiver[4..8) nonce[8..32) cookie[32..64)  64 bytes
//   4 transport   [0]=4 [1..4)=0 receiver[4..8) counter[8..16) sealed[16..)  >= 32 bytes
//
// parse() reads fields without copying and never throws: a datagram is either one of these
// shapes or a drop reason. The native addon shares the type-4 layout byte for byte.
import {
  COOKIE_REPLY_LEN,
  INITIATION_LEN,
  MAC_LEN,
  MSG_COOKIE_REPLY,
  MSG_INITIATION,
  MSG_RESPONSE,
  MSG_TRANSPORT,
  RESPONSE_LEN,
  TRANSPORT_HEADER_LEN,
  TRANSPORT_MIN_LEN,
} from './constants.ts';
import type { DropReason } from './drop-reason.ts';

export interface Initiation {
  type: typeof MSG_INITIATION;
  bytes: Buffer;
  senderIndex: number;
  /** The Noise message 1: ephemeral, encrypted static, encrypted timestamp. */
  noise: Buffer;
}

export interface Response {
  type: typeof MSG_RESPONSE;
  bytes: Buffer;
  senderIndex: number;
  receiverIndex: number;
  /** The Noise message 2: ephemeral, encrypted empty payload. */
  noise: Buffer;
}

export interface CookieReply {
  type: typeof MSG_COOKIE_REPLY;
  receiverIndex: number;
  nonce: Buffer;
  encryptedCookie: Buffer;
}

export interface TransportData {
  type: typeof MSG_TRANSPORT;
  receiverIndex: number;
  counter: bigint;
  /** Ciphertext and tag. */
  sealed: Buffer;
}

export type Message = Initiation | Response | CookieReply | TransportData;

const EXACT: Record<number, number> = {
  [MSG_INITIATION]: INITIATION_LEN,
  [MSG_RESPONSE]: RESPONSE_LEN,
  [MSG_COOKIE_REPLY]: COOKIE_REPLY_LEN,
};

export function parse(datagram: Uint8Array): Message | DropReason {
  const b = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  if (b.length < 4) return 'short';
  const type = b[0] ?? 0;
  if (type < MSG_INITIATION || type > MSG_TRANSPORT || b[1] !== 0 || b[2] !== 0 || b[3] !== 0) {
    return 'unknown_type';
  }
  if (type === MSG_TRANSPORT) {
    if (b.length < TRANSPORT_MIN_LEN) return 'short';
    return {
      type,
      receiverIndex: b.readUInt32LE(4),
      counter: b.readBigUInt64LE(8),
      sealed: b.subarray(TRANSPORT_HEADER_LEN),
    };
  }
  const size = EXACT[type] ?? 0;
  if (b.length < size) return 'short';
  if (b.length > size) return 'bad_length';
  if (type === MSG_INITIATION) {
    return { type, bytes: b, senderIndex: b.readUInt32LE(4), noise: b.subarray(8, size - 2 * MAC_LEN) };
  }
  if (type === MSG_RESPONSE) {
    return {
      type,
      bytes: b,
      senderIndex: b.readUInt32LE(4),
      receiverIndex: b.readUInt32LE(8),
      noise: b.subarray(12, size - 2 * MAC_LEN),
    };
  }
  return {
    type: MSG_COOKIE_REPLY,
    receiverIndex: b.readUInt32LE(4),
    nonce: b.subarray(8, 32),
    encryptedCookie: b.subarray(32, 64),
  };
}

/** A type-1 datagram with zero MACs; the cookie generator fills them in. */
export function buildInitiation(senderIndex: number, noise: Uint8Array): Buffer {
  const b = Buffer.alloc(INITIATION_LEN);
  b[0] = MSG_INITIATION;
  b.writeUInt32LE(senderIndex, 4);
  b.set(noise, 8);
  return b;
}

export function buildResponse(senderIndex: number, receiverIndex: number, noise: Uint8Array): Buffer {
  const b = Buffer.alloc(RESPONSE_LEN);
  b[0] = MSG_RESPONSE;
  b.writeUInt32LE(senderIndex, 4);
  b.writeUInt32LE(receiverIndex, 8);
  b.set(noise, 12);
  return b;
}

export function buildCookieReply(
  receiverIndex: number,
  nonce: Uint8Array,
  encryptedCookie: Uint8Array,
): Buffer {
  const b = Buffer.alloc(COOKIE_REPLY_LEN);
  b[0] = MSG_COOKIE_REPLY;
  b.writeUInt32LE(receiverIndex, 4);
  b.set(nonce, 8);
  b.set(encryptedCookie, 32);
  return b;
}
