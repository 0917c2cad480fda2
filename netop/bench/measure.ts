/**
 * bench:policy's three measures, each on its own rig (namespaces `qx-<run>-…`, removed after):
 * slice throughput without and with 1000 + 1000 rules, policy update → enforced latency, and
 * QoS accuracy (delivered / configured) per slice.
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { QosEngine } from '../qos/engine.ts';
import { spawnIn, stop, type Teardown } from '../test/helpers/netns.ts';
import { GOLD, LINK, qosRig, rigSend, SILVER } from '../test/helpers/qos-rig.ts';
import { benchRuleset, FLIP_PORT, IPERF_PORT, PROBE, SERVER, type PolicyRig } from './rig.ts';

export const ROUNDS = 3;
const IPERF_SECONDS = 3;
const FLIPS = 12;

const say = (line: string): void => void process.stderr.write(`${line}\n`);

async function iperfGbps(rig: PolicyRig): Promise<number> {
  const r = await rig.client.execRaw(
    ['iperf3', '-c', SERVER, '-p', String(IPERF_PORT), '-t', String(IPERF_SECONDS), '-O', '1', '-J'],
    (IPERF_SECONDS + 15) * 1000,
  );
  const bps = (JSON.parse(r.stdout || '{}') as { end?: { sum_received?: { bits_per_second?: number } } }).end
    ?.sum_received?.bits_per_second;
  if (r.exitCode !== 0 || bps === undefined)
    throw new Error(`iperf3 failed: ${r.stdout.slice(-300)} ${r.stderr}`);
  return bps / 1e9;
}

export interface Throughput {
  none: number[];
  policy: number[];
  setElements: number;
}

/** iperf3 TCP client → server, the two configurations interleaved (order alternating by round). */
export async function throughput(rig: PolicyRig): Promise<Throughput> {
  const off = benchRuleset(false);
  const on = benchRuleset(true);
  const out: Throughput = {
    none: [],
    policy: [],
    setElements: [...on.ingress, ...on.egress].reduce((n, g) => n + g.allow.length, 0),
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? (['policy', 'none'] as const) : (['none', 'policy'] as const);
    for (const cfg of order) {
      await rig.engine.apply(cfg === 'policy' ? on : off);
      const gbps = await iperfGbps(rig);
      out[cfg].push(gbps);
      say(`throughput round ${round + 1} ${cfg}: ${gbps.toFixed(2)} Gbit/s`);
    }
  }
  return out;
}

export interface UpdateLatency {
  /** Apply start → the first probe with the new verdict was sent, ms. */
  enforcedMs: number[];
  compileMs: number[];
  nftMs: number[];
}

/**
 * Flips the server's verdict for UDP FLIP_PORT FLIPS times, with all 2000 rules in place; each
 * flip is what netop does (compile the slice's policies, one nft transaction), timed from its
 * start until the client's probe (one every 2 ms) sees the new verdict.
 */
export async function updateLatency(t: Teardown, rig: PolicyRig): Promise<UpdateLatency> {
  await rig.engine.apply(benchRuleset(true, false));
  const watcher = spawnIn(t, rig.client, ['python3', PROBE, 'watch', SERVER, String(FLIP_PORT)]);
  const lines = createInterface({ input: watcher.stdout! })[Symbol.asyncIterator]();
  const next = async (want: 'up' | 'down', timeoutMs: number): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await Promise.race([
        lines.next(),
        sleep(Math.max(0, deadline - Date.now()), 'timeout' as const),
      ]);
      if (r === 'timeout' || r.done) throw new Error(`the probe did not see "${want}" in ${timeoutMs} ms`);
      const [state, at] = r.value.split(' ');
      if (state === want) return Number(at);
    }
  };
  const out: UpdateLatency = { enforcedMs: [], compileMs: [], nftMs: [] };
  try {
    await next('down', 30_000); // python's start-up alone takes seconds on a loaded machine
    for (let i = 1; i <= FLIPS; i++) {
      const open = i % 2 === 1;
      const t0 = performance.timeOrigin + performance.now();
      const r = benchRuleset(true, open);
      const t1 = performance.timeOrigin + performance.now();
      await rig.engine.apply(r);
      const t2 = performance.timeOrigin + performance.now();
      const at = await next(open ? 'up' : 'down', 30_000);
      out.enforcedMs.push(Math.max(0, at - t0));
      out.compileMs.push(t1 - t0);
      out.nftMs.push(t2 - t1);
      say(
        `flip ${i} ${open ? 'open' : 'closed'}: enforced ${(at - t0).toFixed(0)} ms (compile ${(t1 - t0).toFixed(0)}, nft ${(t2 - t1).toFixed(0)})`,
      );
      await sleep(100);
    }
  } finally {
    await stop(watcher);
  }
  return out;
}

export interface QosAccuracy {
  goldBoth: number[];
  silverBoth: number[];
  goldAlone: number[];
  silverAlone: number[];
}

/** Delivered / configured per slice: both at once (of the guarantee), alone (of the ceiling). */
export async function qosAccuracy(t: Teardown): Promise<QosAccuracy> {
  const rig = await qosRig(t, 'qx');
  const engine = new QosEngine(
    { device: 'uplink', linkKbit: LINK, ingress: false },
    { netnsPath: rig.gw.path },
  );
  t.teardown(() => engine.teardown());
  await engine.reconcile([GOLD, SILVER]);
  const out: QosAccuracy = { goldBoth: [], silverBoth: [], goldAlone: [], silverAlone: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const both = await rigSend(t, rig, [GOLD.port, SILVER.port], 60);
    out.goldBoth.push(both.get(GOLD.port)! / GOLD.guaranteedKbit);
    out.silverBoth.push(both.get(SILVER.port)! / SILVER.guaranteedKbit);
    out.goldAlone.push((await rigSend(t, rig, [GOLD.port], 60)).get(GOLD.port)! / GOLD.ceilingKbit);
    out.silverAlone.push((await rigSend(t, rig, [SILVER.port], 60)).get(SILVER.port)! / SILVER.ceilingKbit);
    say(
      `qos round ${round + 1}: both gold ${out.goldBoth.at(-1)!.toFixed(3)} silver ${out.silverBoth.at(-1)!.toFixed(3)} of guarantee; ` +
        `alone gold ${out.goldAlone.at(-1)!.toFixed(3)} silver ${out.silverAlone.at(-1)!.toFixed(3)} of ceiling`,
    );
  }
  return out;
}
