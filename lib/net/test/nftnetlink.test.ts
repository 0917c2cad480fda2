// nfnetlink set-element batches: the batch frame, each message's header and nfgenmsg, the
// nested element key as nft lays out registers, and bad input refused by field.
import test from 'ava';
import { key, NFPROTO, NFT_MSG, setElementBatch } from '../nftnetlink.ts';

interface Msg {
  type: number;
  flags: number;
  family: number;
  resId: number;
  body: Buffer;
}
function messages(b: Buffer): Msg[] {
  const out: Msg[] = [];
  for (let at = 0; at < b.length;) {
    const len = b.readUInt32LE(at);
    out.push({
      type: b.readUInt16LE(at + 4),
      flags: b.readUInt16LE(at + 6),
      family: b[at + 16]!,
      resId: b.readUInt16BE(at + 18),
      body: b.subarray(at + 20, at + len),
    });
    at += (len + 3) & ~3;
  }
  return out;
}
function attrs(b: Buffer): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  for (let at = 0; at + 4 <= b.length;) {
    const len = b.readUInt16LE(at);
    m.set(b.readUInt16LE(at + 2), b.subarray(at + 4, at + len));
    at += (len + 3) & ~3;
  }
  return m;
}
const NESTED = 0x8000;

test('a batch: BEGIN for nftables, the changes in order, END asking the ack', (t) => {
  const b = setElementBatch([
    { op: 'add', family: NFPROTO.BRIDGE, table: 'slicenet', set: 'ports', key: [key.ifname('snv1')] },
    { op: 'delete', family: NFPROTO.BRIDGE, table: 'slicenet', set: 'ports', key: [key.ifname('snv1')] },
  ]);
  const [begin, add, del, end, ...rest] = messages(b);
  t.is(rest.length, 0);
  t.like(begin, { type: 0x10, flags: 0x1, family: 0, resId: 10 });
  t.like(add, { type: (10 << 8) | NFT_MSG.NEWSETELEM, flags: 0x1 | 0x400, family: 7, resId: 0 });
  t.like(del, { type: (10 << 8) | NFT_MSG.DELSETELEM, flags: 0x1, family: 7 });
  t.like(end, { type: 0x11, flags: 0x1 | 0x4, resId: 10 });
});

test('an element: table and set NUL-terminated, ELEMENTS / ELEM / KEY nested, the concatenated key padded per field', (t) => {
  const [, m] = messages(
    setElementBatch([
      {
        op: 'add',
        family: NFPROTO.BRIDGE,
        table: 'slicenet',
        set: 'allowed',
        key: [key.ifname('snv1'), key.etherAddr('0a:58:0a:5b:00:01'), key.ipv4Addr('10.91.0.1')],
      },
    ]),
  );
  const top = attrs(m!.body);
  t.is(top.get(1)!.toString(), 'slicenet\0');
  t.is(top.get(2)!.toString(), 'allowed\0');
  const elements = top.get(3 | NESTED)!;
  const value = attrs(attrs(attrs(elements).get(1 | NESTED)!).get(1 | NESTED)!).get(1)!;
  t.is(value.length, 16 + 8 + 4);
  t.is(value.subarray(0, 16).toString('hex'), Buffer.from('snv1').toString('hex') + '00'.repeat(12));
  t.is(value.subarray(16, 24).toString('hex'), '0a580a5b00010000');
  t.deepEqual([...value.subarray(24)], [10, 91, 0, 1]);
});

const ok = {
  op: 'add' as const,
  family: NFPROTO.BRIDGE,
  table: 'slicenet',
  set: 'ports',
  key: [key.ifname('a')],
};
const refusals: [string, () => unknown, RegExp][] = [
  ['an empty batch', () => setElementBatch([]), /^changes: a batch needs at least one change/],
  [
    'a table name with a space',
    () => setElementBatch([{ ...ok, table: 'a b' }]),
    /^table: "a b" is not an nftables name/,
  ],
  ['an empty set name', () => setElementBatch([{ ...ok, set: '' }]), /^set: "" is not an nftables name/],
  ['an empty key', () => setElementBatch([{ ...ok, key: [] }]), /^key: 0 bytes; a set key is 1 to 64/],
  [
    'a key over 64 bytes',
    () => setElementBatch([{ ...ok, key: Array.from({ length: 5 }, () => key.ifname('a')) }]),
    /^key: 80 bytes/,
  ],
  ['an ifname over 15 bytes', () => key.ifname('a'.repeat(16)), /^key ifname: /],
  [
    'a MAC with dashes',
    () => key.etherAddr('0a-58-0a-5b-00-01'),
    /^key ether_addr: "0a-58-0a-5b-00-01" is not a MAC/,
  ],
  [
    'an address of five parts',
    () => key.ipv4Addr('10.0.0.0.1'),
    /^key ipv4_addr: "10\.0\.0\.0\.1" is not an IPv4/,
  ],
];
for (const [what, build, message] of refusals)
  test(`refused before any bytes: ${what}`, (t) => {
    const err = t.throws(build, { message }) as { code?: string };
    t.is(err.code, 'BAD_NETLINK_INPUT');
  });
