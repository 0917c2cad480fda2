/**
 * A netlink socket, in this process's network namespace or another's, for the node agent's
 * per-pod kernel changes: rtnetlink for links and addresses (lib/net/rtnetlink.ts), nfnetlink
 * for nftables set elements (lib/net/nftnetlink.ts). One request at a time, answered before
 * `call` returns: the kernel does the work inside the send, so a call takes microseconds and
 * never waits on another process (src/netlink.c bounds it at 5 s all the same).
 *
 *   Netlink.open(nsPath?, protocol?) ─ helper thread: setns → socket; this thread stays put
 *   call(request) ─ seqs stamped → send → the answer's data messages, or an errno Error
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
    return loadNative().netlinkCall(this.fd, request);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    closeSync(this.fd);
  }
}

/**
 * Writes `text` to `path` as a thread in the namespace at `nsPath` would: for /proc/sys/net
 * files, which belong to the namespace of whoever opens them.
 */
export function writeFileInNetns(nsPath: string, path: string, text: string): void {
  loadNative().netnsWriteFile(nsPath, path, text);
}
