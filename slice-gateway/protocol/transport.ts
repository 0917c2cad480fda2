// Type-4 transport datagrams in TypeScript: the reference for the native addon's batched
// AEAD and the fallback where it is not loaded.
//
//   frame -> [header 16: 4,0,0,0 | receiver u32 LE | counter u64 LE] || ChaCha20-Poly1305(frame) || tag 16
//
// The AEAD nonce is 4 zero bytes || counter LE (Noise's), the AAD is empty. Per packet this
// costs one cipher context from OpenSSL and one copy of the frame; nothing here blocks.
import crypto from 'node:crypto';
import { MSG_TRANSPORT, TAG_LEN, TRANSPORT_HEADER_LEN } from './constants.ts';
import { noiseNonce } from './crypto.ts';

export function sealTransport(
  key: Uint8Array,
  receiverIndex: number,
  counter: bigint,
  frame: Uint8Array,
): Buffer {
  const out = Buffer.allocUnsafe(TRANSPORT_HEADER_LEN + frame.length + TAG_LEN);
  out.writeUInt32LE(MSG_TRANSPORT, 0);
  out.writeUInt32LE(receiverIndex, 4);
  out.writeBigUInt64LE(counter, 8);
  const c = crypto.createCipheriv('chacha20-poly1305', key, noiseNonce(counter), { authTagLength: TAG_LEN });
  const body = c.update(frame);
  c.final();
  out.set(body, TRANSPORT_HEADER_LEN);
  out.set(c.getAuthTag(), TRANSPORT_HEADER_LEN + frame.length);
  return out;
}

/** Opens the sealed part of a parsed transport datagram, or null when the tag does not verify. */
export function openTransport(key: Uint8Array, counter: bigint, sealed: Uint8Array): Buffer | null {
  const bodyLen = sealed.length - TAG_LEN;
  if (bodyLen < 0) return null;
  try {
    const d = crypto.createDecipheriv('chacha20-poly1305', key, noiseNonce(counter), {
      authTagLength: TAG_LEN,
    });
    d.setAuthTag(sealed.subarray(bodyLen));
    const out = d.update(sealed.subarray(0, bodyLen));
    d.final();
    return out;
  } catch {
    return null;
  }
}
