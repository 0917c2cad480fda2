/**
 * Local ARP answers for slice addresses known from the Slice's endpoints (issue 5): a request
 * for a known IPv4 address is answered on the TAP with the endpoint's MAC instead of being
 * flooded to every peer cluster, which cuts broadcast across the WAN to the unknown remainder.
 * Only well-formed Ethernet/IPv4 requests are answered; probes (sender 0.0.0.0), gratuitous ARP
 * and a host asking for its own address are left to flood, since answering those would fake a
 * conflict or hide one.
 */
import { ipv4ToU32 } from '../../native/batch.ts';
import { macAt, parseMac, writeMac } from './mac.ts';

const ETHERTYPE_ARP = 0x0806;
const ARP_LEN = 42;

export interface SliceEndpoint {
  ip: string;
  mac: string;
}

export class ArpTable {
  private readonly byIp = new Map<number, number>();
  /** Reused result of requestTarget: valid until the next call. */
  private readonly hit = { mac: 0 };

  constructor(endpoints: SliceEndpoint[] = []) {
    this.replace(endpoints);
  }

  /** Replaces the known addresses (the Slice's endpoints changed). */
  replace(endpoints: SliceEndpoint[]): void {
    this.byIp.clear();
    for (const e of endpoints) this.byIp.set(ipv4ToU32(e.ip), parseMac(e.mac));
  }

  get size(): number {
    return this.byIp.size;
  }

  /** For an ARP request this table can answer, the MAC to answer with; else undefined. */
  requestTarget(buf: Uint8Array, off: number, len: number): { mac: number } | undefined {
    if (len < ARP_LEN || u16(buf, off + 12) !== ETHERTYPE_ARP) return undefined;
    // htype Ethernet, ptype IPv4, hlen 6, plen 4, op request.
    if (u16(buf, off + 14) !== 1 || u16(buf, off + 16) !== 0x0800) return undefined;
    if (buf[off + 18] !== 6 || buf[off + 19] !== 4 || u16(buf, off + 20) !== 1) return undefined;
    const spa = u32(buf, off + 28);
    const tpa = u32(buf, off + 38);
    if (spa === 0 || spa === tpa) return undefined;
    const mac = this.byIp.get(tpa);
    if (mac === undefined || mac === macAt(buf, off + 22)) return undefined;
    this.hit.mac = mac;
    return this.hit;
  }
}

/** The ARP reply to the request at `buf[off…]`, from `mac` (a new 42-byte frame). */
export function arpReply(buf: Uint8Array, off: number, mac: number): Buffer {
  const r = Buffer.alloc(ARP_LEN);
  const req = Buffer.from(buf.buffer, buf.byteOffset + off, ARP_LEN);
  req.copy(r, 0, 22, 28); // to the requester's hardware address
  writeMac(r, 6, mac);
  r.writeUInt16BE(ETHERTYPE_ARP, 12);
  req.copy(r, 14, 14, 20); // htype, ptype, hlen, plen as asked
  r.writeUInt16BE(2, 20);
  writeMac(r, 22, mac);
  req.copy(r, 28, 38, 42); // sender IP = the address asked for
  req.copy(r, 32, 22, 32); // target = the requester's MAC and IP
  return r;
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}
