// The primitives of Noise_IK_25519_ChaChaPoly_BLAKE2s on node:crypto (OpenSSL).
// Every function here that touches packet input returns null on failure instead of
// throwing, so the packet path never sees an exception from a forged datagram.
import crypto from 'node:crypto';
import { KEY_LEN, TAG_LEN } from './constants.ts';

export const HASH_LEN = 32;
const EMPTY = Buffer.alloc(0);
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

export function hash(...parts: Uint8Array[]): Buffer {
  const [only] = parts;
  if (parts.length === 1 && only) return crypto.hash('blake2s256', only, 'buffer');
  const h = crypto.createHash('blake2s256');
  for (const p of parts) h.update(p);
  return h.digest();
}

// OpenSSL's HMAC over BLAKE2s uses its 64-byte block, which is what Noise's HMAC-HASH means.
export function hmac(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = crypto.createHmac('blake2s256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Noise's HKDF (spec §4.3): two or three 32-byte outputs from a chaining key and input material. */
export function hkdf(chainingKey: Uint8Array, input: Uint8Array, outputs: 2 | 3): Buffer[] {
  const temp = hmac(chainingKey, input);
  const out1 = hmac(temp, Uint8Array.of(1));
  const out2 = hmac(temp, out1, Uint8Array.of(2));
  if (outputs === 2) return [out1, out2];
  return [out1, out2, hmac(temp, out2, Uint8Array.of(3))];
}

/** Noise's ChaChaPoly nonce: 32 zero bits then the 64-bit counter, little-endian. */
export function noiseNonce(counter: bigint): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64LE(counter, 4);
  return n;
}

export function aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Buffer {
  const c = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LEN });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  const head = c.update(plaintext);
  c.final();
  return Buffer.concat([head, c.getAuthTag()]);
}

export function aeadOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  ad: Uint8Array,
): Buffer | null {
  if (sealed.length < TAG_LEN) return null;
  const body = sealed.subarray(0, sealed.length - TAG_LEN);
  try {
    const d = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LEN });
    d.setAAD(ad, { plaintextLength: body.length });
    d.setAuthTag(sealed.subarray(sealed.length - TAG_LEN));
    const out = d.update(body);
    d.final();
    return out;
  } catch {
    return null;
  }
}

/** A static or ephemeral X25519 key pair; `handle` is kept so repeated DHs skip the import. */
export interface KeyPair {
  readonly publicKey: Buffer;
  readonly handle: crypto.KeyObject;
}

// Key import costs: OpenSSL 3's DER decoders take ~200-800 us a key on this machine, its JWK
// path ~20 us, so peers' public keys come in as JWK. A raw private key has no JWK form
// without its public half, so keyPairFromPrivate (static keys, test vectors) stays on DER.

export function keyPairFromPrivate(privateKey: Uint8Array): KeyPair {
  if (privateKey.length !== KEY_LEN) throw new RangeError('an X25519 private key is 32 bytes');
  const handle = crypto.createPrivateKey({
    key: Buffer.concat([PKCS8_X25519, privateKey]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = crypto.createPublicKey(handle).export({ format: 'der', type: 'spki' });
  return { publicKey: spki.subarray(SPKI_X25519.length), handle };
}

/** A fresh key pair from OpenSSL, or from `random` when a test injects one. */
export function generateKeyPair(random?: (n: number) => Buffer): KeyPair {
  if (random) return keyPairFromPrivate(random(KEY_LEN));
  const { privateKey, publicKey } = crypto.generateKeyPairSync('x25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return { publicKey: Buffer.from(jwk.x ?? '', 'base64url'), handle: privateKey };
}

/** The raw 32-byte private key, for storing a static key (never on the packet path). */
export function privateKeyBytes(pair: KeyPair): Buffer {
  return Buffer.from(pair.handle.export({ format: 'jwk' }).d ?? '', 'base64url');
}

/**
 * X25519(ours, theirs), or null when their key is a low-order point: OpenSSL refuses an
 * all-zero shared secret, which is the check Noise §12.1 and WireGuard ask for.
 */
export function dh(ours: KeyPair, theirPublic: Uint8Array): Buffer | null {
  if (theirPublic.length !== KEY_LEN) return null;
  try {
    const x = Buffer.from(theirPublic.buffer, theirPublic.byteOffset, KEY_LEN).toString('base64url');
    const publicKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
    return crypto.diffieHellman({ privateKey: ours.handle, publicKey });
  } catch {
    return null;
  }
}

/** Constant-time equality for MACs and keys. */
export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** A 16-byte MAC: HMAC-BLAKE2s truncated (node:crypto has no keyed BLAKE2s; see README). */
export function mac(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  return hmac(key, ...parts).subarray(0, 16);
}

export { EMPTY };
