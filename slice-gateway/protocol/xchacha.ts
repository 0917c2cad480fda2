// XChaCha20-Poly1305 for cookie replies, built on node:crypto, which has no XChaCha.
//
// HChaCha20 is the ChaCha20 block function without the final feed-forward addition, keeping
// words 0-3 and 12-15. node's `chacha20` cipher takes a 16-byte IV that fills state words
// 12-15 directly (32-bit counter || 96-bit nonce), so one native keystream block gives
// rounds(state) + state; subtracting the known input words recovers HChaCha20 exactly.
// That costs one 64-byte native block instead of a TypeScript ChaCha round loop.
// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha §2.3) is then ChaCha20-Poly1305 under the
// HChaCha20 subkey with nonce 0x00000000 || nonce[16..24].
import crypto from 'node:crypto';
import { aeadOpen, aeadSeal } from './crypto.ts';

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];
const ZERO_BLOCK = Buffer.alloc(64);

export function hchacha20(key: Uint8Array, nonce16: Uint8Array): Buffer {
  const c = crypto.createCipheriv('chacha20', key, nonce16);
  const block = c.update(ZERO_BLOCK);
  const out = Buffer.alloc(32);
  for (let i = 0; i < 4; i++) {
    out.writeUInt32LE((block.readUInt32LE(i * 4) - (SIGMA[i] ?? 0)) >>> 0, i * 4);
    const input = Buffer.from(nonce16.buffer, nonce16.byteOffset, 16).readUInt32LE(i * 4);
    out.writeUInt32LE((block.readUInt32LE(48 + i * 4) - input) >>> 0, 16 + i * 4);
  }
  return out;
}

function split(key: Uint8Array, nonce24: Uint8Array): [Buffer, Buffer] {
  const sub = hchacha20(key, nonce24.subarray(0, 16));
  const nonce = Buffer.alloc(12);
  nonce.set(nonce24.subarray(16, 24), 4);
  return [sub, nonce];
}

export function xaeadSeal(
  key: Uint8Array,
  nonce24: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Buffer {
  const [sub, nonce] = split(key, nonce24);
  return aeadSeal(sub, nonce, plaintext, ad);
}

export function xaeadOpen(
  key: Uint8Array,
  nonce24: Uint8Array,
  sealed: Uint8Array,
  ad: Uint8Array,
): Buffer | null {
  if (nonce24.length !== 24) return null;
  const [sub, nonce] = split(key, nonce24);
  return aeadOpen(sub, nonce, sealed, ad);
}
