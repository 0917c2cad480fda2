/**
 * The bench's course:
 *
 *   remove stale labs → per path: topology, tunnel up, iperf3 server, first ping, WAN counters
 *   → rounds: every path (rotated order) ping ×N, iperf3 -P 1, iperf3 -P 4
 *   → per Slicenet path: read the WAN counters, one captured run → summary
 *   → stop every process by PID, delete every namespace (also on failure, SIGINT, SIGTERM
 *     and the 14-minute watchdog) → the JSON line, last on stdout.
 *
 * All paths stay up for the whole bench and are measured interleaved, round by round, so that
 * load from other work on the shared cores falls on every path alike rather than on whichever
 * path happened to run at that moment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessTable } from '../../lab/process.ts';
import { median, percentile, report, round } from '../../lib/bench.ts';
import type { BenchConfig, PathName } from './config.ts';
import { iperf, pingRtts, startIperfServer, waitReachable } from './measure.ts';
import { PATHS } from './paths/index.ts';
import type { BenchPath, PathContext } from './paths/path.ts';
import { medians, summarize, type PathRuns, type Results, type Summary, type WanCheck } from './summary.ts';
import { buildTopology, labName, removeLab, removeStaleLabs, type Topology } from './topology.ts';
import { armWanCounters, captureWan, readWanCounters } from './wan-check.ts';

const WATCHDOG_MS = 14 * 60_000;
const CAPTURE_SECONDS = 2;

const say = (line: string): boolean => process.stdout.write(`${line}\n`);
const fmt = (x: number, d = 3): string => x.toFixed(d);

interface Active {
  path: BenchPath;
  topo: Topology;
  runs: PathRuns;
}

export async function runGatewayBench(cfg: BenchConfig, repo: string): Promise<void> {
  const lab = labName();
  const dir = mkdtempSync(join(tmpdir(), 'sn-gb-'));
  const procs = new ProcessTable(dir);
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaning ??= (async () => {
      await procs.stopAll(3000);
      await removeLab(lab);
      rmSync(dir, { recursive: true, force: true });
    })());
  const abort = (why: string, code: number): void => {
    process.stderr.write(`bench:gateway: ${why}: stopping processes, deleting namespaces\n`);
    void cleanup().finally(() => process.exit(code));
  };
  const onSignal = (sig: NodeJS.Signals): void => abort(sig, 130);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => abort(`over ${WATCHDOG_MS / 60_000} minutes`, 1), WATCHDOG_MS);
  let summary: Summary;
  const loadStart = loadavg()[0]!;
  try {
    for (const stale of await removeStaleLabs()) say(`removed namespaces left by an earlier run: ${stale}-*`);
    const ctx: PathContext = { procs, dir, repo };
    const active: Active[] = [];
    for (const name of cfg.paths) active.push(await bringUp(PATHS[name], lab, ctx));
    for (let round = 0; round < cfg.runs; round++) {
      for (let i = 0; i < active.length; i++) {
        const a = active[(i + round) % active.length]!;
        await measureOnce(a, cfg);
        const r = a.runs;
        say(
          `run ${round + 1}/${cfg.runs} ${a.path.name.padEnd(27)} tcp1 ${fmt(r.tcp1.at(-1)!)} Gbit/s` +
            `  tcp4 ${fmt(r.tcp4.at(-1)!)} Gbit/s  rtt p50 ${fmt(r.rttP50.at(-1)!)} ms  p99 ${fmt(r.rttP99.at(-1)!)} ms`,
        );
      }
    }
    const wan: Partial<Record<PathName, WanCheck>> = {};
    for (const a of active.filter((x) => x.path.name.startsWith('slicenet-')))
      wan[a.path.name] = await checkWan(a, procs, dir);
    const results: Results = Object.fromEntries(active.map((a) => [a.path.name, a.runs]));
    summary = summarize(results, wan);
    // Everything here shares the machine's cores with whatever else runs: say how busy it was.
    Object.assign(summary.figures, {
      'host.cpus': availableParallelism(),
      'host.load1_start': round(loadStart, 2),
      'host.load1_end': round(loadavg()[0]!, 2),
    });
    say('');
    say(
      `host: ${availableParallelism()} CPUs, 1-minute load average ${fmt(loadStart, 1)} at the start, ` +
        `${fmt(loadavg()[0]!, 1)} at the end`,
    );
    for (const a of active) {
      const m = medians(a.runs);
      say(
        `${a.path.name.padEnd(27)} tcp1 ${fmt(m.tcp1)} Gbit/s  tcp4 ${fmt(m.tcp4)} Gbit/s  rtt p50 ` +
          `${fmt(m.rttP50)} ms  p99 ${fmt(m.rttP99)} ms   (${a.path.label})`,
      );
    }
    for (const g of summary.goals)
      say(`goal ${g.name}: ${g.value} (goal ${g.goal}) ${g.met ? 'met' : 'NOT met'}`);
  } finally {
    clearTimeout(watchdog);
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  report('gateway', summary.figures, summary.goals);
}

async function bringUp(path: BenchPath, lab: string, ctx: PathContext): Promise<Active> {
  const started = Date.now();
  const topo = await buildTopology(lab, path.tag, path.layout);
  await path.up(topo, ctx);
  await startIperfServer(topo, ctx.procs, `${path.name}-iperf3`);
  await waitReachable(topo, path.name);
  if (path.name.startsWith('slicenet-')) await armWanCounters(topo);
  say(`up: ${path.name} (${path.label}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { path, topo, runs: { tcp1: [], tcp4: [], rttP50: [], rttP99: [] } };
}

async function measureOnce(a: Active, cfg: BenchConfig): Promise<void> {
  const rtts = await pingRtts(a.topo, cfg.pings);
  a.runs.rttP50.push(median(rtts));
  a.runs.rttP99.push(percentile(rtts, 99));
  a.runs.tcp1.push(await iperf(a.topo, 1, cfg.seconds));
  a.runs.tcp4.push(await iperf(a.topo, 4, cfg.seconds));
}

async function checkWan(a: Active, procs: ProcessTable, dir: string): Promise<WanCheck> {
  const counters = await readWanCounters(a.topo);
  const capture = await captureWan(a.topo, procs, dir, `${a.path.name}-tcpdump`, () =>
    iperf(a.topo, 4, CAPTURE_SECONDS),
  );
  if (counters.packets === 0 || capture.packets === 0)
    throw new Error(
      `${a.path.name}: the WAN check saw no packets (counters ${counters.packets}, capture ${capture.packets})`,
    );
  say(
    `wan ${a.path.name}: counters ${counters.packets} packets, ${counters.over} over 1500, ` +
      `${counters.fragments} fragments; capture ${capture.packets} packets, ${capture.over} over 1500, ` +
      `${capture.fragments} fragments (${capture.droppedByKernel} dropped by the kernel)`,
  );
  return { counters, capture };
}
