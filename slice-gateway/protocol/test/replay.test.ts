// The replay window, one row per case: in order, duplicates, window edges, old, far future.
import test from 'ava';
import { ReplayWindow, REPLAY_WINDOW } from '../replay.ts';
import { REJECT_AFTER_MESSAGES } from '../constants.ts';

const W = BigInt(REPLAY_WINDOW);

const cases: { name: string; feed: bigint[]; probe: bigint; accepted: boolean }[] = [
  { name: 'the first counter, zero', feed: [], probe: 0n, accepted: true },
  { name: 'a duplicate of zero', feed: [0n], probe: 0n, accepted: false },
  { name: 'the next counter', feed: [0n, 1n], probe: 2n, accepted: true },
  { name: 'a duplicate in the middle', feed: [0n, 1n, 2n, 3n], probe: 2n, accepted: false },
  { name: 'a late packet inside the window', feed: [0n, 5n], probe: 3n, accepted: true },
  { name: 'a gap filled in reverse order', feed: [10n, 9n, 8n], probe: 7n, accepted: true },
  { name: 'exactly the window behind the greatest', feed: [W + 100n], probe: 100n, accepted: true },
  { name: 'one past the window behind', feed: [W + 100n], probe: 99n, accepted: false },
  { name: 'the greatest counter again', feed: [W + 100n], probe: W + 100n, accepted: false },
  { name: 'far future jump', feed: [1n], probe: 1n << 40n, accepted: true },
  { name: 'old after a far future jump', feed: [1n, 1n << 40n], probe: 2n, accepted: false },
  {
    name: 'bits cleared after a jump of more than the ring',
    feed: [0n, 5000n, 10_000n],
    probe: 9000n,
    accepted: true,
  },
  { name: 'block boundary 31/32', feed: [31n], probe: 32n, accepted: true },
  { name: 'duplicate at bit 31', feed: [31n, 32n], probe: 31n, accepted: false },
  { name: 'the reject-after-messages limit', feed: [], probe: REJECT_AFTER_MESSAGES, accepted: false },
  { name: 'just below the limit', feed: [], probe: REJECT_AFTER_MESSAGES - 1n, accepted: true },
  { name: 'the greatest u64', feed: [], probe: (1n << 64n) - 1n, accepted: false },
];

for (const c of cases) {
  test(c.name, (t) => {
    const w = new ReplayWindow();
    for (const n of c.feed) t.true(w.accept(n), `feeding ${n}`);
    t.is(w.mayAccept(c.probe), c.accepted);
    t.is(w.accept(c.probe), c.accepted);
  });
}

test('the window holds at least 2048 packets', (t) => {
  t.true(REPLAY_WINDOW >= 2048);
});

test('a shuffled run of 10000 counters with duplicates accepts each exactly once', (t) => {
  const w = new ReplayWindow();
  const seen = new Set<bigint>();
  let accepted = 0;
  for (let base = 0; base < 10_000; base += 1000) {
    const block = Array.from({ length: 1000 }, (_, i) => BigInt(base + i));
    block.push(...block.slice(0, 100));
    block.sort(() => Math.random() - 0.5);
    for (const n of block) {
      const ok = w.accept(n);
      t.is(ok, !seen.has(n));
      if (ok) accepted++;
      seen.add(n);
    }
  }
  t.is(accepted, 10_000);
});
