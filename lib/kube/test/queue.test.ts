import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue } from '../queue.ts';
import { ControllerRateLimiter, ExponentialBackoff, TokenBucket } from '../ratelimit.ts';

test('a key waiting in the queue is queued once', async (t) => {
  const q = new WorkQueue();
  q.add('a');
  q.add('b');
  q.add('a');
  t.is(q.length, 2);
  t.is(await q.get(), 'a');
  t.is(await q.get(), 'b');
  t.is(q.length, 0);
});

test('a key re-added while processing is handed out again only after done', async (t) => {
  const q = new WorkQueue();
  q.add('a');
  const key = await q.get();
  t.is(key, 'a');
  q.add('a');
  q.add('a');
  t.is(q.length, 0, 'not available to a second worker while the first holds it');
  q.done('a');
  t.is(q.length, 1);
  t.is(await q.get(), 'a');
  q.done('a');
  t.is(q.length, 0);
});

test('get waits for an add, and an aborted get resolves to undefined', async (t) => {
  const q = new WorkQueue();
  const pending = q.get();
  q.add('x');
  t.is(await pending, 'x');

  const ac = new AbortController();
  const waiting = q.get(ac.signal);
  ac.abort();
  t.is(await waiting, undefined);
  q.add('y');
  t.is(await q.get(), 'y', 'the aborted waiter did not swallow the key');
});

test('addAfter delays the key, and the earliest of several delays wins', async (t) => {
  const q = new WorkQueue();
  q.addAfter('a', 300);
  q.addAfter('a', 20);
  q.addAfter('a', 500);
  t.is(q.length, 0);
  await sleep(60);
  t.is(q.length, 1);
  t.is(await q.get(), 'a');
  q.done('a');
  await sleep(400);
  t.is(q.length, 0, 'the later delays were dropped');
});

test('shutdown releases waiters, drops queued and delayed keys, and ignores adds', async (t) => {
  const q = new WorkQueue();
  const waiting = q.get();
  q.shutdown();
  t.is(await waiting, undefined);
  const q2 = new WorkQueue();
  q2.add('a');
  q2.addAfter('b', 10);
  q2.shutdown();
  q2.add('c');
  await sleep(30);
  t.is(q2.length, 0);
  t.is(await q2.get(), undefined);
  t.true(q2.shuttingDown);
});

test('per-key backoff doubles from the base to the cap, per key, and forget resets it', (t) => {
  const rl = new ExponentialBackoff(5, 1000);
  const delays = Array.from({ length: 10 }, () => rl.when('a'));
  t.deepEqual(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
  t.is(rl.numRequeues('a'), 10);
  t.is(rl.when('b'), 5, 'keys back off independently');
  rl.forget('a');
  t.is(rl.numRequeues('a'), 0);
  t.is(rl.when('a'), 5);
  const big = new ExponentialBackoff(5, 60_000);
  for (let i = 0; i < 2000; i++) big.when('k');
  t.is(big.when('k'), 60_000, 'no overflow after many failures');
});

test('the token bucket allows a burst, then spaces reservations at qps', (t) => {
  let now = 0;
  const bucket = new TokenBucket(10, 3, () => now);
  t.deepEqual([bucket.reserve(), bucket.reserve(), bucket.reserve()], [0, 0, 0]);
  t.is(bucket.reserve(), 100);
  t.is(bucket.reserve(), 200);
  now = 10_000;
  t.is(bucket.reserve(), 0, 'refilled, but never beyond the burst');
  t.is(bucket.reserve(), 0);
  t.is(bucket.reserve(), 0);
  t.is(bucket.reserve(), 100);
});

test('the controller rate limiter takes the longer of backoff and bucket', (t) => {
  const now = 0;
  const rl = new ControllerRateLimiter({ baseMs: 5, maxMs: 60_000, qps: 10, burst: 2, now: () => now });
  t.is(rl.when('a'), 5);
  t.is(rl.when('b'), 5);
  t.is(rl.when('c'), 100, 'the bucket is empty: its delay dominates');
  rl.forget('a');
  t.is(rl.numRequeues('a'), 0);
});

test('addRateLimited backs off and forget resets the backoff', async (t) => {
  const q = new WorkQueue({ rateLimiter: new ExponentialBackoff(50, 1000) });
  q.addRateLimited('a');
  t.is(q.length, 0);
  await sleep(120);
  t.is(await q.get(), 'a');
  q.done('a');
  q.addRateLimited('a');
  t.is(q.numRequeues('a'), 2);
  await sleep(30);
  t.is(q.length, 0, 'the second failure waits twice as long');
  await sleep(150);
  t.is(q.length, 1);
  q.forget('a');
  t.is(q.numRequeues('a'), 0);
});
