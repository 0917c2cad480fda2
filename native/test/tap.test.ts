// TAP device and batched frame I/O, in a namespace of its own (helpers/tap-scenario.ts does
// the I/O there and reports; this file judges). Needs root and /dev/net/tun.
import test from 'ava';
import { canNetns, inNetns } from './helpers/netns.ts';

type Thrown = { name: string; code?: string; message: string } | null;
interface Report {
  sent: number;
  read: { frames: number; inOrder: boolean; batches: number; largestBatch: number; errors: string[] };
  oversized: { next: number; dropped: number; errno: number };
  gso: { next: number; on: boolean; sendCalls: number; frames: number; intact: boolean };
  write: {
    next: number;
    count: number;
    dropped: number;
    errno: number;
    received: number;
    inOrder: boolean;
    from: string[];
  };
  boundary: Record<string, Thrown>;
  afterClose: Record<string, Thrown>;
  vnet: {
    vnetHdrLen: number;
    read: number;
    readInOrder: boolean;
    gsoTypes: number[];
    written: number;
    received: number;
  };
  offload: {
    next: number;
    gso: boolean;
    sendCalls: number;
    frames: number;
    hdr: { gsoType: number; gsoSize: number } | null;
    bytes: number;
  };
  deleted: { errors: string[]; counters: { errors: number; wakeups: number } };
}

const maybe = canNetns ? test : test.skip;
let report: Report;
test.before(async () => {
  if (canNetns) report = await inNetns<Report>('./tap-scenario.ts');
});

maybe('frames the kernel sends out of the TAP are read in batches, in order', (t) => {
  t.is(report.sent, 300);
  t.is(report.read.frames, 300);
  t.true(report.read.inOrder);
  t.deepEqual(report.read.errors, []);
  // 300 frames must not cost 300 wake-ups: that is the point of batching.
  t.true(report.read.batches < 30, `${report.read.batches} batches`);
  t.true(report.read.largestBatch > 1 && report.read.largestBatch <= 64);
});

maybe('frames written in one batch reach the kernel; a bad frame is dropped, not fatal', (t) => {
  t.is(report.write.next, report.write.count);
  t.is(report.write.dropped, 1); // the 5-byte frame
  t.is(report.write.errno, 22); // EINVAL
  t.is(report.write.received, 100);
  t.true(report.write.inOrder);
  t.deepEqual(report.write.from, ['192.0.2.2:7777']);
});

maybe('IFF_VNET_HDR: the header precedes each frame read and is added to each frame written', (t) => {
  t.is(report.vnet.vnetHdrLen, 10);
  t.is(report.vnet.read, 20);
  t.true(report.vnet.readInOrder);
  t.deepEqual(report.vnet.gsoTypes, [0]);
  t.is(report.vnet.written, 20);
  t.is(report.vnet.received, 20);
});

maybe('TUNSETOFFLOAD: with checksum and USO offload, a GSO send reaches the TAP as one super-frame', (t) => {
  t.is(report.offload.next, 16);
  t.true(report.offload.gso);
  t.is(report.offload.sendCalls, 1);
  t.is(report.offload.frames, 1);
  t.deepEqual(report.offload.hdr, { gsoType: 5, gsoSize: 1000 });
  t.is(report.offload.bytes, 16_000);
});

maybe('a datagram over the path MTU is dropped with EMSGSIZE, never fragmented', (t) => {
  t.deepEqual(report.oversized, { next: 2, dropped: 1, errno: 90 });
});

maybe('UDP GSO through a device without checksum offload still delivers every datagram', (t) => {
  t.is(report.gso.next, 10);
  t.is(report.gso.frames, 10);
  t.true(report.gso.intact);
});

maybe('malformed arguments throw a clear error before any I/O', (t) => {
  const b = report.boundary;
  t.like(b.oversizedFrame, {
    name: 'RangeError',
    message: 'writeFrames: item 0 is 65536 bytes, more than the limit of 65535',
  });
  t.like(b.pastBuffer, { name: 'RangeError' });
  t.regex(b.pastBuffer?.message ?? '', /runs past the end of its 60-byte buffer/);
  t.like(b.emptyName, { name: 'RangeError', message: 'name must not be empty' });
  t.like(b.longName, { name: 'RangeError', message: 'name is longer than 15 bytes' });
  t.like(b.notATap, { code: 'EINVAL' });
  t.like(b.offloadsWithoutHdr, { name: 'RangeError', message: 'offloads need vnetHdr' });
  t.like(b.unknownOffload, { name: 'RangeError' });
  t.like(b.badMaxBatch, { name: 'RangeError', message: 'maxBatch must be in [1, 1024]' });
});

maybe('after close, the fd is refused (EBADF) and the reader cannot restart', (t) => {
  t.like(report.afterClose.write, { code: 'EBADF' });
  t.like(report.afterClose.udpSend, { code: 'EBADF' });
  t.like(report.afterClose.start, { code: 'ERR_READER_CLOSED' });
});

maybe('a TAP deleted under a running reader stops it with one error, no spinning', (t) => {
  t.is(report.deleted.errors.length, 1);
  t.is(report.deleted.counters.errors, 1);
  t.true(report.deleted.counters.wakeups <= 2);
});
