import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { createLogger } from '../../log.ts';
import { TerminalError } from '../errors.ts';
import { ReconcileMetrics } from '../metrics.ts';
import { WorkQueue } from '../queue.ts';
import { ExponentialBackoff } from '../ratelimit.ts';
import { runWorkers, type ReconcileEvent } from '../workers.ts';

// Reconcile failures are expected here; keep their log lines out of the test output.
const quiet = { ...createLogger('test'), error: () => undefined };
quiet.with = () => quiet;

/** Resolves when `cond` holds, polling; fails the test after `ms`. */
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

test('one key is never reconciled by two workers at once, and no add is lost', async (t) => {
  const q = new WorkQueue();
  const ac = new AbortController();
  let inFlight = 0;
  let maxInFlight = 0;
  let runs = 0;
  const run = runWorkers(
    q,
    8,
    async () => {
      runs++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(20);
      inFlight--;
    },
    ac.signal,
    { log: quiet },
  );
  for (let i = 0; i < 10; i++) {
    q.add('k');
    await sleep(7);
  }
  await until(() => q.length === 0 && inFlight === 0);
  await sleep(30);
  ac.abort();
  await run;
  t.is(maxInFlight, 1);
  t.true(runs >= 2 && runs <= 10, `adds during a reconcile collapse into one more run (${runs})`);
});

test('different keys are reconciled in parallel', async (t) => {
  const q = new WorkQueue();
  const ac = new AbortController();
  let inFlight = 0;
  let maxInFlight = 0;
  const run = runWorkers(
    q,
    3,
    async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(30);
      inFlight--;
    },
    ac.signal,
    { log: quiet },
  );
  for (const k of ['a', 'b', 'c', 'd']) q.add(k);
  await until(() => q.length === 0 && inFlight === 0);
  ac.abort();
  await run;
  t.is(maxInFlight, 3);
});

test('errors retry with backoff until success; terminal errors and requeueAfter as documented', async (t) => {
  const q = new WorkQueue({ rateLimiter: new ExponentialBackoff(5, 1000) });
  const ac = new AbortController();
  const events: ReconcileEvent[] = [];
  const calls = new Map<string, number>();
  const run = runWorkers(
    q,
    2,
    (key) => {
      const n = (calls.get(key) ?? 0) + 1;
      calls.set(key, n);
      if (key === 'flaky' && n < 3) return Promise.reject(new Error('apiserver unavailable'));
      if (key === 'bad') return Promise.reject(new TerminalError('spec.subnet is not a CIDR'));
      if (key === 'poll' && n === 1) return Promise.resolve({ requeueAfter: 30 });
      return Promise.resolve();
    },
    ac.signal,
    { log: quiet, onReconcile: (e) => events.push(e) },
  );
  q.add('flaky');
  q.add('bad');
  q.add('poll');
  await until(() => calls.get('flaky') === 3 && calls.get('poll') === 2);
  await sleep(100);
  ac.abort();
  await run;

  const outcomes = (key: string): string[] => events.filter((e) => e.key === key).map((e) => e.outcome);
  t.deepEqual(outcomes('flaky'), ['error', 'error', 'success']);
  t.is(q.numRequeues('flaky'), 0, 'success forgets the backoff');
  t.deepEqual(outcomes('bad'), ['terminal'], 'a terminal error is not retried');
  t.is(q.numRequeues('bad'), 0);
  t.deepEqual(outcomes('poll'), ['requeue', 'success']);
  t.true(events.every((e) => e.durationMs >= 0));
});

test('abort stops the workers after the reconcile in flight returns', async (t) => {
  const q = new WorkQueue();
  const ac = new AbortController();
  let finished = false;
  let sawAbort = false;
  const run = runWorkers(
    q,
    2,
    async (_key, { signal }) => {
      await sleep(50);
      sawAbort = signal.aborted;
      finished = true;
    },
    ac.signal,
    { log: quiet },
  );
  q.add('a');
  await sleep(10);
  ac.abort();
  await run;
  t.true(finished, 'runWorkers waited for the reconcile in flight');
  t.true(sawAbort, 'the reconcile could see the abort');
  t.true(q.shuttingDown);
});

test('reconcile metrics count results per controller and read the queue depth at scrape', async (t) => {
  const registry = new Registry();
  const metrics = new ReconcileMetrics(registry);
  const q = new WorkQueue();
  const ac = new AbortController();
  const seen = new Set<string>();
  let failed = false;
  const run = runWorkers(
    q,
    1,
    async (key) => {
      await sleep(1);
      if (key === 'bad' && !failed) {
        failed = true;
        throw new Error('transient');
      }
      if (key === 'never') throw new TerminalError('cannot converge');
      seen.add(key);
      return key === 'poll' ? { requeueAfter: 60_000 } : {};
    },
    ac.signal,
    { log: quiet, onReconcile: metrics.hook('things', q) },
  );
  for (const k of ['a', 'bad', 'never', 'poll']) q.add(k);
  await until(() => seen.has('bad') && q.length === 0, 3000);
  const text = await registry.metrics();
  for (const [result, n] of [
    ['success', 2],
    ['requeue', 1],
    ['terminal', 1],
    ['error', 1],
  ] as const)
    t.regex(
      text,
      new RegExp(`slicenet_reconciles_total\\{controller="things",result="${result}"\\} ${n}\\b`),
    );
  t.regex(text, /slicenet_reconcile_duration_seconds_count\{controller="things"\} 5\b/);
  t.regex(text, /slicenet_workqueue_depth\{controller="things"\} 0\b/);
  ac.abort();
  await run;
});
