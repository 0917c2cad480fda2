import test from 'ava';
import { ArpTable, arpReply } from '../arp.ts';
import { Forwarder, LOCAL, type TapDecision } from '../forwarder.ts';
import { macAt, parseMac, writeMac } from '../mac.ts';

const BROADCAST = 'ff:ff:ff:ff:ff:ff';

function frame(dst: string, src: string, type = 0x0800, payload = 46): Buffer {
  const f = Buffer.alloc(14 + payload);
  writeMac(f, 0, parseMac(dst));
  writeMac(f, 6, parseMac(src));
  f.writeUInt16BE(type, 12);
  return f;
}

function arpRequest(src: string, spa: string, tpa: string): Buffer {
  const f = frame(BROADCAST, src, 0x0806, 28);
  f.writeUInt16BE(1, 14); // Ethernet
  f.writeUInt16BE(0x0800, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(1, 20); // request
  writeMac(f, 22, parseMac(src));
  Buffer.from(spa.split('.').map(Number)).copy(f, 28);
  Buffer.from(tpa.split('.').map(Number)).copy(f, 38);
  return f;
}

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const C = '02:00:00:00:00:0c';
const tap = (fw: Forwarder, f: Buffer, now = 0) => ({ ...fw.fromTap(f, 0, f.length, now) });

test('broadcast, multicast and unknown unicast from the TAP flood to the peers', (t) => {
  const fw = new Forwarder();
  t.deepEqual(tap(fw, frame(BROADCAST, A)), { kind: 'flood' });
  t.deepEqual(tap(fw, frame('01:00:5e:00:00:01', A)), { kind: 'flood' });
  t.deepEqual(tap(fw, frame(B, A)), { kind: 'flood' });
});

test('a MAC learned behind a peer gets unicast to that peer only; a local one to nobody', (t) => {
  const fw = new Forwarder();
  const fromP = frame(A, B);
  t.true(fw.fromPeer('peer-1', fromP, 0, fromP.length, 0));
  t.deepEqual(tap(fw, frame(B, A)), { kind: 'peer', peer: 'peer-1' });
  t.is(fw.lookup(parseMac(A), 0), LOCAL, 'the TAP-side source was learned as local');
  t.deepEqual(tap(fw, frame(A, C)), { kind: 'drop', reason: 'local' });
});

test('a MAC that moves between a peer and the local side follows the last frame', (t) => {
  const fw = new Forwarder();
  const f = frame(BROADCAST, B);
  fw.fromPeer('peer-1', f, 0, f.length, 0);
  tap(fw, f, 1);
  t.is(fw.lookup(parseMac(B), 1), LOCAL);
  fw.fromPeer('peer-2', f, 0, f.length, 2);
  t.is(fw.lookup(parseMac(B), 2), 'peer-2');
});

test('learned MACs age out, can be forgotten per peer, and the table is bounded', (t) => {
  const fw = new Forwarder({ ageMs: 1000, maxEntries: 2 });
  const f = (src: string): Buffer => frame(BROADCAST, src);
  fw.fromPeer('p', f(A), 0, 60, 0);
  fw.fromPeer('q', f(B), 0, 60, 0);
  fw.fromPeer('q', f(C), 0, 60, 0);
  t.is(fw.size, 2);
  t.is(fw.tableFull, 1, 'C was not learned');
  t.deepEqual(tap(fw, frame(C, '02:00:00:00:00:0d'), 10), { kind: 'flood' });
  fw.forgetPeer('q');
  t.is(fw.lookup(parseMac(B), 10), undefined);
  t.is(fw.lookup(parseMac(A), 999), 'p');
  t.is(fw.lookup(parseMac(A), 1000), undefined, 'aged out');
  fw.fromPeer('p', f(A), 0, 60, 2000);
  fw.sweep(3000);
  t.is(fw.size, 0);
});

test('runts are dropped and group source addresses are never learned', (t) => {
  const fw = new Forwarder();
  t.deepEqual(tap(fw, Buffer.alloc(13)), { kind: 'drop', reason: 'runt' });
  t.false(fw.fromPeer('p', Buffer.alloc(13), 0, 13, 0));
  const f = frame(A, '03:00:00:00:00:01');
  fw.fromPeer('p', f, 0, f.length, 0);
  t.is(fw.size, 0);
});

test('frames at an offset inside a batch buffer are read in place', (t) => {
  const fw = new Forwarder();
  const f = frame(A, B);
  const buf = Buffer.concat([Buffer.alloc(7), f]);
  fw.fromPeer('p', buf, 7, f.length, 0);
  t.is(macAt(buf, 7 + 6), parseMac(B));
  t.is(fw.lookup(parseMac(B), 0), 'p');
});

const arp = new ArpTable([
  { ip: '10.0.0.2', mac: B },
  { ip: '10.0.0.3', mac: C },
]);

test('ARP for a known slice address behind a peer is answered locally with its MAC', (t) => {
  const fw = new Forwarder({ arp });
  const fromPeer = frame(BROADCAST, B);
  fw.fromPeer('p', fromPeer, 0, fromPeer.length, 0);
  const req = arpRequest(A, '10.0.0.1', '10.0.0.2');
  const d = fw.fromTap(req, 0, req.length, 0);
  if (d.kind !== 'reply') return t.fail(`decision ${d.kind}`);
  const r = d.frame;
  t.is(r.length, 42);
  t.is(macAt(r, 0), parseMac(A), 'to the requester');
  t.is(macAt(r, 6), parseMac(B), 'from the owner');
  t.is(r.readUInt16BE(12), 0x0806);
  t.is(r.readUInt16BE(20), 2, 'a reply');
  t.is(macAt(r, 22), parseMac(B), 'sender hardware address');
  t.deepEqual([...r.subarray(28, 32)], [10, 0, 0, 2], 'sender protocol address');
  t.is(macAt(r, 32), parseMac(A), 'target hardware address');
  t.deepEqual([...r.subarray(38, 42)], [10, 0, 0, 1], 'target protocol address');
  t.deepEqual(arpReply(req, 0, parseMac(B)), r);
});

test('ARP the table cannot or must not answer floods, or stays local', (t) => {
  const fw = new Forwarder({ arp });
  const cases: [string, Buffer, TapDecision['kind']][] = [
    ['an unknown address', arpRequest(A, '10.0.0.1', '10.0.0.9'), 'flood'],
    ['a probe (sender 0.0.0.0)', arpRequest(A, '0.0.0.0', '10.0.0.2'), 'flood'],
    ['gratuitous ARP', arpRequest(B, '10.0.0.2', '10.0.0.2'), 'flood'],
    ['a host asking for its own address', arpRequest(C, '10.0.0.1', '10.0.0.3'), 'flood'],
    ['a truncated request', arpRequest(A, '10.0.0.1', '10.0.0.2').subarray(0, 41), 'flood'],
  ];
  for (const [name, f, kind] of cases) t.is(fw.fromTap(f, 0, f.length, 0).kind, kind, name);
  const local = frame(BROADCAST, B);
  fw.fromTap(local, 0, local.length, 0);
  const req = arpRequest(A, '10.0.0.1', '10.0.0.2');
  t.deepEqual(
    { ...fw.fromTap(req, 0, req.length, 0) },
    { kind: 'drop', reason: 'local' },
    'the owner answers itself',
  );
});

test('a mirror is told of every new or moved MAC and every forgotten one, and holds off aging while it saw the MAC', (t) => {
  const calls: string[] = [];
  const seenElsewhere = new Map<number, number>();
  const fwd = new Forwarder({ ageMs: 1000 });
  fwd.fromPeer('p1', frame(BROADCAST, A), 0, 60, 0); // learned before the mirror: copied on attach
  fwd.setMirror({
    set: (mac, port) => calls.push(`set ${mac} ${port}`),
    delete: (mac) => calls.push(`delete ${mac}`),
    seen: (mac) => seenElsewhere.get(mac),
  });
  const a = macAt(frame(A, A), 0);
  const b = macAt(frame(B, B), 0);
  fwd.fromTap(frame(A, B), 0, 60, 10); // B learned local; A looked up
  fwd.fromTap(frame(A, B), 0, 60, 20); // nothing new: no call
  fwd.fromPeer('p2', frame(BROADCAST, A), 0, 60, 30); // A moved
  t.deepEqual(calls, [`set ${a} p1`, `set ${b} ${LOCAL}`, `set ${a} p2`]);
  calls.length = 0;
  // At 1100 both are a second old here; the mirror's owner forwarded B's frames at 900.
  seenElsewhere.set(b, 900);
  fwd.sweep(1100);
  t.deepEqual(calls, [`delete ${a}`], 'A aged out; B kept');
  t.is(fwd.lookup(b, 1100), LOCAL);
  t.is(fwd.lookup(b, 1950), undefined, 'B ages from when the mirror saw it');
  t.deepEqual(calls, [`delete ${a}`, `delete ${b}`]);
  fwd.fromPeer('p1', frame(BROADCAST, A), 0, 60, 2000);
  fwd.forgetPeer('p1');
  t.deepEqual(calls.slice(2), [`set ${a} p1`, `delete ${a}`]);
});
