/**
 * Batched AEAD for transport messages, run natively on a reused OpenSSL context (src/aead.c).
 *
 *   frames ─sealBatch→ datagrams: header(16) ‖ ciphertext ‖ tag(16)
 *   datagrams ─openBatch→ plaintext frames + counter + status per item
 *
 * Wire format (WireGuard's transport message): byte 0 = 4, bytes 1–3 = 0, bytes 4–7 receiver
 * index (uint32 LE), bytes 8–15 counter (uint64 LE), then the ciphertext and 16-byte tag.
 * Nonce = 4 zero bytes ‖ counter (uint64 LE); AAD empty. Interoperates with node:crypto's
 * `chacha20-poly1305` and `aes-256-gcm` (authTagLength 16).
 * Cost per packet: one IV reset + one encrypt/decrypt pass on the key's own context; no
 * allocation, no JS call. CPU-bound: a batch of N runs to completion on the calling thread.
 */
import type { Batch } from './batch.ts';
import { loadNative, type NativeAeadKey } from './binding.ts';

export type AeadAlg = 'chacha20-poly1305' | 'aes-256-gcm';

/** Header (16) + tag (16): a datagram is this much longer than the frame it carries. */
export const TRANSPORT_OVERHEAD = 32;

/** Per-item result of openBatch. */
export const OPEN_STATUS = {
  /** Authenticated: plaintext, counter are valid. */
  OK: 0,
  /** Shorter than 32 bytes (header + tag). */
  SHORT: 1,
  /** Not a transport message: type ≠ 4 or reserved bytes non-zero. */
  HEADER: 2,
  /** Tag did not verify (wrong key, tampered, or forged). */
  AUTH: 3,
} as const;

/** Output of openBatch: a Batch of plaintexts plus a counter and status per item. */
export interface Opened extends Batch {
  counters: BigUint64Array;
  status: Uint8Array;
}

/** Allocates an Opened for up to `items` datagrams of up to `bytes` plaintext bytes in all. */
export function newOpened(items: number, bytes: number): Opened {
  return {
    buf: Buffer.alloc(bytes),
    offsets: new Uint32Array(items),
    lengths: new Uint32Array(items),
    count: 0,
    counters: new BigUint64Array(items),
    status: new Uint8Array(items),
  };
}

/**
 * One session key for one direction pair, with its OpenSSL contexts (one to seal, one to open)
 * keyed once at construction; a packet only resets the nonce.
 * Throws TypeError for an unknown `alg`, RangeError unless `key` is 32 bytes. The key bytes
 * are copied into OpenSSL; the caller may wipe its own copy.
 */
export class AeadKey {
  /** @internal the native key object. */
  readonly native: NativeAeadKey;

  constructor(
    readonly alg: AeadAlg,
    key: Uint8Array,
  ) {
    this.native = new (loadNative().AeadKey)(alg, key);
  }

  /**
   * Frees the OpenSSL contexts, wiping the key schedule, at once rather than at garbage
   * collection (call it when a session key rotates out). Later seal/open calls throw
   * `ERR_KEY_DESTROYED`. Idempotent.
   */
  destroy(): void {
    this.native.destroy();
  }
}

/**
 * Seals frames [start, end) of `frames` into `out`: datagram i (same index as frame i) is
 * written at `out.offsets[i]`, `out.lengths[i] = frames.lengths[i] + 32`, packed one after the
 * other from byte `outStart` of `out.buf`; frame i gets counter `firstCounter + (i - start)`.
 * Sets `out.count = end` and returns the first unused byte of `out.buf`.
 * Throws (before writing anything) RangeError if an item lies outside `frames.buf`, a frame is
 * over 65475 bytes (the datagram would pass UDP's 65507), `out` is too small, or the counter
 * would pass 2⁶⁴−1; TypeError for a non-AeadKey; Error `ERR_KEY_DESTROYED` after destroy().
 * `frames.buf` and `out.buf` must not overlap. Never blocks.
 */
export function sealBatch(
  key: AeadKey,
  receiverIndex: number,
  firstCounter: bigint,
  frames: Batch,
  out: Batch,
  start = 0,
  end = frames.count,
  outStart = 0,
): number {
  const used = loadNative().sealBatch(
    key.native,
    receiverIndex,
    firstCounter,
    frames.buf,
    frames.offsets,
    frames.lengths,
    start,
    end,
    out.buf,
    outStart,
    out.offsets,
    out.lengths,
  );
  out.count = end;
  return used;
}

/**
 * Opens datagrams [start, end) of `datagrams` into `out`. For each item i, `out.status[i]` is
 * an OPEN_STATUS; when OK, `out.counters[i]` is the datagram's counter (replay checking is the
 * caller's) and the plaintext is `out.buf[out.offsets[i], +out.lengths[i])`, packed from
 * `outStart`. A failed item has length 0 and leaves no unauthenticated bytes behind.
 * Sets `out.count = end` and returns how many items opened. Bad datagrams never throw; the
 * call throws (before writing anything) only for bad arguments: RangeError if an item lies
 * outside `datagrams.buf`, `out.buf` cannot hold every plaintext, or `out`'s arrays are too
 * short; TypeError for a non-AeadKey; `ERR_KEY_DESTROYED` after destroy(). The receiver index
 * is not checked: pick the key by it first (receiverIndexOf). Never blocks.
 */
export function openBatch(
  key: AeadKey,
  datagrams: Batch,
  out: Opened,
  start = 0,
  end = datagrams.count,
  outStart = 0,
): number {
  const ok = loadNative().openBatch(
    key.native,
    datagrams.buf,
    datagrams.offsets,
    datagrams.lengths,
    start,
    end,
    out.buf,
    outStart,
    out.offsets,
    out.lengths,
    out.counters,
    out.status,
  );
  out.count = end;
  return ok;
}

/** The receiver index of datagram i (bytes 4–7, LE), or -1 if it is shorter than a header. */
export function receiverIndexOf(datagrams: Batch, i: number): number {
  const off = datagrams.offsets[i] ?? 0;
  if ((datagrams.lengths[i] ?? 0) < 16) return -1;
  return datagrams.buf.readUInt32LE(off + 4);
}
