// A slice's link messages (rtbridge.ts): the bridge, the VXLAN and its flood entries made in a
// namespace created here, through the addon's socket opened in it, and checked with iproute2's
// own view (`ip -d -j link`, `bridge -j fdb`); the dumps parsed back; bad input refused by
// field and malformed answers by BAD_NETLINK_ANSWER. Nothing is made outside the namespace.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import { Netlink } from '../../../native/netlink.ts';
import { canNetns } from '../../../native/test/helpers/netns.ts';
import { SlicenetError } from '../../errors.ts';
import { run, runRaw } from '../../exec.ts';
import {
  appendFloodEntry,
  delFloodEntry,
  dumpFdb,
  dumpLinks,
  newBridge,
  newVxlan,
  parseFdbEntry,
  parseLink,
  setLink,
} from '../rtbridge.ts';
import { delLink, getLink, linkIndexOf } from '../rtnetlink.ts';

const root = canNetns ? test.serial : test.skip;
const NS = `sn-rb-${randomBytes(3).toString('hex')}`;

test.before(async () => {
  if (!canNetns) return;
  await run(['ip', 'netns', 'add', NS]);
  await run(['ip', '-n', NS, 'link', 'set', 'lo', 'up']);
  await run(['ip', '-n', NS, 'addr', 'add', '198.18.9.1/32', 'dev', 'lo']);
});
test.after.always(async () => {
  await runRaw(['ip', 'netns', 'del', NS]);
});

interface IpLink {
  ifname: string;
  mtu: number;
  master?: string;
  flags: string[];
  linkinfo?: { info_kind: string; info_data?: { id?: number; local?: string; port?: number } };
}
async function ipLink(name: string): Promise<IpLink | undefined> {
  const r = await runRaw(['ip', '-d', '-j', '-n', NS, 'link', 'show', 'dev', name]);
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as IpLink[])[0] : undefined;
}

root('a bridge and a VXLAN made, joined and up, as ip sees them; the dump parsed back', async (t) => {
  const nl = Netlink.open(`/run/netns/${NS}`);
  try {
    nl.call(newBridge({ name: 'snbr77', mtu: 1420 }));
    nl.call(newVxlan({ name: 'snvx77', vni: 77, local: '198.18.9.1', port: 4789, mtu: 1420 }));
    const br = linkIndexOf(nl.call(getLink('snbr77'))[0]!);
    const vx = linkIndexOf(nl.call(getLink('snvx77'))[0]!);
    nl.call(setLink(vx, { master: br, mtu: 1400 }));
    nl.call(setLink(br, { mtu: 1400 }));

    const v = await ipLink('snvx77');
    t.like(v, { mtu: 1400, master: 'snbr77' });
    t.like(v!.linkinfo, { info_kind: 'vxlan', info_data: { id: 77, local: '198.18.9.1', port: 4789 } });
    t.true(v!.flags.includes('UP'));
    const b = await ipLink('snbr77');
    t.like(b, { mtu: 1400, linkinfo: { info_kind: 'bridge' } });
    t.true(b!.flags.includes('UP'));

    const links = nl.call(dumpLinks()).map(parseLink);
    t.deepEqual(
      links.filter((l) => l.name !== 'lo'),
      [
        { index: br, name: 'snbr77', kind: 'bridge' },
        { index: vx, name: 'snvx77', kind: 'vxlan', master: br },
      ],
    );
    t.like(
      links.find((l) => l.name === 'lo'),
      { index: 1 },
    );
    t.is(links.find((l) => l.name === 'lo')!.kind, undefined, 'no IFLA_LINKINFO: no kind');

    t.throws(
      () => nl.call(newVxlan({ name: 'snvx77', vni: 77, local: '198.18.9.1', port: 4789, mtu: 1420 })),
      {
        code: 'EEXIST',
      } as never,
    );
  } finally {
    for (const name of ['snvx77', 'snbr77']) await runRaw(['ip', '-n', NS, 'link', 'del', name]);
    nl.close();
  }
});

