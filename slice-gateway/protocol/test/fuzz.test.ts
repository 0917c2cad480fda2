// 100 000 hostile datagrams at an established gateway: truncated, bit-flipped, spliced and
// random ones, from valid captures of every type. None may throw, none may deliver a frame,
// the only datagrams sent back may be cookie replies, and the session must carry on as if
// nothing happened.
import test from 'ava';
import { CookieGenerator } from '../cookie.ts';
import { buildInitiation } from '../wire.ts';
import { established, prng } from './harness.ts';

const COUNT = 100_000;

test('fuzzed datagrams never throw and never disturb the session', (t) => {
  const f = established();
  const r = prng(42);
  const int = (n: number): number => Math.floor(r() * n);
  // A valid-mac1 initiation with garbage inside costs a DH: include some of those too.
  const forged = buildInitiation(7, Buffer.alloc(108, 3));
  new CookieGenerator(f.b.device.publicKey, f.clock).addMacs(forged);
  const seeds = [f.initiation, f.response, f.data, forged, ...f.net.captured.filter((d) => d[0] === 3)];
  const kinds = new Map<string, number>();
  const before = f.b.delivered.length;
  let threw = 0;
  const receive = (d: Buffer, from: { address: string; port: number }) => {
    try {
      return f.b.device.receive(d, from);
    } catch {
      threw++;
      return [];
    }
  };

  for (let i = 0; i < COUNT; i++) {
    const seed = seeds[int(seeds.length)] ?? f.data;
    let d: Buffer;
    switch (int(4)) {
      case 0:
        d = seed.subarray(0, int(seed.length));
        break;
      case 1: {
        d = Buffer.from(seed);
        for (let k = 1 + int(3); k > 0; k--) {
          const at = int(d.length);
          d[at] = (d[at] ?? 0) ^ (1 << int(8));
        }
        if (d.equals(seed)) d[0] = (d[0] ?? 0) ^ 0x80;
        break;
      }
      case 2:
        d = Buffer.concat([
          seed.subarray(0, 4),
          Buffer.from(Array.from({ length: int(200) }, () => int(256))),
        ]);
        break;
      default:
        d = Buffer.from(Array.from({ length: int(1600) }, () => int(256)));
    }
    f.clock.t += 0.05;
    const from = { address: `203.0.113.${int(250)}`, port: 1 + int(65000) };
    const actions = receive(d, from);
    for (const a of actions) {
      if (a.type === 'deliver') t.fail('a fuzzed datagram delivered a frame');
      if (a.type === 'send' && a.datagram[0] !== 3)
        t.fail('a fuzzed datagram made B send something other than a cookie reply');
      if (a.type === 'drop') kinds.set(a.reason, (kinds.get(a.reason) ?? 0) + 1);
    }
  }
  t.is(threw, 0, 'no datagram made receive() throw');
  t.is(f.b.delivered.length, before);
  t.log(Object.fromEntries(kinds));
  t.true(kinds.size >= 6, 'many different drop reasons were exercised');

  // The session is intact in both directions.
  f.net.handle(f.a, f.a.device.send(f.aToB, Buffer.from('after a to b')));
  f.net.handle(f.b, f.b.device.send(f.bToA, Buffer.from('after b to a')));
  f.net.run(f.clock.t + 100);
  t.is(f.b.delivered.at(-1)?.frame.toString(), 'after a to b');
  t.is(f.a.delivered.at(-1)?.frame.toString(), 'after b to a');
  t.false(
    [...f.a.actions, ...f.b.actions].some((a) => a.type === 'peer-down' || a.type === 'handshake-failed'),
  );
});
