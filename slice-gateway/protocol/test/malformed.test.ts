// One crafted datagram per drop reason: each must be refused with exactly that reason, and
// every reason the protocol defines must have a row here and a line in the README.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { DROP_REASONS, type DropReason } from '../drop-reason.ts';
import { CookieGenerator } from '../cookie.ts';
import { buildCookieReply, buildInitiation, buildResponse } from '../wire.ts';
import type { Action } from '../actions.ts';
import { dropReasons, established, type Pair } from './harness.ts';

type Fixture = Pair & { initiation: Buffer; response: Buffer; data: Buffer };

const flip = (b: Buffer, at: number): Buffer => {
  const c = Buffer.from(b);
  c[at] = (c[at] ?? 0) ^ 1;
  return c;
};
const withMacs = (f: Fixture, msg: Buffer): Buffer => {
  new CookieGenerator(f.b.device.publicKey, f.clock).addMacs(msg);
  return msg;
};
const toB = (f: Fixture, d: Buffer): Action[] => f.b.device.receive(d, f.a.endpoint);
/** A transport datagram A sealed that B has not seen yet. */
const fresh = (f: Fixture): Buffer =>
  sends(f.a.device.send(f.aToB, Buffer.from('fresh')))[0] ?? Buffer.alloc(0);
const sends = (actions: Action[]): Buffer[] =>
  actions.flatMap((a) => (a.type === 'send' ? [a.datagram] : []));

const rows: [DropReason, string, (f: Fixture) => Action[]][] = [
  ['short', 'three bytes', (f) => toB(f, Buffer.from([4, 0, 0]))],
  ['short', 'a transport header without a tag', (f) => toB(f, f.data.subarray(0, 31))],
  ['short', 'a truncated initiation', (f) => toB(f, f.initiation.subarray(0, 147))],
  [
    'bad_length',
    'an initiation with a byte appended',
    (f) => toB(f, Buffer.concat([f.initiation, Buffer.alloc(1)])),
  ],
  ['unknown_type', 'type 5', (f) => toB(f, Buffer.from([5, 0, 0, 0, ...Buffer.alloc(60)]))],
  ['unknown_type', 'type 0', (f) => toB(f, Buffer.alloc(64))],
  ['unknown_type', 'a reserved byte set', (f) => toB(f, flip(f.initiation, 2))],
  ['bad_mac1', 'an initiation with mac1 flipped', (f) => toB(f, flip(f.initiation, 120))],
  ['bad_mac1', 'an initiation for another responder', (f) => toB(f, flip(f.initiation, 50))],
  ['unknown_index', 'transport to an unknown index', (f) => toB(f, flip(f.data, 5))],
  [
    'unknown_index',
    'a response to an unknown index',
    (f) => toB(f, withMacs(f, buildResponse(1, 0xdeadbeef, Buffer.alloc(48, 9)))),
  ],
  [
    'unknown_index',
    'a cookie reply to an unknown index',
    (f) => toB(f, buildCookieReply(0xdeadbeef, Buffer.alloc(24), Buffer.alloc(32))),
  ],
  [
    'unknown_peer',
    'an initiation from a stranger',
    (f) => {
      const stranger = f.net.node('203.0.113.9', 1);
      const id = stranger.device.addPeer(f.b.device.publicKey, f.b.endpoint);
      const [init] = sends(stranger.device.send(id, Buffer.from('x')));
      return f.b.device.receive(init ?? Buffer.alloc(0), stranger.endpoint);
    },
  ],
  ['decrypt_failed', 'transport with a flipped ciphertext byte', (f) => toB(f, flip(fresh(f), 20))],
  [
    'decrypt_failed',
    'an initiation with a garbage static key',
    (f) =>
      toB(
        f,
        withMacs(f, buildInitiation(1, Buffer.concat([f.initiation.subarray(8, 40), Buffer.alloc(76, 7)]))),
      ),
  ],
  [
    'decrypt_failed',
    'a forged cookie reply for a live session',
    (f) => {
      const index = f.initiation.readUInt32LE(4);
      return f.a.device.receive(buildCookieReply(index, Buffer.alloc(24), Buffer.alloc(32)), f.b.endpoint);
    },
  ],
  [
    'bad_key',
    'an initiation with a zero ephemeral',
    (f) => toB(f, withMacs(f, buildInitiation(1, Buffer.alloc(108)))),
  ],
  [
    'stale_timestamp',
    'a replayed initiation',
    (f) => {
      f.clock.t += 1000;
      return toB(f, f.initiation);
    },
  ],
  [
    'too_soon',
    'two initiations within 20 ms',
    (f) => {
      const peer = f.a.device.peer(f.aToB);
      if (!peer) return [];
      f.clock.t += 1000;
      const first: Action[] = [];
      const second: Action[] = [];
      f.a.device.initiate(peer, first, true);
      f.a.device.initiate(peer, second, true);
      toB(f, sends(first)[0] ?? Buffer.alloc(0));
      return toB(f, sends(second)[0] ?? Buffer.alloc(0));
    },
  ],
  ['unexpected', 'a response delivered twice', (f) => f.a.device.receive(f.response, f.b.endpoint)],
  ['replay', 'a transport datagram delivered twice', (f) => toB(f, f.data)],
  [
    'counter_limit',
    'a counter at 2^64 - 1',
    (f) => {
      const d = Buffer.from(f.data);
      d.writeBigUInt64LE((1n << 64n) - 1n, 8);
      return toB(f, d);
    },
  ],
  [
    'expired',
    'a session older than 180 s',
    (f) => {
      const [d] = sends(f.a.device.send(f.aToB, Buffer.from('late')));
      f.clock.t += 181_000;
      return toB(f, d ?? Buffer.alloc(0));
    },
  ],
];

