/**
 * `npm run bench:gateway-fuzz`: at least 10^6 random and mutated datagrams into a live
 * gateway's socket, for real, from the WAN namespace of a two-gateway topology
 * (test/helpers/topology.ts, test/helpers/fuzzer.ts). Rounds of about 20 s each, at least
 * three, until the gateway has processed 10^6 or 7 minutes have passed; after each, the
 * gateway must be alive and its session must still carry a ping.
 *
 * "datagrams" counts what the gateway itself processed (the sum of its drop counters: every
 * fuzz datagram ends in exactly one drop reason), not what was sent: datagrams the kernel
 * dropped because the socket buffer was full never reached it and are reported apart. Each
 * round sends at 1.3 × the rate the gateway processed in the round before, so most of what
 * is sent is processed.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { atLeast, atMost, median, round, runBench, type Goal } from '../../lib/bench.ts';
import { runRaw } from '../../lib/exec.ts';
import { Capture } from './test/helpers/capture.ts';
import type { FuzzSpec } from './test/helpers/fuzzer.ts';
import { ATTACKER, GW_PORT, Topology } from './test/helpers/topology.ts';

const FUZZER = fileURLToPath(new URL('test/helpers/fuzzer.ts', import.meta.url));
const MIN_ROUNDS = 3;
const ROUND_SECONDS = 20;
const BUDGET_MS = 420_000;
const GOAL = 1_000_000;
const FIRST_RATE = 20_000;

const sum = (r: Record<string, number>): number => Object.values(r).reduce((s, x) => s + x, 0);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function kernelDrops(topo: Topology): Promise<number> {
  const snmp = (await runRaw(['cat', '/proc/net/snmp'], { netns: topo.node(1).gw })).stdout;
  const [head, values] = snmp.split('\n').filter((l) => l.startsWith('Udp:'));
  const i = head!.split(' ').indexOf('RcvbufErrors');
  return Number(values!.split(' ')[i]);
}

function pingLoss(out: string): number {
  const tx = Number(/(\d+) packets transmitted/.exec(out)?.[1] ?? 0);
  const rx = Number(/(\d+) received/.exec(out)?.[1] ?? 0);
  return tx - rx;
}

async function main(): Promise<void> {
  const topo = await Topology.create({ gateways: 2 });
  try {
    const [a, b] = [topo.node(1), topo.node(2)];
    for (let i = 0; i < 100 && !topo.peer(1, 2)?.connected; i++) await sleep(100);
    const cap = await Capture.start(topo.wan, 'g2', join(topo.dir, 'samples.pcap'), ['udp']);
    await topo.ping(2, 1, ['-c', '20', '-i', '0.02', '-q']);
    const all = await cap.stop();
    const samples = all.filter((p) => p.dst === a.wanIp && p.dport === GW_PORT && p.payload?.[0] === 4);
    if (samples.length === 0)
      throw new Error(`no transport datagrams captured for the corpus (${all.length} packets)`);
    const spec: FuzzSpec = {
      bind: ATTACKER,
      target: { address: a.wanIp, port: GW_PORT },
      targetKey: a.publicKey,
      slice: 'test',
      liveIndex: samples[0]!.payload!.readUInt32LE(4),
      samples: samples.map((p) => p.payload!.toString('base64')),
      count: 0,
      rate: FIRST_RATE,
    };
    const drops: Record<string, number> = {};
    const rates: number[] = [];
    let processed = 0;
    let sent = 0;
    let lostAfter = 0;
    let lostDuring = 0;
    const kernel0 = await kernelDrops(topo);
    const start = performance.now();
    for (let r = 1; r <= MIN_ROUNDS || (processed < GOAL && performance.now() - start < BUDGET_MS); r++) {
      spec.count = Math.min(Math.round(spec.rate * ROUND_SECONDS), Math.max(GOAL - processed, spec.rate));
      const before = topo.state(1).drops;
      const t0 = performance.now();
      const during = topo.ping(
        1,
        2,
        ['-c', String(10 * ROUND_SECONDS), '-i', '0.1', '-W', '2', '-q'],
        120_000,
      );
      sent += (await topo.script<{ sent: number }>(topo.wan, FUZZER, [JSON.stringify(spec)], 90_000)).sent;
      // Drain: until the gateway's counters stop moving.
      let last = -1;
      let lastAt = performance.now();
      for (let i = 0; i < 200; i++) {
        const n = sum(topo.state(1).drops);
        if (n !== last) [last, lastAt] = [n, performance.now()];
        else if (performance.now() - lastAt > 600) break;
        await sleep(100);
      }
      const after = topo.state(1).drops;
      const got = sum(after) - sum(before);
      processed += got;
      rates.push(got / ((lastAt - t0) / 1000));
      spec.rate = Math.max(2000, Math.round(1.3 * rates.at(-1)!));
      for (const [k, v] of Object.entries(after)) drops[k] = (drops[k] ?? 0) + v - (before[k] ?? 0);
      lostDuring += pingLoss((await during).stdout);
      if (a.proc?.exitCode !== null) throw new Error(`the gateway died in round ${r}:\n${a.stderr.join('')}`);
      const check = await topo.ping(1, 2, ['-c', '5', '-i', '0.1', '-W', '2']);
      lostAfter += pingLoss(check.stdout);
      process.stdout.write(
        `round ${r}: ${got} datagrams processed at ${Math.round(rates.at(-1)!)}/s; session ping lost ${pingLoss(check.stdout)}/5\n`,
      );
    }
    const kernel = (await kernelDrops(topo)) - kernel0;
    const alive = b.proc?.exitCode === null && a.proc?.exitCode === null ? 1 : 0;
    const figures = {
      datagrams: processed,
      sent,
      kernelDropped: kernel,
      perSecond: round(median(rates), 0),
      rounds: rates.length,
      loadAverage: round(loadavg()[0]!, 1),
      sessionPingLostDuring: lostDuring,
      sessionPingLostAfter: lostAfter,
      dropsByReason: Object.fromEntries(Object.entries(drops).filter(([, v]) => v > 0)),
    };
    const goals: (Goal | { name: string; value: number; goal: number; met: boolean })[] = [
      { name: 'fuzz datagrams', value: processed, goal: GOAL, met: processed >= GOAL },
      atMost('live session pings lost after each round', lostAfter, 0),
      atLeast('gateways alive', alive, 1),
    ];
    process.stdout.write(JSON.stringify({ bench: 'gateway-fuzz', figures, goals }) + '\n');
  } finally {
    await topo.destroy();
  }
}

runBench('gateway-fuzz', main);
