/**
 * What the TAP and UDP readers share: the lifecycle of a native uv_poll reader (src/reader.c)
 * and of the fd it polls, which must outlive it — so the fd's owner closes its readers first.
 */
import { constants } from 'node:os';
import { loadNative, type NativeReader } from './binding.ts';
import type { FastPath } from './fastpath.ts';
import { errnoError } from './errors.ts';

const { EBADF } = constants.errno;

export interface ReaderCounters {
  /** Times the fd was seen readable. */
  wakeups: number;
  /** Packets delivered to onBatch. */
  items: number;
  /** Packets lost because they did not fit (slot too small, or a batch's item arrays full). */
  truncated: number;
  /** Read errors (each one stops the reader). */
  errors: number;
  /** Packets a FastPath handled, which onBatch never saw. */
  fast: number;
}

/** An owner of a non-blocking fd that readers poll: close() closes the readers, then the fd. */
export class PolledFd {
  private readonly readers = new Set<PolledReader>();
  private closed = false;

  constructor(
    /** The non-blocking file descriptor; owned by this object. */
    readonly fd: number,
  ) {}

  /** @internal */
  track(r: PolledReader, add: boolean): void {
    if (add) this.readers.add(r);
    else this.readers.delete(r);
  }

  /**
   * The fd for a native call; an `EBADF` errno Error once closed. Checked here rather than
   * by the kernel: after close the number may already belong to another open file.
   */
  protected liveFd(what: string): number {
    if (this.closed) throw errnoError(what, EBADF);
    return this.fd;
  }

  /** Closes every reader of this fd, then the fd. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.readers) r.close();
    loadNative().closeFd(this.fd);
  }
}

/** A started reader calls its onBatch from the event loop; see TapReader and UdpReader. */
export class PolledReader {
  private closed = false;

  protected constructor(
    private readonly owner: PolledFd,
    private readonly native: NativeReader,
  ) {
    owner.track(this, true);
  }

  /** Starts polling (idempotent). Throws `ERR_READER_CLOSED` after close(). */
  start(): void {
    this.native.start();
  }

  /** Stops polling; start() resumes. */
  stop(): void {
    this.native.stop();
  }

  /** Stops for good and releases the poll handle. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close();
    this.owner.track(this, false);
  }

  /**
   * Offers each wake-up that read a single packet to `fastPath` first (src/fastpath.c); only
   * what it does not handle reaches onBatch. Without an argument, everything goes to onBatch.
   */
  setFast(fastPath?: FastPath): void {
    this.native.setFast(fastPath?.native ?? null);
  }

  /** For metrics. */
  counters(): ReaderCounters {
    return this.native.counters();
  }
}
