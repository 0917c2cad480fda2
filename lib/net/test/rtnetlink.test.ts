// rtnetlink message bytes: header, attribute padding and the veth nesting, read back the way
// the kernel parses them; and every builder's refusal of bad input, naming the field.
import test from 'ava';
import { delLink, getLink, linkIndexOf, newAddr4, newVethPair, RTM, setLinkUp } from '../rtnetlink.ts';

interface Attr {
  type: number;
  payload: Buffer;
}

/** Attributes of `b` from `at` on, as nla_parse walks them (4-byte aligned). */
function attrs(b: Buffer, at: number): Attr[] {
  const out: Attr[] = [];
  while (at + 4 <= b.length) {
    const len = b.readUInt16LE(at);
    out.push({ type: b.readUInt16LE(at + 2), payload: b.subarray(at + 4, at + len) });
    at += (len + 3) & ~3;
  }
  return out;
}
const find = (list: Attr[], type: number): Buffer => list.find((a) => a.type === type)!.payload;
const cstr = (p: Buffer): string => p.subarray(0, p.indexOf(0)).toString();

test('delLink: header (length, type, REQUEST|ACK), an empty ifinfomsg, the name NUL-terminated and padded', (t) => {
  const m = delLink('ab');
  t.is(m.length, 16 + 16 + 8);
  t.is(m.readUInt32LE(0), m.length);
  t.is(m.readUInt16LE(4), RTM.DELLINK);
  t.is(m.readUInt16LE(6), 0x1 | 0x4);
  t.is(m.readUInt32LE(8), 0, 'seq: stamped by Netlink.call');
  t.deepEqual([...m.subarray(16, 32)], new Array(16).fill(0));
  t.deepEqual([...m.subarray(32)], [7, 0, 3, 0, 0x61, 0x62, 0, 0]);
});

test('newVethPair: CREATE|EXCL, up, MAC, MTU, master, and the peer nested in LINKINFO / INFO_DATA / VETH_INFO_PEER', (t) => {
  const m = newVethPair({
    name: 'snv0123456789ab',
    mac: '0a:59:0a:5b:00:01',
    mtu: 1420,
    master: 7,
    up: true,
    peer: { name: 'slice0', mac: '0A:58:0A:5B:00:01', mtu: 1420, netnsFd: 42 },
  });
  t.is(m.readUInt32LE(0), m.length);
  t.is(m.readUInt16LE(4), RTM.NEWLINK);
  t.is(m.readUInt16LE(6), 0x1 | 0x4 | 0x200 | 0x400);
  t.is(m.readUInt32LE(16 + 8), 1, 'ifi_flags IFF_UP');
  t.is(m.readUInt32LE(16 + 12), 1, 'ifi_change IFF_UP');
  const top = attrs(m, 32);
  t.is(cstr(find(top, 3)), 'snv0123456789ab');
  t.is(find(top, 1).toString('hex'), '0a590a5b0001');
  t.is(find(top, 4).readUInt32LE(0), 1420);
  t.is(find(top, 10).readUInt32LE(0), 7);
  const linkinfo = attrs(find(top, 18), 0);
  t.is(cstr(find(linkinfo, 1)), 'veth');
  const peer = find(attrs(find(linkinfo, 2), 0), 1);
  t.deepEqual([...peer.subarray(0, 16)], new Array(16).fill(0), 'the peer starts with its own ifinfomsg');
  const p = attrs(peer, 16);
  t.is(cstr(find(p, 3)), 'slice0');
  t.is(find(p, 1).toString('hex'), '0a580a5b0001');
  t.is(find(p, 4).readUInt32LE(0), 1420);
  t.is(find(p, 28).readUInt32LE(0), 42);
});

