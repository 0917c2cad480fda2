/**
 * The TAP device on the slice bridge: open it, read frames in batches, write frames in batches.
 *
 *   kernel ─uv_poll readable→ TapReader: read() ×(≤ maxBatch, until EAGAIN) → onBatch(batch) once
 *   Tap.writeFrames(batch) → writev() per frame, one native call → kernel
 *
 * Nothing blocks: the fd is O_NONBLOCK. Cost per frame: one read or writev system call; no
 * allocation and no JS call per frame (one per wake-up or per batch).
 */
import type { Batch } from './batch.ts';
import { loadNative } from './binding.ts';
import { errnoError } from './errors.ts';
import { PolledFd, PolledReader } from './reader.ts';

/** TUNSETOFFLOAD bits: which offloads the kernel may leave to us (requires vnetHdr). */
export const TUN_F = {
  CSUM: 0x01,
  TSO4: 0x02,
  TSO6: 0x04,
  TSO_ECN: 0x08,
  UFO: 0x10,
  USO4: 0x20,
  USO6: 0x40,
} as const;

const VIRTIO_NET_HDR_F_DATA_VALID = 2;

export interface TapOptions {
  /** IFF_VNET_HDR: each frame carries a 10-byte virtio_net_hdr (default false). */
  vnetHdr?: boolean;
  /** TUN_F bits for TUNSETOFFLOAD (default 0: the kernel segments and checksums for us). */
  offloads?: number;
}

/**
 * Opens (creating if needed) the TAP device `name` with IFF_TAP|IFF_NO_PI, non-blocking and
 * close-on-exec, and applies `offloads`. The caller owns the returned Tap and must close() it.
 * Throws RangeError for an empty name, a name over 15 bytes, offloads without vnetHdr or
 * unknown offload bits; an errno Error (`EPERM` without CAP_NET_ADMIN, `EBUSY` if another
 * process holds a single-queue device, `EINVAL` if `name` exists and is not a TAP) otherwise.
 * Blocks only for the open and ioctls.
 */
export function openTap(name: string, opts: TapOptions = {}): Tap {
  const r = loadNative().tapOpen(name, opts.vnetHdr ?? false, opts.offloads ?? 0);
  return new Tap(r.fd, r.name, r.vnetHdrLen);
}

/** An open TAP device. Construct with openTap. */
export class Tap extends PolledFd {
  /** Frames the kernel refused in writeFrames (too short, link down …), since open. */
  dropped = 0;
  /** errno (positive) of the last refused frame, 0 if none. */
  lastDropErrno = 0;
  private readonly ctl = new Int32Array(5);

  /**
   * With vnetHdr: mark written frames VIRTIO_NET_HDR_F_DATA_VALID ("checksum already checked"),
   * for frames whose integrity the AEAD has proven. Linux's tun ignores the flag on write today
   * (it only acts on F_NEEDS_CSUM), so it costs nothing and helps where it is honoured.
   */
  set dataValid(on: boolean) {
    this.ctl[3] = on && this.vnetHdrLen ? VIRTIO_NET_HDR_F_DATA_VALID : 0;
  }

  /** The virtio_net_hdr flags written frames carry (see dataValid). */
  get headerFlags(): number {
    return this.ctl[3]!;
  }

  constructor(
    fd: number,
    /** The device name the kernel gave (the one asked for). */
    readonly name: string,
    /** 10 with IFF_VNET_HDR, else 0. */
    readonly vnetHdrLen: number,
  ) {
    super(fd);
  }

  /**
   * Writes frames [start, end) of `batch` (plain Ethernet frames; with vnetHdr a zero
   * virtio_net_hdr is prepended for each, meaning "complete frame, checksum done", plus
   * F_DATA_VALID when `dataValid` is set). With `ownHeaders` (a TAP opened with vnetHdr only)
   * each frame brings its own virtio_net_hdr in the 10 bytes before its offset, as the
   * Coalescer's output does, and it is written as is: that is how super-frames go in.
   * Returns the index of the first frame not written: `end` when all went, less when the TAP
   * queue filled (EAGAIN); the caller retries from there or drops. A frame the kernel refuses
   * is skipped and counted in `dropped`. Throws RangeError if an item lies outside `batch.buf`
   * or is over 65535 bytes, and an errno Error (`EBADF`, `EBADFD`) if the device is gone.
   * Never blocks.
   */
  writeFrames(batch: Batch, start = 0, end = batch.count, opts: { ownHeaders?: boolean } = {}): number {
    const { buf, offsets, lengths } = batch;
    this.ctl[4] = opts.ownHeaders ? 1 : 0;
    const next = loadNative().writeFrames(
      this.liveFd('writeFrames'),
      this.vnetHdrLen,
      buf,
      offsets,
      lengths,
      start,
      end,
      this.ctl,
    );
    if (this.ctl[1]) {
      this.dropped += this.ctl[1];
      this.lastDropErrno = this.ctl[2] ?? 0;
    }
    return next;
  }
}

export interface TapReaderOptions {
  /** Frames read per wake-up at most (default 64, at most 1024). */
  maxBatch?: number;
  /** The largest frame read whole (default 65535; set ≥ MTU + 18). Longer frames are cut by the kernel. */
  maxFrame?: number;
}

/**
 * Reads frames from a Tap in batches, driven by uv_poll on its fd. When the fd is readable it
 * reads up to maxBatch frames (until EAGAIN) into one buffer and calls `onBatch` once with a
 * Batch that is reused: the frames are valid only until onBatch returns. With vnetHdr, the
 * 10-byte virtio_net_hdr of frame i sits just before `offsets[i]`. If read fails (e.g. the
 * device was deleted) the reader stops and calls `onError` with an errno Error. An exception
 * thrown by onBatch is reported as uncaught, like one from any other event callback.
 * The constructor does no I/O; start() begins polling. One reader per Tap.
 */
export class TapReader extends PolledReader {
  readonly batch: Batch;

  constructor(
    tap: Tap,
    onBatch: (batch: Batch) => void,
    onError: (err: Error) => void = (err) => {
      throw err;
    },
    opts: TapReaderOptions = {},
  ) {
    const maxBatch = opts.maxBatch ?? 64;
    const slot = (opts.maxFrame ?? 65535) + tap.vnetHdrLen;
    // Frames are packed, so the buffer needs room for the batch's typical frames plus one
    // whole slot: reading stops when less than a slot is left.
    const bytes = maxBatch * 2048 + slot;
    const batch: Batch = {
      buf: Buffer.alloc(bytes),
      offsets: new Uint32Array(maxBatch),
      lengths: new Uint32Array(maxBatch),
      count: 0,
    };
    const { Reader } = loadNative();
    const native = new Reader(
      0,
      tap.fd,
      (count, errno) => {
        batch.count = count;
        if (count > 0) onBatch(batch);
        if (errno) onError(errnoError('TAP read', errno));
      },
      batch.buf,
      batch.offsets,
      batch.lengths,
      undefined,
      undefined,
      maxBatch,
      slot,
      tap.vnetHdrLen,
    );
    super(tap, native);
    this.batch = batch;
  }
}
