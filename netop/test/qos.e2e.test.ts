/**
 * The QoS engine against real traffic on the rig of helpers/qos-rig.ts: the HTB root on the
 * gateway namespace's uplink is the bottleneck (LINK). Rates are measured at
 * the receiver with nft counters over a window inside each run (start-up excluded), as L2 bytes
 * (IP bytes + 14 per packet) since that is what HTB counts. Each run lasts 5 s (6 with a change).
 */
import test, { type ExecutionContext } from 'ava';
import { QosEngine } from '../qos/engine.ts';
import type { SliceQos } from '../qos/model.ts';
import { dscpCounter, portCounter, readMeter } from './helpers/meter.ts';
import { canNetns } from './helpers/netns.ts';
import { GOLD as A, LINK, qosRig, rigSend, SILVER as B, type QosRig as Topo } from './helpers/qos-rig.ts';

const topology = (t: ExecutionContext<unknown>): Promise<Topo> => qosRig(t, 'sn-nq');
const counters = (topo: Topo['wan']): ReturnType<typeof readMeter> => readMeter(topo.name);
const send = rigSend;

const e2e = canNetns ? test : test.skip;
const ratio = (got: number, want: number): string => `${((100 * got) / want).toFixed(1)} %`;

e2e(
  'QoS engine: guarantees, ceilings, priority, DSCP, live change, restart, delete, ingress via ifb',
  async (t) => {
    t.timeout(150_000);
    const topo = await topology(t);
    const engine = new QosEngine(
      { device: 'uplink', linkKbit: LINK, ingress: false },
      { netnsPath: topo.gw.path },
    );
    t.teardown(() => engine.teardown());
    await engine.reconcile([A, B]);
    const measured: Record<string, string> = {};

    // 1. Both slices flood at once: each gets its guarantee; the spare goes to the higher priority.
    const both = await send(t, topo, [A.port, B.port], 60);
    const [a, b] = [both.get(A.port)!, both.get(B.port)!];
    measured.bothA = ratio(a, A.guaranteedKbit);
    measured.bothB = ratio(b, B.guaranteedKbit);
    t.true(
      a >= 0.9 * A.guaranteedKbit,
      `gold got ${a.toFixed(0)} kbit/s of its ${A.guaranteedKbit} guarantee`,
    );
    t.true(
      b >= 0.9 * B.guaranteedKbit,
      `silver got ${b.toFixed(0)} kbit/s of its ${B.guaranteedKbit} guarantee`,
    );
    t.true(
      a - A.guaranteedKbit > b - B.guaranteedKbit,
      `spare to the higher priority: gold +${(a - A.guaranteedKbit).toFixed(0)}, silver +${(b - B.guaranteedKbit).toFixed(0)}`,
    );
    t.true(a + b <= 1.05 * LINK, `both together within the link: ${(a + b).toFixed(0)} kbit/s`);

    // 2. Alone, a slice reaches its ceiling and no more.
    const alone = (await send(t, topo, [A.port], 60)).get(A.port)!;
    measured.aloneA = ratio(alone, A.ceilingKbit);
    t.true(
      alone >= 0.9 * A.ceilingKbit && alone <= 1.05 * A.ceilingKbit,
      `gold alone: ${alone.toFixed(0)} of ceiling ${A.ceilingKbit}`,
    );

    // 3. DSCP on the outer packets, every one of them.
    const c = await counters(topo.wan);
    t.true(
      c.get(dscpCounter('EF', 5201))!.packets > 0 &&
        c.get(dscpCounter('EF', 5201))!.packets === c.get(portCounter(5201))!.packets,
      'gold packets carry EF',
    );
    t.true(
      c.get(dscpCounter('AF41', 5202))!.packets > 0 &&
        c.get(dscpCounter('AF41', 5202))!.packets === c.get(portCounter(5202))!.packets,
      'silver packets carry AF41',
    );

    // 4. A ceiling change applies live, as a change of that class (and its queue) only; silver's counters go on.
    const silverBefore = (await engine.stats()).find((s) => s.slice === 'silver')!;
    const lower = { ...A, ceilingKbit: 35_000 };
    let changeMs = 0;
    let cmds: string[] = [];
    const changed = (
      await send(t, topo, [A.port], 60, async () => {
        const t0 = performance.now();
        cmds = await engine.reconcile([lower, B]);
        changeMs = performance.now() - t0;
        await new Promise((r) => setTimeout(r, 300));
      })
    ).get(A.port)!;
    measured.changedA = ratio(changed, lower.ceilingKbit);
    t.deepEqual(
      cmds.map((x) => x.split(' ').slice(0, 2).join(' ')),
      ['class change', 'qdisc replace'],
      cmds.join('; '),
    );
    t.true(
      cmds.every((x) => x.includes(' 1:1771 ')),
      'only gold’s class and its queue (50 ms at the new ceiling) changed',
    );
    t.true(changeMs < 2000, `change applied in ${changeMs.toFixed(0)} ms`);
    t.true(
      changed >= 0.9 * lower.ceilingKbit && changed <= 1.05 * lower.ceilingKbit,
      `gold after change: ${changed.toFixed(0)} of ${lower.ceilingKbit}`,
    );
    const silverAfter = (await engine.stats()).find((s) => s.slice === 'silver')!;
    t.true(
      silverAfter.bytes >= silverBefore.bytes && silverBefore.bytes > 0,
      'silver’s counters were not reset',
    );

    // 5. A restarted netop (a new engine) finds the same state and changes nothing.
    const restarted = new QosEngine(
      { device: 'uplink', linkKbit: LINK, ingress: false },
      { netnsPath: topo.gw.path },
    );
    t.deepEqual(await restarted.reconcile([lower, B]), [], 'restart: no tc command, no new root');

    // 6. A deleted slice loses its filters and class.
    const del = await restarted.reconcile([lower]);
    t.deepEqual(del.slice(0, 2), [
      'filter del dev uplink parent 1: protocol ip pref 6002',
      'class del dev uplink classid 1:1772',
    ]);
    // …and the default class gets the guarantee that was silver's.
    t.deepEqual(
      del.slice(2).map((c) => /classid (\S+)/.exec(c)?.[1]),
      ['1:2'],
    );
    t.deepEqual(
      (await restarted.stats()).map((s) => s.slice),
      ['gold'],
    );

    // 7. Ingress shaping through ifb on the receiving side: its ceiling holds for arriving traffic.
    const rx = new QosEngine({ device: 'wan0', linkKbit: LINK, ingress: true }, { netnsPath: topo.wan.path });
    t.teardown(() => rx.teardown());
    const bronze: SliceQos = {
      slice: 'bronze',
      port: 6003,
      guaranteedKbit: 5_000,
      ceilingKbit: 15_000,
      priority: 4,
      dscp: 'CS1',
    };
    await rx.reconcile([bronze]);
    const ingress = (await send(t, topo, [bronze.port], 30)).get(bronze.port)!;
    measured.ingressBronze = ratio(ingress, bronze.ceilingKbit);
    t.true(
      ingress >= 0.9 * bronze.ceilingKbit && ingress <= 1.05 * bronze.ceilingKbit,
      `bronze in through ifb: ${ingress.toFixed(0)} of ${bronze.ceilingKbit}`,
    );
    t.true((await rx.stats()).some((s) => s.slice === 'bronze' && s.direction === 'ingress' && s.bytes > 0));
    t.log(JSON.stringify({ measured, changeMs: Math.round(changeMs) }));
  },
);
