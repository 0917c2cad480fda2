/**
 * The gateway's UDP socket: IPv4, bound natively, datagrams in and out in batches.
 *
 *   kernel ─uv_poll readable→ UdpReader: recvmmsg(≤ maxBatch) → GRO super-datagrams split
 *          back into datagrams → onBatch(datagrams) once
 *   UdpSocket.send(batch) → group runs to one peer into UDP_SEGMENT (GSO) messages →
 *          sendmmsg (≤ 64 messages a call) → kernel
 *
 * Nothing blocks (O_NONBLOCK). Cost per datagram: a share of one recvmmsg/sendmmsg and, with
 * GRO/GSO, a share of one trip through the kernel's UDP stack; no allocation, no JS call.
 * The socket sets IP_PMTUDISC_DO: a datagram larger than the path MTU fails (counted as a
 * drop, EMSGSIZE) instead of leaving as IP fragments that real firewalls and NATs drop (SPEC §6).
 */
import type { Datagrams } from './batch.ts';
import { loadNative } from './binding.ts';
import { errnoError } from './errors.ts';
import { PolledFd, PolledReader } from './reader.ts';

export interface UdpOptions {
  /** Dotted IPv4 address to bind (e.g. "0.0.0.0"). */
  address: string;
  /** Port to bind; 0 picks a free one (see UdpSocket.port). */
  port: number;
  /** Use UDP_SEGMENT when sending, if the kernel has it (default true). */
  gso?: boolean;
  /** Ask for UDP_GRO when receiving, if the kernel has it (default true). */
  gro?: boolean;
  /**
   * SO_RCVBUF and SO_SNDBUF in bytes (default: the kernel's, 208 KiB, which one GRO burst can
   * fill). Set past net.core.[rw]mem_max with CAP_NET_ADMIN, else capped there; best effort.
   */
  bufBytes?: number;
}

/**
 * Creates and binds a non-blocking, close-on-exec IPv4 UDP socket (no SO_REUSEADDR), then
 * probes UDP_SEGMENT and UDP_GRO: `gso`/`gro` on the result say which are active. The caller
 * owns the socket and must close() it. Throws TypeError for a malformed address, RangeError for
 * a port over 65535, an errno Error (`EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`) from bind.
 */
export function openUdp(opts: UdpOptions): UdpSocket {
  const r = loadNative().udpOpen(
    opts.address,
    opts.port,
    opts.gso ?? true,
    opts.gro ?? true,
    opts.bufBytes ?? 0,
  );
  return new UdpSocket(r.fd, r.port, r.gso, r.gro);
}

/** An open UDP socket. Construct with openUdp. */
export class UdpSocket extends PolledFd {
  /** Datagrams the kernel refused in send() (EMSGSIZE, ENETUNREACH, …), since open. */
  dropped = 0;
  /** errno (positive) of the last refused datagram, 0 if none. */
  lastDropErrno = 0;
  /** sendmmsg calls made, since open: datagrams sent / this = the batching achieved. */
  sendCalls = 0;
  /** ctl[0] is the live GSO switch, which the native side turns off if the kernel refuses GSO. */
  private readonly ctl = new Int32Array(4);

  constructor(
    fd: number,
    /** The bound port. */
    readonly port: number,
    gso: boolean,
    /** Whether UDP_GRO is on: received batches may then hold many datagrams per wake-up of the stack. */
    readonly gro: boolean,
  ) {
    super(fd);
    this.ctl[0] = gso ? 1 : 0;
  }

  /** Whether sends use UDP_SEGMENT. Turns false for good if the kernel refuses it (EIO). */
  get gso(): boolean {
    return this.ctl[0] === 1;
  }

  /**
   * Sends datagrams [start, end) of `batch`, item i to `batch.addrs[i]:batch.ports[i]`, in as
   * few sendmmsg calls as it can (GSO groups consecutive equal-sized datagrams to one peer).
   * Returns the index of the first datagram not handed to the kernel: `end` when all went,
   * less when the socket buffer filled (EAGAIN/ENOBUFS); the caller retries from there or
   * drops. A datagram the kernel refuses is skipped and counted in `dropped`. Throws
   * RangeError if an item lies outside `batch.buf`, is over 65507 bytes, or the arrays are
   * short; an errno Error for a closed fd (`EBADF`). Never blocks.
   */
  send(batch: Datagrams, start = 0, end = batch.count): number {
    const { buf, offsets, lengths, addrs, ports } = batch;
    const next = loadNative().sendBatch(
      this.liveFd('send'),
      this.ctl,
      buf,
      offsets,
      lengths,
      start,
      end,
      addrs,
      ports,
    );
    if (this.ctl[1]) {
      this.dropped += this.ctl[1];
      this.lastDropErrno = this.ctl[2] ?? 0;
    }
    this.sendCalls += this.ctl[3] ?? 0;
    return next;
  }
}

export interface UdpReaderOptions {
  /** Datagrams (or GRO super-datagrams) per recvmmsg at most (default 64, at most 1024). */
  maxBatch?: number;
  /** Bytes per receive slot (default 65536 with GRO, else 2048). Longer datagrams are dropped. */
  slotSize?: number;
}

/**
 * Receives datagrams in batches, driven by uv_poll on the socket: one recvmmsg per wake-up,
 * GRO super-datagrams split back into their datagrams, then `onBatch` once with a reused
 * Datagrams whose items are valid only until onBatch returns (addrs/ports hold each
 * datagram's source). A datagram longer than slotSize is dropped and counted as truncated.
 * If recvmmsg fails the reader stops and calls `onError` with an errno Error; an exception
 * thrown by onBatch is reported as uncaught. The constructor does no I/O; start() begins
 * polling. One reader per socket.
 */
export class UdpReader extends PolledReader {
  readonly batch: Datagrams;

  constructor(
    socket: UdpSocket,
    onBatch: (batch: Datagrams) => void,
    onError: (err: Error) => void = (err) => {
      throw err;
    },
    opts: UdpReaderOptions = {},
  ) {
    const maxBatch = opts.maxBatch ?? 64;
    const slot = opts.slotSize ?? (socket.gro ? 65536 : 2048);
    // A GRO super-datagram holds at most 64 datagrams, so a batch holds at most 64× maxBatch.
    const items = maxBatch * 64;
    const batch: Datagrams = {
      buf: Buffer.alloc(maxBatch * slot),
      offsets: new Uint32Array(items),
      lengths: new Uint32Array(items),
      addrs: new Uint32Array(items),
      ports: new Uint16Array(items),
      count: 0,
    };
    const { Reader } = loadNative();
    const native = new Reader(
      1,
      socket.fd,
      (count, errno) => {
        batch.count = count;
        if (count > 0) onBatch(batch);
        if (errno) onError(errnoError('UDP receive', errno));
      },
      batch.buf,
      batch.offsets,
      batch.lengths,
      batch.addrs,
      batch.ports,
      maxBatch,
      slot,
      0,
    );
    super(socket, native);
    this.batch = batch;
  }
}
