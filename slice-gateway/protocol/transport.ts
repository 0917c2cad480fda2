// Type-4 transport datagrams in TypeScript: the reference for the native addon's batched
// AEAD and the fallback where it is not loaded.
//
//   frame -> [header 16: 4,0,0,0 | receiver u32 LE | counter u64 LE] || AEAD(frame) || tag 16
//
// The AEAD is ChaCha20-Poly1305 unless the Device was configured for AES-256-GCM (both ends
// must agree; the cipher is part of the handshake prologue, so a mismatch never pairs).
// The AEAD nonce is 4 zero bytes || counter LE (Noise's), the AAD is empty. Per packet this
// costs one cipher context from OpenSSL and one copy of the frame; nothing here blocks.
import crypto from 'node:crypto';
import { MSG_TRANSPORT, TAG_LEN, TRANSPORT_HEADER_LEN, type TransportCipher } from './constants.ts';
import { noiseNonce } from './crypto.ts';

export function sealTransport(
  key: Uint8Array,
  receiverIndex: number,
  counter: bigint,
  frame: Uint8Array,
  cipher: TransportCipher = 'chacha20-poly1305',
): Buffer {
  const out = Buffer.allocUnsafe(TRANSPORT_HEADER_LEN + frame.length + TAG_LEN);
  out.writeUInt32LE(MSG_TRANSPORT, 0);
  out.writeUInt32LE(receiverIndex, 4);
  out.writeBigUInt64LE(counter, 8);
  const nonce = noiseNonce(counter);
  const c =
    cipher === 'aes-256-gcm'
      ? crypto.createCipheriv(cipher, key, nonce, { authTagLength: TAG_LEN })
      : crypto.createCipheriv(cipher, key, nonce, { authTagLength: TAG_LEN });
  const body = c.update(frame);
  c.final();
  out.set(body, TRANSPORT_HEADER_LEN);
  out.set(c.getAuthTag(), TRANSPORT_HEADER_LEN + frame.length);
  return out;
}

/** Opens the sealed part of a parsed transport datagram, or null when the tag does not verify. */
export function openTransport(
  key: Uint8Array,
  counter: bigint,
  sealed: Uint8Array,
  cipher: TransportCipher = 'chacha20-poly1305',
): Buffer | null {
  const bodyLen = sealed.length - TAG_LEN;
  if (bodyLen < 0) return null;
  try {
    const nonce = noiseNonce(counter);
    // Two calls because node's typings pick the AEAD overload by the literal cipher name.
    const d =
      cipher === 'aes-256-gcm'
        ? crypto.createDecipheriv(cipher, key, nonce, { authTagLength: TAG_LEN })
        : crypto.createDecipheriv(cipher, key, nonce, { authTagLength: TAG_LEN });
    d.setAuthTag(sealed.subarray(bodyLen));
    const out = d.update(sealed.subarray(0, bodyLen));
    d.final();
    return out;
  } catch {
    return null;
  }
}