root('flood entries appended, listed and deleted, as bridge fdb sees them', async (t) => {
  const nl = Netlink.open(`/run/netns/${NS}`);
  try {
    nl.call(newVxlan({ name: 'snvx78', vni: 78, local: '198.18.9.1', port: 4789, mtu: 1420 }));
    const vx = linkIndexOf(nl.call(getLink('snvx78'))[0]!);
    nl.call(appendFloodEntry(vx, '198.18.9.2'));
    nl.call(appendFloodEntry(vx, '198.18.9.3'));
    const fdb = async (): Promise<string[]> => {
      const r = await run(['bridge', '-j', '-n', NS, 'fdb', 'show', 'dev', 'snvx78']);
      return (JSON.parse(r) as { mac: string; dst?: string; state?: string; flags?: string[] }[])
        .filter((e) => e.mac === '00:00:00:00:00:00')
        .map((e) => `${e.dst} ${e.state} ${(e.flags ?? []).join(',')}`)
        .sort();
    };
    t.deepEqual(await fdb(), ['198.18.9.2 permanent self', '198.18.9.3 permanent self']);
    const parsed = nl
      .call(dumpFdb())
      .map(parseFdbEntry)
      .filter((e) => e.index === vx && e.mac === '00:00:00:00:00:00');
    t.deepEqual(parsed.map((e) => e.dst).sort(), ['198.18.9.2', '198.18.9.3']);

    nl.call(delFloodEntry(vx, '198.18.9.2'));
    t.deepEqual(await fdb(), ['198.18.9.3 permanent self']);
    nl.call(delFloodEntry(vx, '198.18.9.2'));
    t.deepEqual(
      await fdb(),
      ['198.18.9.3 permanent self'],
      'deleting one that is gone already changes nothing',
    );
  } finally {
    await runRaw(['ip', '-n', NS, 'link', 'del', 'snvx78']);
    nl.close();
  }
});

test('dumps ask for NLMSG_DONE (DUMP, no ACK); changes ask for an ack; the VXLAN port and address in network order', (t) => {
  for (const m of [dumpLinks(), dumpFdb()]) t.is(m.readUInt16LE(6), 0x1 | 0x300);
  t.is(setLink(3, { mtu: 1500 }).readUInt16LE(6), 0x1 | 0x4);
  t.is(appendFloodEntry(3, '10.0.0.1').readUInt16LE(6), 0x1 | 0x4 | 0x400 | 0x800);
  const m = newVxlan({ name: 'v', vni: 5, local: '10.1.2.3', port: 4789, mtu: 1450 });
  t.true(m.includes(Buffer.from([0x12, 0xb5])), 'port 4789 big-endian');
  t.true(m.includes(Buffer.from([10, 1, 2, 3])), 'local as its four bytes');
});

test('bad input is refused by field before any bytes are built', (t) => {
  const refused = (fn: () => unknown, message: RegExp): void => {
    const err = t.throws(fn, { instanceOf: SlicenetError });
    t.is(err.code, 'BAD_NETLINK_INPUT');
    t.regex(err.message, message);
  };
  refused(() => newBridge({ name: 'a/b', mtu: 1500 }), /^name: /);
  refused(() => newBridge({ name: 'br', mtu: 10 }), /^mtu: /);
  refused(() => newVxlan({ name: 'vx', vni: 0, local: '10.0.0.1', port: 4789, mtu: 1450 }), /^vni: /);
  refused(() => newVxlan({ name: 'vx', vni: 1 << 24, local: '10.0.0.1', port: 4789, mtu: 1450 }), /^vni: /);
  refused(() => newVxlan({ name: 'vx', vni: 5, local: '10.0.0', port: 4789, mtu: 1450 }), /^local: /);
  refused(() => newVxlan({ name: 'vx', vni: 5, local: '10.0.0.1', port: 0, mtu: 1450 }), /^port: /);
  refused(() => setLink(0, { mtu: 1500 }), /^index: /);
  refused(() => setLink(2, { mtu: 1500, master: -1 }), /^master: /);
  refused(() => appendFloodEntry(1.5, '10.0.0.1'), /^vxlanIndex: /);
  refused(() => delFloodEntry(2, 'nope'), /^dst: /);
});

test('malformed answers are refused with BAD_NETLINK_ANSWER', (t) => {
  const answer = (fn: () => unknown): void => {
    const err = t.throws(fn, { instanceOf: SlicenetError });
    t.is(err.code, 'BAD_NETLINK_ANSWER');
  };
  answer(() => parseLink(Buffer.alloc(20)));
  answer(() => parseFdbEntry(delLink('x')));
  // An RTM_NEWLINK whose only attribute claims more bytes than the message holds.
  const m = Buffer.alloc(40);
  m.writeUInt32LE(40, 0);
  m.writeUInt16LE(16, 4);
  m.writeUInt16LE(200, 32);
  m.writeUInt16LE(3, 34);
  answer(() => parseLink(m));
  // One without a name.
  const noName = Buffer.alloc(32);
  noName.writeUInt32LE(32, 0);
  noName.writeUInt16LE(16, 4);
  answer(() => parseLink(noName));
});
