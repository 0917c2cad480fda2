/**
 * An rtnetlink socket, in this process's network namespace or another's, for the node agent's
 * per-pod link changes (messages from lib/net/rtnetlink.ts). One request at a time, answered
 * before `call` returns: rtnetlink does the work inside the send, so a call takes microseconds
 * and never waits on another process (src/netlink.c bounds it at 5 s all the same).
 *
 *   Netlink.open(nsPath?) ─ helper thread: setns → socket; this thread stays where it is
 *   call(request) ─ seq stamped → send → the answer's data messages, or an errno Error
 *
 * Errors: an Error whose `code` is the errno name (EEXIST, ENODEV, …) and whose message
 * carries the kernel's extended ack when it gives one.
 */
import { closeSync } from 'node:fs';
import { loadNative } from './binding.ts';

export class Netlink {
  private seq = 0;
  private open = true;

  private constructor(private readonly fd: number) {}

  /** A socket in the namespace at `nsPath` (a /proc/…/ns/net or /run/netns/… path), or in ours. */
  static open(nsPath = ''): Netlink {
    return new Netlink(loadNative().netlinkOpen(nsPath));
  }

  /** Sends one request (built with NLM_F_ACK or as a dump) and returns its data messages. */
  call(request: Buffer): Buffer[] {
    if (!this.open) throw new Error('netlink: the socket is closed');
    if (request.length < 16)
      throw new RangeError(`request: ${request.length} bytes, shorter than a netlink header (16)`);
    this.seq = (this.seq + 1) >>> 0 || 1;
    request.writeUInt32LE(this.seq, 8);
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
