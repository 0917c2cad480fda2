/**
 * A netlink socket, in this process's network namespace or another's, for the node agent's
 * per-pod kernel changes: rtnetlink for links and addresses (lib/net/rtnetlink.ts), nfnetlink
 * for nftables set elements (lib/net/nftnetlink.ts). One request at a time per socket: the
 * kernel does the work inside the send, so most calls take microseconds and never wait on
 * another process; deleting a link waits for an RCU grace period (10-30 ms), which `callAsync`
 * spends on a libuv worker instead of the loop (src/netlink.c bounds any call at 5 s).
 *
 *   Netlink.open(nsPath?, protocol?) ─ helper thread: setns → socket; this thread stays put
 *   call(request) ─ seqs stamped → send → the answer's data messages, or an errno Error
 *   callAsync(request) ─ the same on a worker, in turn with the socket's other async calls
 *
 * Errors: an Error whose `code` is the errno name (EEXIST, ENODEV, …) and whose message
 * carries the kernel's extended ack when it gives one.
 */
import { closeSync } from 'node:fs';
import { loadNative } from './binding.ts';

/** Netlink families this addon opens. */
export const NETLINK = { ROUTE: 0, NETFILTER: 12 } as const;

export class Netlink {
  private seq = 0;
  private open = true;
  /** Asynchronous calls made and not yet settled, and the end of the last one's turn. */
  private inFlight = 0;
  private turn: Promise<void> = Promise.resolve();

  private constructor(private readonly fd: number) {}

  /** A socket in the namespace at `nsPath` (a /proc/…/ns/net or /run/netns/… path), or in ours. */
  static open(nsPath = '', protocol: number = NETLINK.ROUTE): Netlink {
    return new Netlink(loadNative().netlinkOpen(nsPath, protocol));
  }

  /**
   * Sends one request, or several messages back to back (an nfnetlink batch), the last built
   * with NLM_F_ACK or as a dump, and returns the answer's data messages. Each message gets the
   * next sequence number here.
   */
  call(request: Buffer): Buffer[] {
    this.stamp(request);
    if (this.inFlight)
      throw new Error(
        'netlink: an asynchronous call is in flight on this socket; use callAsync, or another socket',
      );
    return loadNative().netlinkCall(this.fd, request);
  }

  /**
   * `call` on a libuv worker, for what the kernel takes long over (deleting a link waits for
   * an RCU grace period: 10-30 ms here, during which a synchronous call holds the whole loop).
   * Calls on one socket take turns, in the order they were made.
   */
  callAsync(request: Buffer): Promise<Buffer[]> {
    this.stamp(request);
    this.inFlight++;
    const run = this.turn.then(() => loadNative().netlinkCallAsync(this.fd, request));
    this.turn = run.then(
      () => undefined,
      () => undefined,
    );
    return run.finally(() => this.inFlight--);
  }

  /** Checks the framing and gives each message the next sequence number. */
  private stamp(request: Buffer): void {
    if (!this.open) throw new Error('netlink: the socket is closed');
    for (let at = 0; at < request.length;) {
      const len = request.length - at >= 16 ? request.readUInt32LE(at) : 0;
      if (len < 16 || len > request.length - at)
        throw new RangeError(
          `request: the message at byte ${at} claims ${len} bytes of the ${request.length - at} left (a header is 16)`,
        );
      this.seq = (this.seq + 1) >>> 0 || 1;
      request.writeUInt32LE(this.seq, at + 8);
      at += (len + 3) & ~3;
    }
    if (request.length === 0) throw new RangeError('request: empty');
  }

  /** Closes the socket, once the asynchronous calls already made have ended. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    if (this.inFlight) void this.turn.then(() => closeSync(this.fd));
    else closeSync(this.fd);
  }
}

/**
 * Writes `text` to `path` as a thread in the namespace at `nsPath` would: for /proc/sys/net
 * files, which belong to the namespace of whoever opens them.
 */
export function writeFileInNetns(nsPath: string, path: string, text: string): void {
  loadNative().netnsWriteFile(nsPath, path, text);
}