test('newAddr4, setLinkUp, getLink: ifaddrmsg (AF_INET, prefix, index), LOCAL = ADDRESS; flags; name', (t) => {
  const a = newAddr4(9, '10.91.0.5', 16);
  t.is(a.readUInt16LE(4), RTM.NEWADDR);
  t.deepEqual([a[16], a[17]], [2, 16]);
  t.is(a.readUInt32LE(20), 9);
  const list = attrs(a, 24);
  t.deepEqual([...find(list, 2)], [10, 91, 0, 5]);
  t.deepEqual([...find(list, 1)], [10, 91, 0, 5]);
  const up = setLinkUp(9);
  t.is(up.readInt32LE(16 + 4), 9);
  t.is(up.readUInt32LE(16 + 8), 1);
  t.is(cstr(find(attrs(getLink('snbr4096'), 32), 3)), 'snbr4096');
});

test('linkIndexOf reads an RTM_NEWLINK answer and refuses anything else', (t) => {
  const answer = Buffer.alloc(32);
  answer.writeUInt16LE(RTM.NEWLINK, 4);
  answer.writeInt32LE(12, 20);
  t.is(linkIndexOf(answer), 12);
  t.throws(() => linkIndexOf(Buffer.alloc(20)), { message: /RTM_NEWLINK of at least 32 bytes, got 20/ });
  t.throws(() => linkIndexOf(Buffer.alloc(32)), { message: /RTM_NEWLINK/ });
});

const veth = {
  name: 'h0',
  mac: '0a:59:00:00:00:01',
  mtu: 1400,
  peer: { name: 'slice0', mac: '0a:58:00:00:00:01', mtu: 1400, netnsFd: 3 },
};
const refusals: [string, () => unknown, RegExp][] = [
  ['an empty name', () => delLink(''), /^name: "" must be 1 to 15 bytes/],
  ['a 16-byte name', () => getLink('a'.repeat(16)), /^name: "a{16}" must be 1 to 15 bytes/],
  ['a name with a slash', () => delLink('a/b'), /^name: "a\/b" is not an interface name/],
  ['a name "..": a path in /proc/sys', () => delLink('..'), /^name: "\.\." is not an interface name/],
  ['a name with a space', () => delLink('a b'), /^name: "a b" is not an interface name/],
  ['a bad peer name', () => newVethPair({ ...veth, peer: { ...veth.peer, name: 'x:y' } }), /^peer\.name: /],
  [
    'a short MAC',
    () => newVethPair({ ...veth, mac: '0a:59:00:00:01' }),
    /^mac: "0a:59:00:00:01" is not a MAC/,
  ],
  [
    'a bad peer MAC',
    () => newVethPair({ ...veth, peer: { ...veth.peer, mac: 'zz:58:00:00:00:01' } }),
    /^peer\.mac: /,
  ],
  ['an MTU of 67', () => newVethPair({ ...veth, mtu: 67 }), /^mtu: 67 must be an integer from 68 to 65535/],
  [
    'a fractional peer MTU',
    () => newVethPair({ ...veth, peer: { ...veth.peer, mtu: 1400.5 } }),
    /^peer\.mtu: /,
  ],
  [
    'a negative fd',
    () => newVethPair({ ...veth, peer: { ...veth.peer, netnsFd: -1 } }),
    /^peer\.netnsFd: -1 is not an fd/,
  ],
  [
    'an address with 256',
    () => newAddr4(1, '10.0.0.256', 24),
    /^address: "10\.0\.0\.256" is not an IPv4 address/,
  ],
  ['an IPv6 address', () => newAddr4(1, 'fd00::1', 64), /^address: "fd00::1" is not an IPv4 address/],
  ['a prefix of 33', () => newAddr4(1, '10.0.0.1', 33), /^prefix: 33 must be 0 to 32/],
];
for (const [what, build, message] of refusals)
  test(`refused before any bytes: ${what}`, (t) => {
    t.throws(build, { message, instanceOf: Error });
    t.is((t.throws(build) as { code?: string }).code, 'BAD_NETLINK_INPUT');
  });
