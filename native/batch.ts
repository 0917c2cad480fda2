/**
 * Batches: many packets in one caller-owned buffer, described by offset and length arrays, so
 * native code can take or fill a whole batch in one call with no allocation per packet.
 */

/**
 * Item i is `buf[offsets[i], offsets[i] + lengths[i])` for i < count. One object is reused
 * from batch to batch: its contents are valid until whoever fills it next does so.
 */
export interface Batch {
  buf: Buffer;
  offsets: Uint32Array;
  lengths: Uint32Array;
  count: number;
}

/** A batch with a peer per item: the IPv4 address as a uint32 (a.b.c.d = a·2²⁴+b·2¹⁶+c·2⁸+d) and port. */
export interface Datagrams extends Batch {
  addrs: Uint32Array;
  ports: Uint16Array;
}

/** Allocates a batch of `items` entries over `bytes` zero-filled bytes. */
export function newBatch(items: number, bytes: number): Batch {
  return {
    buf: Buffer.alloc(bytes),
    offsets: new Uint32Array(items),
    lengths: new Uint32Array(items),
    count: 0,
  };
}

/** Allocates a batch with a peer address and port per item. */
export function newDatagrams(items: number, bytes: number): Datagrams {
  return { ...newBatch(items, bytes), addrs: new Uint32Array(items), ports: new Uint16Array(items) };
}

/** Packs copies of `items` into a new batch (for tests and slow paths, not the data path). */
export function batchOf(items: Uint8Array[]): Batch {
  const b = newBatch(
    items.length,
    items.reduce((s, x) => s + x.length, 0),
  );
  let pos = 0;
  items.forEach((x, i) => {
    b.buf.set(x, pos);
    b.offsets[i] = pos;
    b.lengths[i] = x.length;
    pos += x.length;
  });
  b.count = items.length;
  return b;
}

/** Copies item i out of a batch (a new Buffer: for tests and slow paths, not the data path). */
export function itemOf(batch: Batch, i: number): Buffer {
  const off = batch.offsets[i] ?? 0;
  return Buffer.from(batch.buf.subarray(off, off + (batch.lengths[i] ?? 0)));
}

/** Parses a dotted IPv4 address into the uint32 form of Datagrams; throws TypeError if malformed. */
export function ipv4ToU32(address: string): number {
  const parts = address.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255))
    throw new TypeError(`not a dotted IPv4 address: ${address}`);
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** Formats the uint32 address form of Datagrams as a dotted IPv4 address. */
export function u32ToIpv4(addr: number): string {
  return [addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255].join('.');
}
