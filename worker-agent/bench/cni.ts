/**
 * `npm run bench:cni`: what the slice NIC costs a pod, on one lab (one cluster, two nodes,
 * the real controller, worker, agents and Multus), all figures from the same nodes in one run.
 *
 * 1. Pod create → Running with its second NIC in network-status, 50 pods per batch created
 *    back to back over both nodes: the slice NIC (`slicenet` plugin) against a bridge +
 *    host-local NIC through the same Multus. Five runs, the variants' order alternating;
 *    every batch is deleted (and its CNI DELs done) before the next. Each figure is the
 *    median over runs of that run's p50 / p99; the goals are the ratios of those medians.
 *    With each batch, the whole machine's busy CPU (/proc/stat) per pod: what a pod costs,
 *    steadier than its latency, which is mostly queueing for that CPU.
 * 2. The agent's ADD time for the slice batches, from its own histogram (add-time.ts).
 * 3. The plugin's own ADD and DEL: the bundled plugin run as a fresh process against the real
 *    agent, one call at a time (plugin-time.ts); p50 / p99 of 20 each.
 * 4. iperf3 TCP throughput between pods on the two nodes, to the server's slice0 and to its
 *    eth0 address, alternating, 5 × 5 s each; medians.
 *
 * The machine's load average (1 min) at the start and the end goes into the figures: on
 * shared cores, pod latencies are mostly CPU queueing, and the ratios say more than the times.
 *
 * Progress goes to stderr; the last stdout line is the JSON summary.
 */
import { nadName } from '../../controller/api/names.ts';
import { Lab } from '../../lab/lab.ts';
import { testLabName } from '../../lab/test/leftovers.ts';
import {
  atLeast,
  atMost,
  machineJiffies,
  median,
  percentile,
  report,
  round,
  runBench,
} from '../../lib/bench.ts';
import { loadavg } from 'node:os';
import { combine, quantile, scrapeAdd } from './add-time.ts';
import { deleteAllPods, podBatch, type Nic } from './pods.ts';
import { pluginTimes } from './plugin-time.ts';
import { setUpSlice, SLICE, BRIDGE_NAD } from './slice-lab.ts';
import { iperf, startIperfPods } from './throughput.ts';

/** Batches of one variant swing by ±30 % between runs on shared cores: five, not three, steady the medians. */
const RUNS = 5;
const PODS = 50;
const WARM_UP_PODS = 2;
const IPERF_SECONDS = 5;
const PLUGIN_CALLS = 20;
const VARIANTS = {
  slice: { nad: nadName(SLICE), iface: 'slice0' },
  bridge: { nad: BRIDGE_NAD, iface: 'net1' },
} satisfies Record<string, Nic>;
type Variant = keyof typeof VARIANTS;

const say = (line: string): boolean => process.stderr.write(`bench:cni: ${line}\n`);
const ms = (x: number): number => Math.round(x);

interface Runs {
  p50: Record<Variant, number[]>;
  p99: Record<Variant, number[]>;
  /** The whole machine's busy CPU during each batch, per pod (ms). */
  cpuPerPod: Record<Variant, number[]>;
  addP50: number[];
  addP99: number[];
  addMean: number[];
}

async function podRuns(lab: Lab): Promise<Runs> {
  const r: Runs = {
    p50: { slice: [], bridge: [] },
    p99: { slice: [], bridge: [] },
    cpuPerPod: { slice: [], bridge: [] },
    addP50: [],
    addP99: [],
    addMean: [],
  };
  // The first pods on a fresh node pay for cold caches (the plugin bundle, Node's code cache).
  for (const v of ['slice', 'bridge'] as const) await podBatch(lab, `warm-${v}`, WARM_UP_PODS, VARIANTS[v]);
  await deleteAllPods(lab);
  for (let run = 1; run <= RUNS; run++) {
    const order: Variant[] = run % 2 ? ['slice', 'bridge'] : ['bridge', 'slice'];
    for (const v of order) {
      const before = await scrapeAdd(lab);
      const cpu0 = machineJiffies().busy;
      const lat = await podBatch(lab, `${v}${run}`, PODS, VARIANTS[v]);
      r.cpuPerPod[v].push(((machineJiffies().busy - cpu0) * 10) / PODS);
      if (v === 'slice') {
        const adds = combine(await scrapeAdd(lab), before, -1);
        if (adds.count < PODS) throw new Error(`the agents counted ${adds.count} ADDs for ${PODS} pods`);
        r.addP50.push(quantile(adds, 0.5) * 1000);
        r.addP99.push(quantile(adds, 0.99) * 1000);
        r.addMean.push((adds.sum / adds.count) * 1000);
      }
      r.p50[v].push(percentile(lat, 50));
      r.p99[v].push(percentile(lat, 99));
      say(
        `run ${run} ${v}: p50 ${ms(r.p50[v].at(-1)!)} ms, p99 ${ms(r.p99[v].at(-1)!)} ms, ` +
          `CPU ${ms(r.cpuPerPod[v].at(-1)!)} ms per pod`,
      );
      await deleteAllPods(lab);
    }
  }
  return r;
}

