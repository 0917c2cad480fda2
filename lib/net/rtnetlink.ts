/**
 * rtnetlink messages for the few link and address changes the node agent makes per pod: the
 * bytes `ip link add … type veth peer … netns`, `ip addr add` and `ip link del` would send.
 * Building and parsing only; native/netlink.ts sends them. Layouts are those of
 * <linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h> and <linux/veth.h>, in host byte
 * order; every attribute is padded to 4 bytes.
 *
 *   nlmsghdr (16) │ ifinfomsg (16) │ IFLA_IFNAME │ IFLA_ADDRESS │ IFLA_MTU │ IFLA_MASTER │
 *                 │ IFLA_LINKINFO { IFLA_INFO_KIND "veth", IFLA_INFO_DATA { VETH_INFO_PEER
 *                 │   { ifinfomsg, IFLA_IFNAME, IFLA_ADDRESS, IFLA_MTU, IFLA_NET_NS_FD } } }
 *
 * Every builder checks its input first and throws a SlicenetError `BAD_NETLINK_INPUT` that
 * names the field, so a wrong name or address never reaches the kernel as bytes.
 */
import { SlicenetError } from '../errors.ts';
import { parseCidr } from './cidr.ts';

export const NLMSG_HDRLEN = 16;
export const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;

export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  NEWADDR: 20,
  NEWNEIGH: 28,
  DELNEIGH: 29,
  GETNEIGH: 30,
} as const;
export const NLM_F = {
  REQUEST: 0x1,
  ACK: 0x4,
  DUMP: 0x300,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
} as const;
export const IFLA = { ADDRESS: 1, IFNAME: 3, MTU: 4, MASTER: 10, LINKINFO: 18, NET_NS_FD: 28 } as const;
export const IFLA_INFO = { KIND: 1, DATA: 2 } as const;
const VETH_INFO_PEER = 1;
const IFA = { ADDRESS: 1, LOCAL: 2 } as const;
const AF_INET = 2;
export const IFF_UP = 0x1;
/** IFNAMSIZ - 1: the longest interface name the kernel takes. */
const MAX_IFNAME = 15;

/** Throws BAD_NETLINK_INPUT naming the field. */
export function bad(field: string, why: string): never {
  throw new SlicenetError('BAD_NETLINK_INPUT', `${field}: ${why}`);
}

/** An interface name as the kernel accepts it (dev_valid_name): 1–15 bytes, no '/', ':' or space. */
export function checkIfname(field: string, name: string): void {
  if (!name || Buffer.byteLength(name) > MAX_IFNAME) bad(field, `"${name}" must be 1 to ${MAX_IFNAME} bytes`);
  if (name === '.' || name === '..' || /[/:\s]/.test(name))
    bad(field, `"${name}" is not an interface name (no '/', ':' or white space; not . or ..)`);
}

export function macBytes(field: string, mac: string): Buffer {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac))
    bad(field, `"${mac}" is not a MAC address like 0a:58:0a:00:00:01`);
  return Buffer.from(mac.replace(/:/g, ''), 'hex');
}

export function ipv4Bytes(field: string, ip: string): Buffer {
  const c = parseCidr(`${ip}/32`);
  if (typeof c === 'string') bad(field, `"${ip}" is not an IPv4 address`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(c.address);
  return b;
}

export function checkMtu(field: string, mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535)
    bad(field, `${mtu} must be an integer from 68 to 65535`);
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

export const cstring = (s: string): Buffer => Buffer.concat([Buffer.from(s), Buffer.alloc(1)]);

/** One attribute, padded: { len u16, type u16, payload }. */
export function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const b = Buffer.alloc((len + 3) & ~3);
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}

