/** Builds and parses the Ethernet/IPv4/UDP frames the scenarios write to and read from TAPs. */

export function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

function ipBytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An Ethernet II frame carrying IPv4/UDP (UDP checksum 0: "none", legal over IPv4). */
export function udpFrame(
  src: { mac: string; ip: string; port: number },
  dst: { mac: string; ip: string; port: number },
  payload: Buffer,
): Buffer {
  const eth = Buffer.concat([macBytes(dst.mac), macBytes(src.mac), Buffer.from([0x08, 0x00])]);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  ipBytes(src.ip).copy(ip, 12);
  ipBytes(dst.ip).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(src.port, 0);
  udp.writeUInt16BE(dst.port, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([eth, ip, udp, payload]);
}

/** The UDP payload of an untagged IPv4/UDP frame to `port`, or undefined for any other frame. */
export function udpPayload(frame: Buffer, port: number): Buffer | undefined {
  if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0800 || frame[23] !== 17) return undefined;
  const ihl = (frame[14]! & 15) * 4;
  if (frame.readUInt16BE(14 + ihl + 2) !== port) return undefined;
  return frame.subarray(14 + ihl + 8, 14 + frame.readUInt16BE(16));
}
