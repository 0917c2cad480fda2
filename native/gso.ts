/**
 * Super-frames from a TAP opened with offloads, split into frames that fit the slice MTU
 * (src/gso.c does the per-byte work: copy, TCP segmentation, checksums).
 *
 *   TapReader batch ([virtio_net_hdr ‖ frame] ×N) ─Segmenter.split→ Segmented (frames ≤ maxFrame)
 *
 * One native call per batch in the steady state; the output buffers are owned by the Segmenter,
 * reused from batch to batch, and grown (an allocation and a copy) only when a batch holds more
 * segments than ever before. Nothing blocks.
 */
import type { Batch } from './batch.ts';
import { loadNative } from './binding.ts';

/** The output of Segmenter.split: frames, plus where each source frame's segments start. */
export interface Segmented extends Batch {
  /**
   * first[i] is the index of source frame i's first output frame; source frame i became
   * frames [first[i], first[i + 1]) (none when it was dropped). first[source count] = count.
   */
  first: Uint32Array;
}

/** Why source frames were dropped, counted since the Segmenter was made. */
export interface SegmenterCounts {
  /** Headers that contradict the frame (lengths, csum_start past the end, gso_size 0, not IPv4/TCP for TCPV4, an IP fragment). */
  malformed: number;
  /** A frame (or a segment of one) longer than maxFrame. */
  oversize: number;
  /** A gso_type other than NONE or TCPV4 (the TAP should not have been given those offloads). */
  unsupported: number;
  /** TCPv4 super-frames split, and plain frames whose checksum was finished (not drops). */
  segmented: number;
  checksummed: number;
}

const ITEM = 0;
const BYTE = 1;
const NEXT = 2;
const MALFORMED = 3;

export class Segmenter {
  private out: Segmented;
  private readonly ctl = new Int32Array(8);
  private readonly totals: SegmenterCounts = {
    malformed: 0,
    oversize: 0,
    unsupported: 0,
    segmented: 0,
    checksummed: 0,
  };

  /** `maxFrame`: the longest frame any output may be (slice MTU + 14). No I/O. */
  constructor(private readonly maxFrame: number) {
    if (!Number.isInteger(maxFrame) || maxFrame < 14 || maxFrame > 65535)
      throw new RangeError(`maxFrame ${maxFrame} must be an integer in [14, 65535]`);
    this.out = alloc(256, 256 * 2048, 65);
  }

  /**
   * Splits batch items [0, batch.count), each with its 10-byte virtio_net_hdr just before it (as
   * TapReader delivers with vnetHdr), into frames of at most maxFrame bytes: TCPv4 GSO frames
   * into gso_size segments, F_NEEDS_CSUM frames checksummed, plain frames copied. Bad frames are
   * dropped and counted, never read past. The result is reused by the next call. Throws
   * RangeError only for a batch whose items lie outside its buffer or lack room for the header.
   */
  split(batch: Batch): Segmented {
    const n = batch.count;
    let out = this.out;
    if (out.first.length < n + 1) out = this.grow(out.offsets.length, out.buf.length, n + 1, 0);
    const c = this.ctl;
    c[ITEM] = 0;
    c[BYTE] = 0;
    let from = 0;
    for (;;) {
      loadNative().gsoSplit(
        batch.buf,
        batch.offsets,
        batch.lengths,
        from,
        n,
        out.buf,
        out.offsets,
        out.lengths,
        out.first,
        this.maxFrame,
        c,
      );
      from = c[NEXT]!;
      if (from >= n) break;
      // Rare: more segments than this batch size has needed so far. Grow and go on.
      out = this.grow(out.offsets.length * 2, out.buf.length * 2 + 65536 * 2, out.first.length, c[BYTE]);
    }
    out.count = c[ITEM]!;
    // Moved out of the Int32Array each call, so they never wrap.
    const k = this.totals;
    k.malformed += c[MALFORMED]!;
    k.oversize += c[MALFORMED + 1]!;
    k.unsupported += c[MALFORMED + 2]!;
    k.segmented += c[MALFORMED + 3]!;
    k.checksummed += c[MALFORMED + 4]!;
    c.fill(0, MALFORMED);
    return out;
  }

  /** Counts since construction (a live object: read it, do not keep a copy for later). */
  counts(): Readonly<SegmenterCounts> {
    return this.totals;
  }

  private grow(items: number, bytes: number, firsts: number, keepBytes: number): Segmented {
    const old = this.out;
    const out = alloc(items, bytes, Math.max(firsts, old.first.length));
    old.buf.copy(out.buf, 0, 0, keepBytes);
    out.offsets.set(old.offsets);
    out.lengths.set(old.lengths);
    out.first.set(old.first);
    this.out = out;
    return out;
  }
}

function alloc(items: number, bytes: number, firsts: number): Segmented {
  return {
    buf: Buffer.alloc(bytes),
    offsets: new Uint32Array(items),
    lengths: new Uint32Array(items),
    first: new Uint32Array(firsts),
    count: 0,
  };
}
