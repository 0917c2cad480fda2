/**
 * rtnetlink messages for a slice's links on a node: the bytes `ip link add … type bridge`,
 * `ip link add … type vxlan`, `ip link set … master … mtu … up`, `ip link show`, and
 * `bridge fdb append|del|show` of a VXLAN's flood entries would send, and the parsing of their
 * answers. Building and parsing only; native/netlink.ts sends them. Layouts are those of
 * <linux/rtnetlink.h>, <linux/if_link.h> and <linux/neighbour.h>, host byte order except where
 * the kernel reads network order (the VXLAN's local address and port, the entries' IPv4 dst).
 *
 *   link:  nlmsghdr │ ifinfomsg │ IFLA_IFNAME │ IFLA_MTU │ IFLA_MASTER │ IFLA_LINKINFO { KIND,
 *          DATA { IFLA_VXLAN_ID, IFLA_VXLAN_LOCAL, IFLA_VXLAN_PORT } }
 *   entry: nlmsghdr │ ndmsg (AF_BRIDGE, ifindex, NOARP|PERMANENT, NTF_SELF) │ NDA_LLADDR │ NDA_DST
 *
 * Builders check their input and throw BAD_NETLINK_INPUT naming the field; parsers throw
 * BAD_NETLINK_ANSWER on a message that does not hold what it claims.
 */
import { SlicenetError } from '../errors.ts';
import {
  attr,
  checkIfname,
  checkMtu,
  cstring,
  IFF_UP,
  IFINFOMSG_LEN,
  ifinfomsg,
  IFLA,
  IFLA_INFO,
  ipv4Bytes,
  message,
  NLM_F,
  nlmsg,
  NLMSG_HDRLEN,
  RTM,
  u32,
  bad,
} from './rtnetlink.ts';

const IFLA_VXLAN = { ID: 1, LOCAL: 4, PORT: 15 } as const;
const NDA = { DST: 1, LLADDR: 2 } as const;
const AF_BRIDGE = 7;
const NDMSG_LEN = 12;
const NUD_NOARP = 0x40;
const NUD_PERMANENT = 0x80;
const NTF_SELF = 0x02;
const MAX_VNI = 0xffffff;
const ZERO_MAC = Buffer.alloc(6);

function checkIndex(field: string, index: number): void {
  if (!Number.isInteger(index) || index <= 0 || index > 0x7fffffff) bad(field, `${index} is not an ifindex`);
}

function be16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}

export interface NewBridge {
  name: string;
  mtu: number;
}

/** `ip link add NAME mtu M type bridge` (down: `setLink` brings it up once its ports are on). */
export function newBridge(b: NewBridge): Buffer {
  checkIfname('name', b.name);
  checkMtu('mtu', b.mtu);
  return message(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, [
    ifinfomsg(),
    attr(IFLA.IFNAME, cstring(b.name)),
    attr(IFLA.MTU, u32(b.mtu)),
    attr(IFLA.LINKINFO, attr(IFLA_INFO.KIND, cstring('bridge'))),
  ]);
}

export interface NewVxlan {
  name: string;
  vni: number;
  /** The underlay source address. */
  local: string;
  port: number;
  mtu: number;
}

/** `ip link add NAME mtu M type vxlan id VNI local IP dstport PORT` (kernel defaults otherwise). */
export function newVxlan(v: NewVxlan): Buffer {
  checkIfname('name', v.name);
  checkMtu('mtu', v.mtu);
  if (!Number.isInteger(v.vni) || v.vni < 1 || v.vni > MAX_VNI)
    bad('vni', `${v.vni} must be 1 to ${MAX_VNI}`);
  if (!Number.isInteger(v.port) || v.port < 1 || v.port > 65535) bad('port', `${v.port} must be 1 to 65535`);
  const data = Buffer.concat([
    attr(IFLA_VXLAN.ID, u32(v.vni)),
    attr(IFLA_VXLAN.LOCAL, ipv4Bytes('local', v.local)),
    attr(IFLA_VXLAN.PORT, be16(v.port)),
  ]);
  return message(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, [
    ifinfomsg(),
    attr(IFLA.IFNAME, cstring(v.name)),
    attr(IFLA.MTU, u32(v.mtu)),
    attr(IFLA.LINKINFO, Buffer.concat([attr(IFLA_INFO.KIND, cstring('vxlan')), attr(IFLA_INFO.DATA, data)])),
  ]);
}

/** `ip link set dev <index> [master <m>] mtu M up`. */
export function setLink(index: number, s: { master?: number; mtu: number }): Buffer {
  checkIndex('index', index);
  checkMtu('mtu', s.mtu);
  if (s.master !== undefined) checkIndex('master', s.master);
  return message(RTM.NEWLINK, 0, [
    ifinfomsg(index, IFF_UP, IFF_UP),
    attr(IFLA.MTU, u32(s.mtu)),
    ...(s.master !== undefined ? [attr(IFLA.MASTER, u32(s.master))] : []),
  ]);
}