export function ifinfomsg(index = 0, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

/**
 * A netlink message: nlmsghdr { len, type, flags | NLM_F_REQUEST, seq 0 (stamped by
 * Netlink.call), pid 0 } and the body. Shared with lib/net/nftnetlink.ts.
 */
export function nlmsg(type: number, flags: number, body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  const h = Buffer.alloc(NLMSG_HDRLEN);
  h.writeUInt32LE(NLMSG_HDRLEN + payload.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags | NLM_F.REQUEST, 6);
  return Buffer.concat([h, payload]);
}

/** An rtnetlink request: every one asks for an ack, which Netlink.call waits for. */
export const message = (type: number, flags: number, body: Buffer[]): Buffer =>
  nlmsg(type, flags | NLM_F.ACK, body);

export interface VethEnd {
  name: string;
  mac: string;
  mtu: number;
}

export interface VethPair extends VethEnd {
  /** The bridge this end joins (its ifindex), or none. */
  master?: number;
  /** This end is set up. */
  up?: boolean;
  /** The other end, made directly in the namespace of `netnsFd` (an open /proc/…/ns/net). */
  peer: VethEnd & { netnsFd: number };
}

/** `ip link add NAME address MAC mtu M [master B] [up] type veth peer name … address … mtu … netns FD`. */
export function newVethPair(v: VethPair): Buffer {
  checkIfname('name', v.name);
  checkIfname('peer.name', v.peer.name);
  checkMtu('mtu', v.mtu);
  checkMtu('peer.mtu', v.peer.mtu);
  if (!Number.isInteger(v.peer.netnsFd) || v.peer.netnsFd < 0)
    bad('peer.netnsFd', `${v.peer.netnsFd} is not an fd`);
  const peer = Buffer.concat([
    ifinfomsg(),
    attr(IFLA.IFNAME, cstring(v.peer.name)),
    attr(IFLA.ADDRESS, macBytes('peer.mac', v.peer.mac)),
    attr(IFLA.MTU, u32(v.peer.mtu)),
    attr(IFLA.NET_NS_FD, u32(v.peer.netnsFd)),
  ]);
  const linkinfo = Buffer.concat([
    attr(IFLA_INFO.KIND, cstring('veth')),
    attr(IFLA_INFO.DATA, attr(VETH_INFO_PEER, peer)),
  ]);
  const up = v.up ? IFF_UP : 0;
  return message(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, [
    ifinfomsg(0, up, up),
    attr(IFLA.IFNAME, cstring(v.name)),
    attr(IFLA.ADDRESS, macBytes('mac', v.mac)),
    attr(IFLA.MTU, u32(v.mtu)),
    ...(v.master !== undefined ? [attr(IFLA.MASTER, u32(v.master))] : []),
    attr(IFLA.LINKINFO, linkinfo),
  ]);
}

/** `ip link del NAME`. */
export function delLink(name: string): Buffer {
  checkIfname('name', name);
  return message(RTM.DELLINK, 0, [ifinfomsg(), attr(IFLA.IFNAME, cstring(name))]);
}

/** `ip link show NAME`: answered by one RTM_NEWLINK, read with linkIndexOf. */
export function getLink(name: string): Buffer {
  checkIfname('name', name);
  return message(RTM.GETLINK, 0, [ifinfomsg(), attr(IFLA.IFNAME, cstring(name))]);
}

/** `ip link set dev <index> up`. */
export function setLinkUp(index: number): Buffer {
  return message(RTM.NEWLINK, 0, [ifinfomsg(index, IFF_UP, IFF_UP)]);
}

/** `ip addr add IP/PREFIX dev <index>` (IPv4, no broadcast, as `ip` adds it). */
export function newAddr4(index: number, ip: string, prefix: number): Buffer {
  const a = ipv4Bytes('address', ip);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) bad('prefix', `${prefix} must be 0 to 32`);
  const m = Buffer.alloc(IFADDRMSG_LEN);
  m.writeUInt8(AF_INET, 0);
  m.writeUInt8(prefix, 1);
  m.writeUInt32LE(index, 4);
  return message(RTM.NEWADDR, NLM_F.CREATE | NLM_F.EXCL, [m, attr(IFA.LOCAL, a), attr(IFA.ADDRESS, a)]);
}

/** The ifindex in an RTM_NEWLINK answer (getLink's). */
export function linkIndexOf(answer: Buffer): number {
  if (answer.length < NLMSG_HDRLEN + IFINFOMSG_LEN || answer.readUInt16LE(4) !== RTM.NEWLINK)
    throw new SlicenetError(
      'BAD_NETLINK_ANSWER',
      `expected an RTM_NEWLINK of at least 32 bytes, got ${answer.length}`,
    );
  return answer.readInt32LE(NLMSG_HDRLEN + 4);
}
