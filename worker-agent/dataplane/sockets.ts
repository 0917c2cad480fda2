/**
 * The agent's two netlink sockets in its own (the node's) namespace, opened on first use and
 * kept. Most calls are answered within their send (microseconds) and go on `nodeNetlink`,
 * synchronously. Deleting a link waits in the kernel for an RCU grace period (10-30 ms here;
 * a burst of synchronous DELs held the agent's loop that long each), so deletions go on
 * `deleter`, asynchronously (Netlink.callAsync): a socket of their own, so that the
 * synchronous calls never find one in flight.
 */
import { dumpLinks, parseLink, type LinkInfo } from '../../lib/net/rtbridge.ts';
import { delLink } from '../../lib/net/rtnetlink.ts';
import { Netlink } from '../../native/netlink.ts';

let node: Netlink | undefined;
let deletions: Netlink | undefined;

export const nodeNetlink = (): Netlink => (node ??= Netlink.open());

const deleter = (): Netlink => (deletions ??= Netlink.open());

export const errnoCode = (err: unknown): unknown => (err as NodeJS.ErrnoException | undefined)?.code;

/** Deletes the link `name` off the loop; one already gone is success. */
export async function deleteLinkAsync(name: string): Promise<void> {
  try {
    await deleter().callAsync(delLink(name));
  } catch (err) {
    if (errnoCode(err) !== 'ENODEV') throw err;
  }
}

/** The node's links by name: one netlink dump. */
export function nodeLinks(): Map<string, LinkInfo> {
  return new Map(
    nodeNetlink()
      .call(dumpLinks())
      .map(parseLink)
      .map((l) => [l.name, l]),
  );
}
