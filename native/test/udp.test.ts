// UDP socket, sendmmsg/GSO and recvmmsg/GRO, in a namespace of its own (helpers/udp-scenario.ts
// does the I/O on that namespace's loopback and reports; this file judges). Needs root.
import test from 'ava';
import { canNetns, inNetns } from './helpers/netns.ts';

type Thrown = { name: string; code?: string; message: string } | null;
interface Report {
  features: { aGso: boolean; aGro: boolean; bGro: boolean; cGro: boolean };
  run: {
    next: number;
    sendCalls: number;
    received: number;
    intact: boolean;
    from: string[];
    expectedFrom: string;
    counters: { wakeups: number; items: number };
  };
  mixed: { next: number; sendCalls: number; toB: boolean; toC: boolean };
  truncated: { received: number[]; counters: { truncated: number } };
  boundary: Record<string, Thrown> & { stillWorks: number };
  closed: Record<string, Thrown>;
}

const maybe = canNetns ? test : test.skip;
let report: Report;
test.before(async () => {
  if (canNetns) report = await inNetns<Report>('./udp-scenario.ts');
});

maybe('GSO and GRO are detected on this kernel and can be turned off', (t) => {
  // Kernel 6.18 has both; gro: false must leave it off.
  t.deepEqual(report.features, { aGso: true, aGro: true, bGro: true, cGro: false });
});

maybe('301 datagrams to one peer: one sendmmsg, all received intact with their source', (t) => {
  t.is(report.run.next, 301);
  t.is(report.run.sendCalls, 1);
  t.is(report.run.received, 301);
  t.true(report.run.intact);
  t.deepEqual(report.run.from, [report.run.expectedFrom]);
  t.is(report.run.counters.items, 301);
  t.true(report.run.counters.wakeups < 10, `${report.run.counters.wakeups} wake-ups`);
});

maybe('interleaved peers, sizes and an empty datagram: each peer gets exactly its own, in order', (t) => {
  t.is(report.mixed.next, 100);
  t.true(report.mixed.toB);
  t.true(report.mixed.toC);
  t.true(report.mixed.sendCalls <= 2);
});

maybe('a datagram longer than the slot is dropped and counted; the next still arrives', (t) => {
  t.deepEqual(report.truncated.received, [100]);
  t.is(report.truncated.counters.truncated, 1);
});

maybe('malformed arguments throw a clear error; the socket keeps working', (t) => {
  const b = report.boundary;
  t.like(b.badAddress, {
    name: 'TypeError',
    message: 'address must be a dotted IPv4 address, got "300.1.1.1"',
  });
  t.like(b.ipv6Address, { name: 'TypeError' });
  t.like(b.badPort, { name: 'RangeError', message: 'port must be in [0, 65535], got 70000' });
  t.like(b.portInUse, { code: 'EADDRINUSE' });
  t.like(b.notLocal, { code: 'EADDRNOTAVAIL' });
  t.like(b.pastBuffer, { name: 'RangeError' });
  t.like(b.tooLong, {
    name: 'RangeError',
    message: 'sendBatch: item 0 is 65508 bytes, more than the limit of 65507',
  });
  t.like(b.shortPorts, { name: 'RangeError' });
  t.like(b.endPastArrays, { name: 'RangeError' });
  t.like(b.wrongArrayType, { name: 'TypeError', message: 'addrs must be a Uint32Array' });
  t.like(b.badMaxBatch, { name: 'RangeError' });
  t.like(b.tinySlot, { name: 'RangeError' });
  t.is(b.stillWorks, 1);
});

maybe('a closed socket refuses sends (EBADF), its reader cannot restart, close is idempotent', (t) => {
  t.like(report.closed.send, { code: 'EBADF' });
  t.like(report.closed.start, { code: 'ERR_READER_CLOSED' });
  t.is(report.closed.closeTwice, null);
});
