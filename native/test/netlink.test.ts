// The addon's rtnetlink socket against the kernel: a "node" namespace with a bridge and a
// "pod" namespace, both made here and deleted after; every call goes through sockets opened
// in them, so nothing is made in the test's own namespace. Needs root.
import { closeSync, openSync, readlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { run, runRaw } from '../../lib/exec.ts';
import { key, NFPROTO, setElementBatch, type SetElementChange } from '../../lib/net/nftnetlink.ts';
import { delLink, getLink, linkIndexOf, newAddr4, newVethPair, setLinkUp } from '../../lib/net/rtnetlink.ts';
import { loadNative } from '../binding.ts';
import { Netlink, NETLINK, writeFileInNetns } from '../netlink.ts';
import { canNetns, thrown } from './helpers/netns.ts';

const root = canNetns ? test.serial : test.skip;
const id = randomBytes(3).toString('hex');
const NODE = `sn-nl-node-${id}`;
const POD = `sn-nl-pod-${id}`;
const path = (ns: string): string => `/run/netns/${ns}`;
const HOST = `snvt${id}`;

interface Link {
  ifname: string;
  address: string;
  mtu: number;
  master?: string;
  operstate: string;
  flags: string[];
  addr_info?: { family: string; local: string; prefixlen: number }[];
}
async function link(ns: string, name: string): Promise<Link | undefined> {
  const r = await runRaw(['ip', '-j', '-n', ns, 'addr', 'show', 'dev', name]);
  return r.exitCode === 0 ? (JSON.parse(r.stdout) as Link[])[0] : undefined;
}

test.before(async () => {
  if (!canNetns) return;
  await run(['ip', 'netns', 'add', NODE]);
  await run(['ip', 'netns', 'add', POD]);
  await run(['ip', '-n', NODE, 'link', 'add', 'br0', 'type', 'bridge']);
});
test.after.always(async () => {
  await runRaw(['ip', 'netns', 'del', NODE]);
  await runRaw(['ip', 'netns', 'del', POD]);
});

/** Asserts that `fn` throws with these fields (`message` matched as a pattern). */
function refused(
  t: ExecutionContext,
  fn: () => unknown,
  want: { name?: string; code?: string; message: RegExp },
): void {
  const got = thrown(fn);
  if (!got) return void t.fail('nothing was thrown');
  if (want.name) t.is(got.name, want.name);
  if (want.code) t.is(got.code, want.code);
  t.regex(got.message, want.message);
}

/** Deletes the pair if a failed test left it. */
function cleanUp(node: Netlink): void {
  try {
    node.call(delLink(HOST));
  } catch {
    // gone already
  }
}

function attach(node: Netlink, ifname = 'slice0'): void {
  const fd = openSync(path(POD), 'r');
  try {
    node.call(
      newVethPair({
        name: HOST,
        mac: '0a:59:0a:5b:00:07',
        mtu: 1420,
        master: linkIndexOf(node.call(getLink('br0'))[0]!),
        up: true,
        peer: { name: ifname, mac: '0a:58:0a:5b:00:07', mtu: 1420, netnsFd: fd },
      }),
    );
  } finally {
    closeSync(fd);
  }
}

root(
  'a veth pair made across namespaces, addressed and up, then deleted; the calling thread never moves',
  async (t) => {
    const before = readlinkSync('/proc/thread-self/ns/net');
    const node = Netlink.open(path(NODE));
    try {
      attach(node);
      writeFileInNetns(path(POD), '/proc/sys/net/ipv6/conf/slice0/disable_ipv6', '1');
      const pod = Netlink.open(path(POD));
      const index = linkIndexOf(pod.call(getLink('slice0'))[0]!);
      pod.call(newAddr4(index, '10.91.0.7', 16));
      pod.call(setLinkUp(index));
      pod.close();
      t.is(readlinkSync('/proc/thread-self/ns/net'), before, 'setns happened in helper threads only');

      const host = await link(NODE, HOST);
      t.like(host, { address: '0a:59:0a:5b:00:07', mtu: 1420, master: 'br0' });
      t.true(host!.flags.includes('UP'));
      const slice0 = await link(POD, 'slice0');
      t.like(slice0, { address: '0a:58:0a:5b:00:07', mtu: 1420 });
      t.true(slice0!.flags.includes('UP'));
      t.deepEqual(
        slice0!.addr_info!.map((a) => `${a.family} ${a.local}/${a.prefixlen}`),
        ['inet 10.91.0.7/16'],
        'IPv4 only: no IPv6 link-local address, since disable_ipv6 was set before up',
      );
      const sysctl = await runRaw(['cat', '/proc/sys/net/ipv6/conf/slice0/disable_ipv6'], { netns: POD });
      t.is(sysctl.stdout.trim(), '1');
      t.is(await link(NODE, 'slice0'), undefined, 'the peer was made in the pod namespace, not the node one');

      node.call(delLink(HOST));
      t.is(await link(NODE, HOST), undefined);
      t.is(await link(POD, 'slice0'), undefined, 'deleting one end deletes both');
    } finally {
      cleanUp(node);
      node.close();
    }
  },
);

root(
  'kernel refusals arrive as errno Errors: a pair that exists, a link that does not, a missing namespace or file',
  (t) => {
    const node = Netlink.open(path(NODE));
    try {
      attach(node);
      refused(t, () => attach(node), { code: 'EEXIST', message: /^netlink: .*File exists/ });
      node.call(delLink(HOST));
      refused(t, () => node.call(delLink(HOST)), { code: 'ENODEV', message: /No such device/ });
      refused(t, () => node.call(getLink('nosuch0')), { code: 'ENODEV', message: /No such device/ });
    } finally {
      cleanUp(node);
      node.close();
    }
    refused(t, () => Netlink.open('/run/netns/sn-nl-missing'), {
      code: 'ENOENT',
      message: /^open the namespace \(\/run\/netns\/sn-nl-missing\)/,
    });
    refused(t, () => writeFileInNetns(path(POD), '/proc/sys/net/ipv6/conf/nosuch0/disable_ipv6', '1'), {
      code: 'ENOENT',
      message: /^open \(\/run\/netns\/sn-nl-pod-\w+, \/proc\/sys\/net\/ipv6\/conf\/nosuch0\/disable_ipv6\)/,
    });
  },
);

root('malformed requests are refused before the send; a closed socket refuses calls', (t) => {
  const node = Netlink.open(path(NODE));
  const short = delLink('x').subarray(0, 20);
  refused(t, () => node.call(Buffer.from(short)), {
    name: 'RangeError',
    message: /the message at byte 0 claims 40 bytes of the 20 left/,
  });
  const noAck = delLink('x');
  noAck.writeUInt16LE(0x1, 6);
  refused(t, () => node.call(noAck), {
    name: 'RangeError',
    message: /set NLM_F_ACK or NLM_F_DUMP on the last message/,
  });
  refused(t, () => node.call(Buffer.alloc(8)), {
    name: 'RangeError',
    message: /the message at byte 0 claims 0 bytes of the 8 left/,
  });
  node.close();
  refused(t, () => node.call(delLink('x')), { message: /the socket is closed/ });
  node.close();
});

root(
  'deleting links on a worker: the loop keeps turning while the kernel waits, calls take turns, errors reject',
  async (t) => {
    const node = Netlink.open(path(NODE));
    const names = Array.from({ length: 6 }, (_, i) => `snva${id}${i}`);
    try {
      for (const name of names)
        await run(['ip', '-n', NODE, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`]);
      // Each deletion waits for an RCU grace period inside the send; timers fire meanwhile.
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      const started = performance.now();
      const pending = names.map((name) => node.callAsync(delLink(name)));
      refused(t, () => node.call(getLink('br0')), { message: /asynchronous call is in flight/ });
      await Promise.all(pending);
      const ms = performance.now() - started;
      clearInterval(timer);
      t.log(`${names.length} deletions: ${ms.toFixed(1)} ms, ${ticks} timer ticks meanwhile`);
      t.true(ticks > 0, 'the loop ran timers while the deletions were in the kernel');
      for (const name of names) t.is(await link(NODE, name), undefined);
      const err = await node.callAsync(delLink(names[0]!)).then(
        () => undefined,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      t.like(err, { code: 'ENODEV' });
      t.regex(err!.message, /^netlink: .*No such device/);
      t.is(
        linkIndexOf(node.call(getLink('br0'))[0]!) > 0,
        true,
        'sync calls work again once none is in flight',
      );
      refused(t, () => node.callAsync(Buffer.alloc(8)), { name: 'RangeError', message: /claims 0 bytes/ });
      refused(t, () => loadNative().netlinkCallAsync(-1, delLink('x')), { code: 'EBADF', message: /^fd/ });
    } finally {
      for (const name of names) await runRaw(['ip', '-n', NODE, 'link', 'del', name]);
      node.close();
    }
  },
);

/** The elements of a set as `nft -j` renders them. */
async function elements(set: string): Promise<unknown[]> {
  const r = await runRaw(['nft', '-j', 'list', 'set', 'bridge', 't', set], { netns: NODE });
  const out = JSON.parse(r.stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
  return out.nftables.find((o) => o.set)?.set?.elem ?? [];
}

root(
  'nftables set elements by nfnetlink batch: as nft sees them, all or nothing, errors as errno',
  async (t) => {
    await run(['nft', '-f', '-'], {
      netns: NODE,
      input:
        'table bridge t {\n set ports { type ifname; }\n set allowed { type ifname . ether_addr . ipv4_addr; }\n}\n',
    });
    const nf = Netlink.open(path(NODE), NETLINK.NETFILTER);
    const at = { family: NFPROTO.BRIDGE, table: 't' };
    const port = (op: 'add' | 'delete', name: string): SetElementChange => ({
      ...at,
      op,
      set: 'ports',
      key: [key.ifname(name)],
    });
    const allowed = (op: 'add' | 'delete'): SetElementChange => ({
      ...at,
      op,
      set: 'allowed',
      key: [key.ifname('snv1'), key.etherAddr('0a:58:0a:5b:00:07'), key.ipv4Addr('10.91.0.7')],
    });
    try {
      nf.call(setElementBatch([port('add', 'snv1'), allowed('add')]));
      t.deepEqual(await elements('ports'), ['snv1']);
      t.deepEqual(await elements('allowed'), [{ concat: ['snv1', '0a:58:0a:5b:00:07', '10.91.0.7'] }]);
      nf.call(setElementBatch([port('add', 'snv1')]));
      t.deepEqual(await elements('ports'), ['snv1'], 'adding an element that exists changes nothing');

      refused(t, () => nf.call(setElementBatch([port('add', 'snv2'), port('delete', 'snv3')])), {
        code: 'ENOENT',
        message: /^netlink: /,
      });
      t.deepEqual(
        await elements('ports'),
        ['snv1'],
        'a failed batch applied nothing, not even its first change',
      );
      refused(t, () => nf.call(setElementBatch([{ ...port('add', 'x'), table: 'nosuch' }])), {
        code: 'ENOENT',
        message: /^netlink/,
      });
      refused(t, () => nf.call(setElementBatch([{ ...allowed('add'), key: [key.ifname('x')] }])), {
        code: 'EINVAL',
        message: /^netlink/,
      });

      nf.call(
        setElementBatch([port('add', 'snv1'), port('delete', 'snv1'), allowed('add'), allowed('delete')]),
      );
      t.deepEqual(await elements('ports'), [], 'add-then-delete removes an element in one batch');
      t.deepEqual(await elements('allowed'), []);
      nf.call(setElementBatch([port('add', 'snv1'), port('delete', 'snv1')]));
      t.deepEqual(await elements('ports'), [], 'and succeeds when it is gone already');
    } finally {
      nf.close();
      await runRaw(['nft', 'delete', 'table', 'bridge', 't'], { netns: NODE });
    }
  },
);

root('the addon checks requests itself, behind the wrapper: framing, the ack, the protocol', (t) => {
  const native = loadNative();
  const fd = native.netlinkOpen(path(NODE), NETLINK.ROUTE);
  try {
    const twoThenCut = Buffer.concat([delLink('x'), delLink('y').subarray(0, 24)]);
    refused(t, () => native.netlinkCall(fd, twoThenCut), {
      name: 'RangeError',
      message: /the message at byte 40 claims 40 bytes of the 24 left/,
    });
    const noAckLast = Buffer.concat([delLink('x'), delLink('y')]);
    noAckLast.writeUInt16LE(0x1, 40 + 6);
    refused(t, () => native.netlinkCall(fd, noAckLast), {
      name: 'RangeError',
      message: /set NLM_F_ACK or NLM_F_DUMP on the last message/,
    });
    refused(t, () => native.netlinkCall(fd, Buffer.alloc(0)), {
      name: 'RangeError',
      message: /request: empty/,
    });
  } finally {
    closeSync(fd);
  }
  refused(t, () => native.netlinkOpen(path(NODE), 16), {
    name: 'RangeError',
    message: /protocol must be NETLINK_ROUTE \(0\) or NETLINK_NETFILTER \(12\), not 16/,
  });
});
