/**
 * Hand-built Ethernet/IPv4/TCP frames and virtio_net_hdrs for the Segmenter and Coalescer tests,
 * with an independent (slow, obvious) checksum implementation to check theirs.
 */
import type { Batch } from '../../index.ts';

export const GSO_TCPV4 = 1;
export const GSO_UDP_L4 = 5;
export const GSO_TCPV6 = 4;
export const F_NEEDS_CSUM = 1;
export const FIN = 0x01;
export const PSH = 0x08;
export const CWR = 0x80;

export interface Vnet {
  flags?: number;
  gsoType?: number;
  hdrLen?: number;
  gsoSize?: number;
  csumStart?: number;
  csumOffset?: number;
}

export function vnet(h: Vnet): Buffer {
  const b = Buffer.alloc(10);
  b[0] = h.flags ?? 0;
  b[1] = h.gsoType ?? 0;
  b.writeUInt16LE(h.hdrLen ?? 0, 2);
  b.writeUInt16LE(h.gsoSize ?? 0, 4);
  b.writeUInt16LE(h.csumStart ?? 0, 6);
  b.writeUInt16LE(h.csumOffset ?? 0, 8);
  return b;
}

/** RFC 1071, the slow and obvious way: 16-bit big-endian words. */
export function onesSum(parts: Buffer[]): number {
  const all = Buffer.concat(parts);
  let s = 0;
  for (let i = 0; i < all.length; i += 2) s += (all[i]! << 8) + (all[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

export const ipOk = (ip: Buffer): boolean => onesSum([ip]) === 0xffff;

export function tcpOk(ip: Buffer, tcp: Buffer, proto = 6): boolean {
  const pseudo = Buffer.alloc(12);
  ip.copy(pseudo, 0, 12, 20);
  pseudo[9] = proto;
  pseudo.writeUInt16BE(tcp.length, 10);
  return onesSum([pseudo, tcp]) === 0xffff;
}

export interface FrameSpec {
  payload: number;
  ipOptions?: number;
  tcpOptions?: number;
  flags?: number;
  seq?: number;
  id?: number;
  vlan?: boolean;
}

/** Ethernet (+VLAN) + IPv4 + TCP + payload of a repeating pattern; checksums left as a TSO stack leaves them (wrong). */
export function tcpFrame(s: FrameSpec): { frame: Buffer; l3: number; l4: number; hdrs: number } {
  const eth = Buffer.alloc(s.vlan ? 18 : 14);
  eth.fill(0x02, 0, 12);
  if (s.vlan) {
    eth.writeUInt16BE(0x8100, 12);
    eth.writeUInt16BE(7, 14);
    eth.writeUInt16BE(0x0800, 16);
  } else eth.writeUInt16BE(0x0800, 12);
  const ihl = 20 + (s.ipOptions ?? 0);
  const ip = Buffer.alloc(ihl);
  ip[0] = 0x40 | (ihl / 4);
  ip.writeUInt16BE(ihl + 20 + (s.tcpOptions ?? 0) + s.payload, 2);
  ip.writeUInt16BE(s.id ?? 0xfffe, 4);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip[8] = 64;
  ip[9] = 6;
  ip.writeUInt16BE(0x1234, 10); // stale checksum: must be recomputed
  Buffer.from([10, 0, 0, 1, 10, 0, 0, 2]).copy(ip, 12);
  for (let i = 20; i < ihl; i++) ip[i] = 1; // NOP options
  const thl = 20 + (s.tcpOptions ?? 0);
  const tcp = Buffer.alloc(thl);
  tcp.writeUInt16BE(40000, 0);
  tcp.writeUInt16BE(5201, 2);
  tcp.writeUInt32BE(s.seq ?? 0xfffff000, 4); // wraps past 2^32 within the frame
  tcp.writeUInt32BE(77, 8);
  tcp[12] = (thl / 4) << 4;
  tcp[13] = s.flags ?? 0x10;
  tcp.writeUInt16BE(64000, 14);
  tcp.writeUInt16BE(0xbeef, 16);
  for (let i = 20; i < thl; i++) tcp[i] = 0x08 + i;
  const payload = Buffer.alloc(s.payload);
  for (let i = 0; i < s.payload; i++) payload[i] = (i * 7 + 3) & 0xff;
  const frame = Buffer.concat([eth, ip, tcp, payload]);
  return { frame, l3: eth.length, l4: eth.length + ihl, hdrs: eth.length + ihl + thl };
}

/** A TapReader-like batch: each frame preceded by its virtio_net_hdr, 8-byte aligned. */
export function batchWithHdrs(items: { hdr: Buffer; frame: Buffer }[]): Batch {
  let size = 0;
  for (const it of items) size += 16 + it.frame.length + 8;
  const buf = Buffer.alloc(size);
  const offsets = new Uint32Array(items.length);
  const lengths = new Uint32Array(items.length);
  let pos = 0;
  items.forEach((it, i) => {
    it.hdr.copy(buf, pos);
    it.frame.copy(buf, pos + 10);
    offsets[i] = pos + 10;
    lengths[i] = it.frame.length;
    pos += (10 + it.frame.length + 7) & ~7;
  });
  return { buf, offsets, lengths, count: items.length };
}

export const frameAt = (b: Batch, i: number): Buffer =>
  b.buf.subarray(b.offsets[i], b.offsets[i]! + b.lengths[i]!);