for (const [reason, name, make] of rows) {
  test(`${reason}: ${name}`, (t) => {
    const f = established();
    const actions = make(f);
    t.deepEqual(dropReasons(actions), [reason]);
    t.false(actions.some((a) => a.type === 'deliver'));
  });
}

test('bad_mac2_needed and rate_limited: under load, a cookie first, then the token bucket', (t) => {
  const f = established();
  // A second gateway C that B knows, arriving while B is under load (threshold 0).
  const b = f.net.node('198.51.100.2', 51820, { threshold: 0, burst: 1 });
  const c = f.net.node('203.0.113.7', 4000);
  const cToB = c.device.addPeer(b.device.publicKey, b.endpoint);
  b.device.addPeer(c.device.publicKey);
  const peer = c.device.peer(cToB);
  if (!peer) return t.fail();
  const initiate = (): Buffer => {
    const out: Action[] = [];
    c.device.initiate(peer, out, true);
    return sends(out)[0] ?? Buffer.alloc(0);
  };
  const first = b.device.receive(initiate(), c.endpoint);
  t.deepEqual(dropReasons(first), ['bad_mac2_needed']);
  const reply = sends(first)[0];
  t.is(reply?.[0], 3, 'a cookie reply went back');
  t.deepEqual(dropReasons(c.device.receive(reply ?? Buffer.alloc(0), b.endpoint)), []);
  f.clock.t += 1000;
  t.deepEqual(dropReasons(b.device.receive(initiate(), c.endpoint)), [], 'with mac2 it passes');
  t.deepEqual(dropReasons(b.device.receive(initiate(), c.endpoint)), ['rate_limited']);
});

test('every drop reason has a row above and a line in the README', (t) => {
  const covered = new Set<string>([...rows.map(([r]) => r), 'bad_mac2_needed', 'rate_limited']);
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const reason of Object.keys(DROP_REASONS)) {
    t.true(covered.has(reason), `${reason} has a crafted datagram`);
    t.true(readme.includes(`\`${reason}\``), `${reason} is in the README`);
  }
});