/** `ip link show`: every link of the namespace, one RTM_NEWLINK each, read with parseLink. */
export function dumpLinks(): Buffer {
  return nlmsg(RTM.GETLINK, NLM_F.DUMP, [ifinfomsg()]);
}

export interface LinkInfo {
  index: number;
  name: string;
  /** The bridge it is a port of (ifindex), if any. */
  master?: number;
  /** IFLA_INFO_KIND: 'bridge', 'vxlan', 'veth', …; undefined for a physical device. */
  kind?: string;
}

/** Attributes of a message body from `at`: type (nesting bit cleared) → payload. */
function attrs(b: Buffer, at: number, end: number): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  while (at + 4 <= end) {
    const len = b.readUInt16LE(at);
    if (len < 4 || at + len > end) throw answerError(`an attribute at byte ${at} claims ${len} bytes`);
    out.set(b.readUInt16LE(at + 2) & 0x3fff, b.subarray(at + 4, at + len));
    at += (len + 3) & ~3;
  }
  return out;
}

const answerError = (why: string): SlicenetError => new SlicenetError('BAD_NETLINK_ANSWER', why);
const cstr = (b: Buffer): string => b.toString('utf8', 0, b.indexOf(0) < 0 ? b.length : b.indexOf(0));

function body(m: Buffer, type: number, header: number): number {
  if (m.length < NLMSG_HDRLEN + header || m.readUInt16LE(4) !== type)
    throw answerError(`expected a message of type ${type} of at least ${NLMSG_HDRLEN + header} bytes`);
  return Math.min(m.readUInt32LE(0), m.length);
}

/** One link of a dumpLinks answer (or getLink's). */
export function parseLink(m: Buffer): LinkInfo {
  const end = body(m, RTM.NEWLINK, IFINFOMSG_LEN);
  const a = attrs(m, NLMSG_HDRLEN + IFINFOMSG_LEN, end);
  const name = a.get(IFLA.IFNAME);
  if (!name) throw answerError('a link without IFLA_IFNAME');
  const master = a.get(IFLA.MASTER);
  const info = a.get(IFLA.LINKINFO);
  const kind = info && attrs(info, 0, info.length).get(IFLA_INFO.KIND);
  return {
    index: m.readInt32LE(NLMSG_HDRLEN + 4),
    name: cstr(name),
    ...(master && master.length >= 4 ? { master: master.readUInt32LE(0) } : {}),
    ...(kind ? { kind: cstr(kind) } : {}),
  };
}

function ndmsg(index: number): Buffer {
  const b = Buffer.alloc(NDMSG_LEN);
  b.writeUInt8(AF_BRIDGE, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt16LE(NUD_NOARP | NUD_PERMANENT, 8);
  b.writeUInt8(NTF_SELF, 10);
  return b;
}

function floodEntry(type: number, flags: number, vxlanIndex: number, dst: string): Buffer {
  checkIndex('vxlanIndex', vxlanIndex);
  return message(type, flags, [
    ndmsg(vxlanIndex),
    attr(NDA.LLADDR, ZERO_MAC),
    attr(NDA.DST, ipv4Bytes('dst', dst)),
  ]);
}

/** `bridge fdb append 00:00:00:00:00:00 dev <vxlan> dst IP`: one more head-end replication target. */
export const appendFloodEntry = (vxlanIndex: number, dst: string): Buffer =>
  floodEntry(RTM.NEWNEIGH, NLM_F.CREATE | NLM_F.APPEND, vxlanIndex, dst);

/** `bridge fdb del 00:00:00:00:00:00 dev <vxlan> dst IP`. */
export const delFloodEntry = (vxlanIndex: number, dst: string): Buffer =>
  floodEntry(RTM.DELNEIGH, 0, vxlanIndex, dst);

/** `bridge fdb show`: every bridge-family entry of the namespace, read with parseFdbEntry. */
export function dumpFdb(): Buffer {
  const b = Buffer.alloc(NDMSG_LEN);
  b.writeUInt8(AF_BRIDGE, 0);
  return nlmsg(RTM.GETNEIGH, NLM_F.DUMP, [b]);
}

export interface FdbEntry {
  index: number;
  mac: string;
  /** The VTEP an entry of a VXLAN sends to. */
  dst?: string;
}

/** One entry of a dumpFdb answer. */
export function parseFdbEntry(m: Buffer): FdbEntry {
  const end = body(m, RTM.NEWNEIGH, NDMSG_LEN);
  const a = attrs(m, NLMSG_HDRLEN + NDMSG_LEN, end);
  const mac = a.get(NDA.LLADDR);
  const dst = a.get(NDA.DST);
  return {
    index: m.readInt32LE(NLMSG_HDRLEN + 4),
    mac: mac ? [...mac].map((x) => x.toString(16).padStart(2, '0')).join(':') : '',
    ...(dst && dst.length === 4 ? { dst: [...dst].join('.') } : {}),
  };
}
