/** netop's kernel counters as Prometheus counters: the delta logic, and the series a scrape shows. */
import test from 'ava';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { KernelDeltas, NetopMetrics } from '../metrics.ts';
import type { PolicyDrops } from '../policy/engine.ts';
import type { SliceQosStats } from '../qos/engine.ts';

test('deltas: first read counts whole, then the rise; a counter that went down counts its new value', (t) => {
  const d = new KernelDeltas();
  t.is(d.next('a', 100), 100);
  t.is(d.next('a', 150), 50);
  t.is(d.next('a', 150), 0);
  t.is(d.next('b', 7), 7, 'series are independent');
  t.is(d.next('a', 30), 30, 'went down: the class or table was recreated');
  t.is(d.next('a', 45), 15);
});

test('deltas: keepOnly forgets series no longer read, which then start again from their value', (t) => {
  const d = new KernelDeltas();
  d.next('a', 10);
  d.next('b', 20);
  t.deepEqual(d.keepOnly(new Set(['a'])), ['b']);
  t.is(d.next('a', 12), 2);
  t.is(d.next('b', 25), 25);
});

/** A NetopMetrics whose kernel reads return what the test sets; `undefined` makes a read fail. */
function rig(): {
  registry: Registry;
  set: (q: SliceQosStats[] | undefined, p?: Map<string, PolicyDrops>) => void;
} {
  let qos: SliceQosStats[] | undefined = [];
  let policy: Map<string, PolicyDrops> | undefined = new Map();
  const registry = new Registry();
  new NetopMetrics(
    registry,
    () => (qos ? Promise.resolve(qos) : Promise.reject(new Error('tc failed'))),
    () => (policy ? Promise.resolve(policy) : Promise.reject(new Error('nft failed'))),
  );
  const set = (q: SliceQosStats[] | undefined, p?: Map<string, PolicyDrops>): void => {
    qos = q;
    policy = p;
  };
  return { registry, set };
}

/** A scrape's type and value of one series (undefined: no such series). */
async function scrape(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<{ type: string; value: number | undefined }> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name)!;
  const values = (m as unknown as { values: { labels: Record<string, string>; value: number }[] }).values;
  const v = values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return { type: String(m.type), value: v?.value };
}

const gold = (bytes: number): SliceQosStats => ({
  slice: 'gold',
  direction: 'egress',
  bytes,
  packets: bytes / 100,
  drops: 0,
});

test('metrics: counters follow the kernel across a recreated class, a failed read and a slice gone', async (t) => {
  const r = rig();
  const bytes = async (): Promise<number | undefined> =>
    (await scrape(r.registry, 'slicenet_qos_bytes_total', { slice: 'gold', direction: 'egress' })).value;
  const drops = async (reason: string): Promise<number | undefined> =>
    (await scrape(r.registry, 'slicenet_policy_drops_total', { slice: 'gold', reason })).value;
  for (const name of ['bytes', 'packets', 'drops'])
    t.is((await scrape(r.registry, `slicenet_qos_${name}_total`, {})).type, 'counter');
  t.is((await scrape(r.registry, 'slicenet_policy_drops_total', {})).type, 'counter');

  r.set([gold(1000)], new Map([['gold', { policy: 5, isolation: 0 }]]));
  t.is(await bytes(), 1000);
  t.is(await drops('policy'), 5);
  r.set([gold(1500)], new Map([['gold', { policy: 9, isolation: 2 }]]));
  t.is(await bytes(), 1500);
  t.is(await drops('isolation'), 2);
  r.set([gold(200)], new Map([['gold', { policy: 1, isolation: 2 }]]));
  t.is(await bytes(), 1700, 'class recreated: its 200 new bytes are added');
  t.is(await drops('policy'), 10);
  r.set(undefined, undefined);
  t.is(await bytes(), 1700, 'a failed read leaves the series as they were');
  t.is(await drops('policy'), 10);
  r.set([gold(300)], new Map([['gold', { policy: 1, isolation: 2 }]]));
  t.is(await bytes(), 1800, 'after a failed read, deltas continue from the last good one');
  r.set([], new Map());
  t.is(await bytes(), undefined, 'slice gone: its series is removed');
  t.is(await drops('policy'), undefined);
});

test('metrics: concurrent scrapes take deltas in read order, so nothing is counted twice', async (t) => {
  // Later reads answer sooner: taken out of order, a read would look like a counter that went
  // down and be added again.
  let n = 0;
  const registry = new Registry();
  new NetopMetrics(
    registry,
    async () => {
      const k = ++n;
      await sleep(Math.max(0, 50 - 5 * k));
      return [gold(1000 * k)];
    },
    () => Promise.resolve(new Map<string, PolicyDrops>()),
  );
  await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()]);
  const { value } = await scrape(registry, 'slicenet_qos_bytes_total', {});
  t.true(value! >= 1000 && value! <= 1000 * n, `${value} bytes after reads of at most ${1000 * n}`);
});
