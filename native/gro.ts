/**
 * Opened frames coalesced into TCPv4 super-frames for the TAP (src/gro.c does the per-byte
 * work): the receive side of the gateway's offloads, the mirror of the Segmenter.
 *
 *   Batch of frames ─Coalescer.coalesce→ Batch of [virtio_net_hdr ‖ frame] items
 *                                         ─Tap.writeFrames(…, { ownHeaders: true })→ TAP
 *
 * A run of one flow's consecutive full-size segments becomes one item the kernel carries as a
 * single GSO skb (bridge, veth, the pod's TCP) and segments again only if it must; everything
 * else passes through unchanged, in order. One native call per batch; the output buffers are
 * owned by the Coalescer, reused from batch to batch and grown only when a batch is bigger than
 * any before. Nothing blocks.
 */
import type { Batch } from './batch.ts';
import { loadNative } from './binding.ts';

/** Counted since the Coalescer was made. */
export interface CoalescerCounts {
  /** Segments that went into super-frames. */
  merged: number;
  /** Super-frames written (each replacing `merged / superFrames` segments on average). */
  superFrames: number;
}

const ITEM = 0;
const BYTE = 1;
const FLAGS = 2;
const MERGED = 3;
const SUPER = 4;
/** sizeof(struct virtio_net_hdr) plus alignment slack, per item. */
const ITEM_OVERHEAD = 10 + 7;

export class Coalescer {
  private out: Batch = {
    buf: Buffer.alloc(0),
    offsets: new Uint32Array(0),
    lengths: new Uint32Array(0),
    count: 0,
  };
  private readonly ctl = new Int32Array(5);
  private readonly totals: CoalescerCounts = { merged: 0, superFrames: 0 };

  /**
   * `dataValid`: mark items that are not super-frames VIRTIO_NET_HDR_F_DATA_VALID (their
   * checksums need no check: the frames were authenticated end to end), as Tap.dataValid does.
   */
  constructor(dataValid = false) {
    this.ctl[FLAGS] = dataValid ? 2 : 0;
  }

  /**
   * Coalesces batch items [0, batch.count) (plain frames, no headers) into items each preceded
   * by its 10-byte virtio_net_hdr, for a TAP opened with vnetHdr. The result is reused by the
   * next call. Throws RangeError only for items that lie outside the batch's buffer.
   */
  coalesce(batch: Batch): Batch {
    const n = batch.count;
    // Items lie apart inside batch.buf, so their lengths add up to at most its size: no pass
    // over the items to size the output.
    const bytes = batch.buf.length + n * ITEM_OVERHEAD;
    if (this.out.offsets.length < n || this.out.buf.length < bytes) this.grow(n, bytes);
    const out = this.out;
    const c = this.ctl;
    c[ITEM] = 0;
    c[BYTE] = 0;
    loadNative().groCoalesce(
      batch.buf,
      batch.offsets,
      batch.lengths,
      0,
      n,
      out.buf,
      out.offsets,
      out.lengths,
      c,
    );
    out.count = c[ITEM]!;
    this.totals.merged += c[MERGED]!;
    this.totals.superFrames += c[SUPER]!;
    c[MERGED] = 0;
    c[SUPER] = 0;
    return out;
  }

  /** Counts since construction (a live object). */
  counts(): Readonly<CoalescerCounts> {
    return this.totals;
  }

  private grow(items: number, bytes: number): void {
    const n = Math.max(items, this.out.offsets.length * 2, 64);
    this.out = {
      buf: Buffer.alloc(Math.max(bytes, this.out.buf.length * 2, 64 * 2048)),
      offsets: new Uint32Array(n),
      lengths: new Uint32Array(n),
      count: 0,
    };
  }
}
