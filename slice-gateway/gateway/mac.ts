// MAC addresses as plain numbers (48 bits fit a double exactly), so the forwarding table is a
// Map keyed by number: no string or Buffer made per frame.

/** The 48-bit MAC at `buf[at, at+6)`. */
export function macAt(buf: Uint8Array, at: number): number {
  const hi = (buf[at]! << 8) | buf[at + 1]!;
  const lo = ((buf[at + 2]! << 24) | (buf[at + 3]! << 16) | (buf[at + 4]! << 8) | buf[at + 5]!) >>> 0;
  return hi * 2 ** 32 + lo;
}

/** Writes `mac` at `buf[at, at+6)`. */
export function writeMac(buf: Buffer, at: number, mac: number): void {
  buf.writeUInt16BE(Math.floor(mac / 2 ** 32), at);
  buf.writeUInt32BE(mac % 2 ** 32, at + 2);
}

/** Parses "aa:bb:cc:dd:ee:ff"; throws TypeError naming the bad value. */
export function parseMac(mac: string): number {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p)))
    throw new TypeError(`not a MAC address: ${mac}`);
  return parts.reduce((acc, p) => acc * 256 + parseInt(p, 16), 0);
}

/** The I/G bit of the MAC at `at`: set for broadcast and multicast. */
export function isGroup(buf: Uint8Array, at: number): boolean {
  return (buf[at]! & 1) === 1;
}
