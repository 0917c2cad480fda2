/**
 * The slice gateway's native addon (SPEC §6): the TAP device, batched frame and datagram I/O
 * (uv_poll + read/recvmmsg, writev/sendmmsg, UDP GSO/GRO), and batched AEAD on the OpenSSL
 * inside the Node binary. Everything else — handshake, keys, replay window, forwarding — is
 * TypeScript. The node agent's rtnetlink socket is in netlink.ts, imported from there. Each export's doc comment states its contract; README.md gives the overview.
 *
 *   TAP ─uv_poll→ TapReader (read ×N) → Batch ─sealBatch→ Datagrams ─UdpSocket.send (sendmmsg, GSO)→ WAN
 *   WAN ─uv_poll→ UdpReader (recvmmsg, GRO) → Datagrams ─openBatch→ Opened ─Tap.writeFrames (writev ×N)→ TAP
 *
 * Memory: every buffer is allocated once by its owner (newBatch, newDatagrams, newOpened, the
 * readers) and only borrowed by native code for the length of one call; nothing allocates per
 * packet. Blocking: nothing blocks; every fd is non-blocking and a full queue ends a write
 * early with the index to resume from. AEAD calls are CPU-bound and run to completion.
 * Errors: bad arguments throw TypeError/RangeError before any I/O; kernel errors throw an
 * Error whose `code` is the errno name and `errno` its negated number; a missing build throws
 * SlicenetError `NATIVE_NOT_BUILT` naming `npm run build:native`.
 */
import { loadNative } from './binding.ts';

export { addonPath, loadNative } from './binding.ts';
export { batchOf, itemOf, ipv4ToU32, newBatch, newDatagrams, u32ToIpv4 } from './batch.ts';
export type { Batch, Datagrams } from './batch.ts';
export {
  AeadKey,
  OPEN_STATUS,
  TRANSPORT_OVERHEAD,
  newOpened,
  openBatch,
  receiverIndexOf,
  sealBatch,
} from './aead.ts';
export type { AeadAlg, Opened } from './aead.ts';
export { Segmenter } from './gso.ts';
export { Coalescer } from './gro.ts';
export type { CoalescerCounts } from './gro.ts';
export type { Segmented, SegmenterCounts } from './gso.ts';
export { TUN_F, Tap, TapReader, openTap } from './tap.ts';
export type { TapOptions, TapReaderOptions } from './tap.ts';
export type { ReaderCounters } from './reader.ts';
export { UdpReader, UdpSocket, openUdp } from './udp.ts';
export { FAST_SLOTS, FastPath, GLOBAL, GLOBAL_BASE, STAT, STAT_FIELDS, replayAccept } from './fastpath.ts';
export type { UdpOptions, UdpReaderOptions } from './udp.ts';

/**
 * The OpenSSL the addon runs on: its version string, and the file of the object that supplied
 * the EVP functions (the Node binary; loading fails otherwise). Throws as loadNative does.
 */
export function opensslInfo(): { version: string; from: string } {
  const b = loadNative();
  return { version: b.opensslVersion, from: b.opensslFrom };
}
