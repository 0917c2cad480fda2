// Two gateways over a lossy, duplicating, reordering in-memory network for 20 simulated
// minutes: ten rekeys, and not one transport message lost to a key change or reordering.
import test from 'ava';
import { pair } from './harness.ts';

function frame(seq: number): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt32LE(seq, 0);
  return b;
}

function seqs(delivered: { frame: Buffer }[]): number[] {
  return delivered.map((d) => d.frame.readUInt32LE(0));
}

function traffic(lossy: boolean, minutes: number) {
  const p = pair({
    handshakeLoss: 0.2,
    transportLoss: lossy ? 0.05 : 0,
    duplicate: 0.02,
    maxDelay: 40,
    seed: lossy ? 7 : 3,
  });
  const { net, a, b, aToB, bToA, clock } = p;
  net.handle(a, a.device.send(aToB, frame(0)));
  net.run(clock.t + 30_000);
  let sentA = 1;
  let sentB = 0;
  const end = clock.t + minutes * 60_000;
  while (clock.t < end) {
    for (let i = 0; i < 4; i++) net.handle(a, a.device.send(aToB, frame(sentA++)));
    for (let i = 0; i < 2; i++) net.handle(b, b.device.send(bToA, frame(sentB++)));
    net.run(clock.t + 250);
  }
  net.run(clock.t + 1000);
  return { ...p, sentA, sentB };
}

test('many rekeys under handshake loss, duplication and reordering lose no transport message', (t) => {
  const { a, b, sentA, sentB } = traffic(false, 20);
  const atB = seqs(b.delivered);
  const atA = seqs(a.delivered);
  t.is(atB.length, sentA, 'every frame A sent was delivered once');
  t.is(new Set(atB).size, sentA);
  t.is(atA.length, sentB, 'every frame B sent was delivered once');
  t.is(new Set(atA).size, sentB);
  const installs = a.actions.filter((x) => x.type === 'install-keys').length;
  t.true(installs >= 10, `A installed ${installs} sessions`);
  t.false(a.actions.some((x) => x.type === 'handshake-failed'));
  const drops = [...a.actions, ...b.actions].flatMap((x) => (x.type === 'drop' ? [x.reason] : []));
  t.deepEqual(
    [...new Set(drops)].filter((r) => !['replay', 'stale_timestamp', 'unexpected'].includes(r)),
    [],
    'only duplicates are dropped',
  );
});

test('with transport loss, every data datagram the network delivers is delivered once', (t) => {
  const { a, b, net } = traffic(true, 8);
  const { first, repeat, outcomes } = net.dataArrivals;
  t.true(net.stats.lost > 100, `the network lost ${net.stats.lost} datagrams`);
  t.true(repeat > 0);
  t.deepEqual(Object.fromEntries(outcomes), { deliver: first, replay: repeat });
  t.is(a.delivered.length + b.delivered.length, first);
  t.is(new Set(seqs(b.delivered)).size, b.delivered.length, 'no frame delivered twice');
});