async function throughput(lab: Lab): Promise<{ slice0: number[]; eth0: number[] }> {
  const to = await startIperfPods(lab, VARIANTS.slice);
  const out = { slice0: [] as number[], eth0: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    for (const path of ['slice0', 'eth0'] as const) {
      out[path].push((await iperf(lab, to[path], IPERF_SECONDS)) / 1e9);
      say(`iperf3 ${i + 1} over ${path} (${to[path]}): ${out[path].at(-1)!.toFixed(2)} Gbit/s`);
    }
  }
  return out;
}

async function measure(lab: Lab, started: number): Promise<Parameters<typeof report>> {
  const loadStart = loadavg()[0]!;
  say(`lab ${lab.plan.name} up; starting the controller, worker and agents`);
  await setUpSlice(lab);
  const r = await podRuns(lab);
  const plugin = await pluginTimes(lab, PLUGIN_CALLS);
  say(`plugin ADD p50 ${ms(median(plugin.addMs))} ms, DEL p50 ${ms(median(plugin.delMs))} ms`);
  const tp = await throughput(lab);
  const m = {
    sliceP50: median(r.p50.slice),
    sliceP99: median(r.p99.slice),
    bridgeP50: median(r.p50.bridge),
    bridgeP99: median(r.p99.bridge),
    slice0: median(tp.slice0),
    eth0: median(tp.eth0),
  };
  const figures = {
    pod_running_slice_p50_ms: ms(m.sliceP50),
    pod_running_slice_p99_ms: ms(m.sliceP99),
    pod_running_bridge_p50_ms: ms(m.bridgeP50),
    pod_running_bridge_p99_ms: ms(m.bridgeP99),
    machine_cpu_per_slice_pod_ms: ms(median(r.cpuPerPod.slice)),
    machine_cpu_per_bridge_pod_ms: ms(median(r.cpuPerPod.bridge)),
    agent_add_p50_ms: ms(median(r.addP50)),
    agent_add_p99_ms: ms(median(r.addP99)),
    agent_add_mean_ms: ms(median(r.addMean)),
    plugin_add_p50_ms: ms(percentile(plugin.addMs, 50)),
    plugin_add_p99_ms: ms(percentile(plugin.addMs, 99)),
    plugin_del_p50_ms: ms(percentile(plugin.delMs, 50)),
    plugin_del_p99_ms: ms(percentile(plugin.delMs, 99)),
    slice0_gbit_s: round(m.slice0, 2),
    eth0_gbit_s: round(m.eth0, 2),
    pods_per_batch: PODS,
    runs: RUNS,
    iperf_seconds: IPERF_SECONDS,
    total_seconds: round((performance.now() - started) / 1000),
    load_avg_1m_start: round(loadStart, 1),
    load_avg_1m_end: round(loadavg()[0]!, 1),
  };
  return [
    'cni',
    figures,
    [
      atMost('pod ready p50 vs bridge', round(m.sliceP50 / m.bridgeP50, 2), 1.5),
      atMost('pod ready p99 vs bridge', round(m.sliceP99 / m.bridgeP99, 2), 1.5),
      atLeast('slice0 throughput vs eth0', round(m.slice0 / m.eth0, 2), 0.9),
    ],
  ];
}

async function main(): Promise<void> {
  const started = performance.now();
  const lab = await Lab.up({ name: testLabName('nx'), clusters: 1, nodes: 2 });
  const onSignal = (): void => void lab.down().finally(() => process.exit(130));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  let summary: Parameters<typeof report>;
  try {
    summary = await measure(lab, started);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await lab.down();
  }
  report(...summary);
}

runBench('cni', main);
