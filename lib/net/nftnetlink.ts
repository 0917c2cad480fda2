/**
 * nftables set elements over nfnetlink: the bytes `nft add element` / `nft delete element`
 * would send, for the agent's per-pod anti-spoof entries, without starting `nft`. Building
 * only; native/netlink.ts (NETLINK.NETFILTER) sends them. Layouts are those of
 * <linux/netfilter/nfnetlink.h> and <linux/netfilter/nf_tables.h>; the tables and sets
 * themselves are still made by `nft -f` (lib/net/nft.ts).
 *
 *   BATCH_BEGIN (res_id = NFNL_SUBSYS_NFTABLES)
 *   NEWSETELEM / DELSETELEM  nfgenmsg(family) │ TABLE │ SET │ ELEMENTS { ELEM { KEY { VALUE } } }
 *   …
 *   BATCH_END (NLM_F_ACK: the call ends at its ack)
 *
 * A batch is one transaction: applied whole or not at all. Keys are nft's register layout:
 * each field of a concatenation padded to 4 bytes — ifname 16 (NUL-padded), ether_addr 6 + 2,
 * ipv4_addr 4 in network order.
 */
import { attr, bad, checkIfname, cstring, ipv4Bytes, macBytes, nlmsg } from './rtnetlink.ts';

const NFNL_SUBSYS_NFTABLES = 10;
const NFNL_MSG = { BATCH_BEGIN: 0x10, BATCH_END: 0x11 } as const;
export const NFT_MSG = { NEWSETELEM: 12, DELSETELEM: 14 } as const;
const NLM_F = { ACK: 0x4, CREATE: 0x400 } as const;
const NLA_F_NESTED = 0x8000;
const NFTA_SET_ELEM_LIST = { TABLE: 1, SET: 2, ELEMENTS: 3 } as const;
const NFTA_LIST_ELEM = 1;
const NFTA_SET_ELEM_KEY = 1;
const NFTA_DATA_VALUE = 1;
/** NFPROTO_* of the tables Slicenet uses. */
export const NFPROTO = { INET: 1, BRIDGE: 7 } as const;

const nested = (type: number, ...children: Buffer[]): Buffer =>
  attr(type | NLA_F_NESTED, Buffer.concat(children));

/** An nfnetlink message: nfgenmsg { family, version 0, res_id (big-endian) } and the body. */
function message(type: number, flags: number, family: number, resId: number, body: Buffer[]): Buffer {
  const nfgenmsg = Buffer.alloc(4);
  nfgenmsg.writeUInt8(family, 0);
  nfgenmsg.writeUInt16BE(resId, 2);
  return nlmsg(type, flags, [nfgenmsg, ...body]);
}

/** Key fields, each as nft lays it out in its registers. */
export const key = {
  ifname(name: string): Buffer {
    checkIfname('key ifname', name);
    const b = Buffer.alloc(16);
    b.write(name);
    return b;
  },
  etherAddr: (mac: string): Buffer => Buffer.concat([macBytes('key ether_addr', mac), Buffer.alloc(2)]),
  ipv4Addr: (ip: string): Buffer => ipv4Bytes('key ipv4_addr', ip),
};

export interface SetElementChange {
  op: 'add' | 'delete';
  family: number;
  table: string;
  set: string;
  /** The element's key: one field, or the fields of a concatenation in order (see `key`). */
  key: Buffer[];
}

function checkName(field: string, name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,254}$/.test(name)) bad(field, `"${name}" is not an nftables name`);
}

function change(c: SetElementChange): Buffer {
  checkName('table', c.table);
  checkName('set', c.set);
  const value = Buffer.concat(c.key);
  if (value.length === 0 || value.length > 64) bad('key', `${value.length} bytes; a set key is 1 to 64`);
  return message(
    (NFNL_SUBSYS_NFTABLES << 8) | (c.op === 'add' ? NFT_MSG.NEWSETELEM : NFT_MSG.DELSETELEM),
    c.op === 'add' ? NLM_F.CREATE : 0,
    c.family,
    0,
    [
      attr(NFTA_SET_ELEM_LIST.TABLE, cstring(c.table)),
      attr(NFTA_SET_ELEM_LIST.SET, cstring(c.set)),
      nested(
        NFTA_SET_ELEM_LIST.ELEMENTS,
        nested(NFTA_LIST_ELEM, nested(NFTA_SET_ELEM_KEY, attr(NFTA_DATA_VALUE, value))),
      ),
    ],
  );
}

/**
 * One transaction of element changes, in order. `add` of an element that exists changes
 * nothing; `delete` of one that does not fails the whole batch (ENOENT), as `nft` does.
 */
export function setElementBatch(changes: SetElementChange[]): Buffer {
  if (changes.length === 0) bad('changes', 'a batch needs at least one change');
  return Buffer.concat([
    message(NFNL_MSG.BATCH_BEGIN, 0, 0, NFNL_SUBSYS_NFTABLES, []),
    ...changes.map(change),
    message(NFNL_MSG.BATCH_END, NLM_F.ACK, 0, NFNL_SUBSYS_NFTABLES, []),
  ]);
}
