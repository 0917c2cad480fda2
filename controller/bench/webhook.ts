/**
 * bench:control's webhook part: the pod webhook's added admission latency, and where it goes.
 *
 * Added latency: PODS pod creates at CONCURRENCY through the real API server into a joined
 * namespace (the webhook is called) and PODS into a plain one (its namespaceSelector skips the
 * call), interleaved request by request so that the machine's noise falls on both alike. Pods
 * are bound to a node that does not exist, so only admission and storage are timed.
 * Added = p(joined) − p(plain) at the same percentile, per run; figures are medians of the runs.
 *
 * Where it goes, read before and after every run:
 * - the API server's own timing of the webhook call (`apiserver_admission_webhook_admission_duration_seconds`:
 *   encoding the review, the HTTPS round trip, decoding and applying the patch);
 * - the webhook's own handling time (`slicenet_webhook_duration_seconds`: body read to answer);
 * - the TLS connections the webhook accepted (a handshake per call would show as many as calls);
 * - the webhook's event-loop delay (prom-client's 10 ms timer, late by how long the process
 *   waited for a core or for other work): what a request arriving meanwhile waits before it is read;
 * - CPU from /proc: the API server, etcd, the webhook, the lab's forwarder, this process, and the
 *   whole machine. On two shared cores the creates saturate them, and every wake-up a webhook
 *   call adds (the webhook reading the request, the API server reading the answer) then waits
 *   for a core behind everyone else.
 * And without queueing: SEQUENTIAL creates one at a time, in blocks of plain and of joined, for
 * the added latency of an uncontended call and the CPU a call costs the API server and the
 * webhook (CPU per block / creates).
 */
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { processId, waitFor } from '../../lab/controlplane.ts';
import type { Lab } from '../../lab/lab.ts';
import { median, percentile, round } from '../../lib/bench.ts';
import { runRaw } from '../../lib/exec.ts';
import { startLabWebhook, webhookProcessId } from '../../webhooks/lab.ts';
import { SLICE_LABEL, SYSTEM_NAMESPACE } from '../api/names.ts';
import { PodPoster } from './pods.ts';
import { machineJiffies } from '../../lib/bench.ts';
import { bucketQuantileMs, cpuSeconds, histogram, sumOf, type Buckets } from './readings.ts';

const PODS = 200;
export const CONCURRENCY = 20;
const SEQUENTIAL = 100;
const CLUSTER = 'c1';
const NAMESPACES = ['plain', 'joined'];
/** prom-client's event-loop monitor interval (its default eventLoopMonitoringPrecision). */
const LOOP_TIMER_MS = 10;

const say = (line: string): boolean => process.stderr.write(`${line}\n`);

interface Cpu {
  apiserver: number;
  etcd: number;
  forwarder: number;
  webhook: number;
  bench: number;
  machine: { busy: number; total: number };
  at: number;
}

interface Scrape {
  apiserverCall: Buckets;
  handler: Buckets;
  calls: number;
  connections: number;
  /** The webhook's event-loop delay percentiles since the previous scrape (prom-client resets them), ms. */
  loopDelayP50: number;
  loopDelayP99: number;
}

function cpu(lab: Lab): Cpu {
  const of = (id: string): number => {
    const r = lab.processes.get(id);
    if (!r) throw new Error(`no lab process ${id}`);
    return cpuSeconds(r.pid);
  };
  const own = process.cpuUsage();
  return {
    apiserver: of(processId(CLUSTER, 'apiserver')),
    etcd: of(processId(CLUSTER, 'etcd')),
    forwarder: of(processId(CLUSTER, 'forwarder')),
    webhook: of(webhookProcessId(CLUSTER)),
    bench: (own.user + own.system) / 1e6,
    machine: machineJiffies(),
    at: performance.now(),
  };
}

async function scrape(lab: Lab): Promise<Scrape> {
  const { ip, netns } = lab.cluster(CLUSTER).controlPlane;
  const [apiPage, hook] = await Promise.all([
    lab.kubectl(CLUSTER, ['get', '--raw', '/metrics']),
    runRaw(['curl', '-sf', `http://${ip}:8081/metrics`], { netns }),
  ]);
  if (hook.exitCode !== 0) throw new Error(`webhook /metrics: ${hook.stderr}`);
  return {
    apiserverCall: histogram(
      apiPage,
      'apiserver_admission_webhook_admission_duration_seconds',
      'name="pods.slicenet.dev"',
    ),
    handler: histogram(hook.stdout, 'slicenet_webhook_duration_seconds', 'webhook="mutate-pods"'),
    calls: sumOf(hook.stdout, /^slicenet_webhook_requests_total\{[^}]*webhook="mutate-pods"[^}]*\} (\S+)$/gm),
    connections: sumOf(hook.stdout, /^slicenet_webhook_tls_connections_total (\S+)$/gm),
    // The histogram records each whole interval of its 10 ms timer: the delay is what exceeds it.
    loopDelayP50: sumOf(hook.stdout, /^nodejs_eventloop_lag_p50_seconds (\S+)$/gm) * 1000 - LOOP_TIMER_MS,
    loopDelayP99: sumOf(hook.stdout, /^nodejs_eventloop_lag_p99_seconds (\S+)$/gm) * 1000 - LOOP_TIMER_MS,
  };
}

/** Per-process CPU between two readings, in % of one core. */
function cpuPct(
  a: Cpu,
  b: Cpu,
): Record<'apiserver' | 'etcd' | 'forwarder' | 'webhook' | 'bench' | 'machine', number> {
  const s = (b.at - a.at) / 1000;
  const pct = (k: 'apiserver' | 'etcd' | 'forwarder' | 'webhook' | 'bench'): number =>
    ((b[k] - a[k]) / s) * 100;
  return {
    apiserver: pct('apiserver'),
    etcd: pct('etcd'),
    forwarder: pct('forwarder'),
    webhook: pct('webhook'),
    bench: pct('bench'),
    // Of the whole machine, all cores.
    machine: ((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * 100,
  };
}

class Series {
  private readonly values: Record<string, number[]> = {};

  add(name: string, value: number): number {
    (this.values[name] ??= []).push(value);
    return value;
  }

  last(name: string, digits = 1): string {
    return this.values[name]!.at(-1)!.toFixed(digits);
  }

  median(name: string, digits = 2): number {
    return round(median(this.values[name]!), digits);
  }
}

export interface WebhookOptions {
  runs: number;
  /** Runs the webhook under `node --cpu-prof`, the profile written into this folder when it stops. */
  cpuProfileDir?: string;
}

/** Starts the webhook in the lab's c1 and measures it. */
export async function webhookBench(
  lab: Lab,
  kc: KubeConfig,
  o: WebhookOptions,
): Promise<Record<string, number>> {
  await lab.kubectl(CLUSTER, ['create', 'namespace', SYSTEM_NAMESPACE]);
  const nodeOptions = o.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfileDir] : [];
  await startLabWebhook(lab, CLUSTER, { namespace: SYSTEM_NAMESPACE, nodeOptions });
  await lab.kubectl(CLUSTER, ['create', 'namespace', 'joined']);
  await lab.kubectl(CLUSTER, ['label', 'namespace', 'joined', `${SLICE_LABEL}=bench`]);
  await lab.kubectl(CLUSTER, ['create', 'namespace', 'plain']);
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    async () => {
      const p = await core.createNamespacedPod({
        namespace: 'joined',
        dryRun: 'All',
        body: { metadata: { name: 'probe' }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      });
      return p.metadata?.labels?.[SLICE_LABEL] === 'bench';
    },
    30_000,
    'the API server to call the webhook',
  );
  const clean = async (): Promise<void> => {
    for (const namespace of NAMESPACES)
      await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 });
    await sleep(1000);
  };
  const poster = await PodPoster.of(kc, CONCURRENCY);
  const series = new Series();
  const load = loadavg()[0]!;
  try {
    await poster.creates(NAMESPACES, 'warm', { pods: PODS, concurrency: CONCURRENCY });
    await clean();
    for (let run = 1; run <= o.runs; run++) {
      await concurrentRun(lab, poster, series, run);
      await clean();
    }
    for (let run = 1; run <= o.runs; run++) await sequentialRun(lab, poster, series, run);
  } finally {
    poster.close();
  }
  if (o.cpuProfileDir) {
    // The profile is written when the process exits.
    await lab.processes.stop(webhookProcessId(CLUSTER), 15_000);
    say(`webhook CPU profile in ${o.cpuProfileDir}`);
  }
  const m = series.median.bind(series);
  return {
    webhook_added_p50_ms: m('added_p50'),
    webhook_added_p99_ms: m('added_p99'),
    pod_create_p50_ms_without_webhook: m('plain_p50', 1),
    pod_create_p50_ms_with_webhook: m('joined_p50', 1),
    pod_create_p99_ms_without_webhook: m('plain_p99', 1),
    pod_create_p99_ms_with_webhook: m('joined_p99', 1),
    apiserver_webhook_call_p50_ms: m('call_p50'),
    apiserver_webhook_call_p99_ms: m('call_p99'),
    webhook_handler_p50_ms: m('handler_p50'),
    webhook_handler_p99_ms: m('handler_p99'),
    webhook_cpu_ms_per_call: m('webhook_cpu_per_call', 3),
    webhook_calls_per_tls_connection: m('calls_per_connection', 1),
    webhook_event_loop_delay_p50_ms: m('loop_delay_p50'),
    webhook_event_loop_delay_p99_ms: m('loop_delay_p99'),
    machine_busy_pct_during_creates: m('machine_pct', 0),
    apiserver_cpu_pct: m('apiserver_pct', 0),
    etcd_cpu_pct: m('etcd_pct', 0),
    webhook_cpu_pct: m('webhook_pct', 0),
    forwarder_cpu_pct: m('forwarder_pct', 0),
    bench_client_cpu_pct: m('bench_pct', 0),
    sequential_webhook_added_p50_ms: m('seq_added_p50'),
    sequential_apiserver_cpu_ms_per_create_without_webhook: m('seq_apiserver_plain', 3),
    sequential_apiserver_cpu_ms_per_create_with_webhook: m('seq_apiserver_joined', 3),
    sequential_webhook_cpu_ms_per_call: m('seq_webhook_per_call', 3),
    load_average_1m_at_start: round(load, 2),
    load_average_1m_at_end: round(loadavg()[0]!, 2),
    webhook_runs: o.runs,
  };
}

/** PODS creates into each namespace at CONCURRENCY, interleaved. */
async function concurrentRun(lab: Lab, poster: PodPoster, series: Series, run: number): Promise<void> {
  const s0 = await scrape(lab);
  const c0 = cpu(lab);
  const byNs = await poster.creates(NAMESPACES, `r${run}`, { pods: PODS, concurrency: CONCURRENCY });
  const c1 = cpu(lab);
  const s1 = await scrape(lab);
  const plain = byNs.get('plain')!;
  const joined = byNs.get('joined')!;
  for (const p of [50, 99]) {
    series.add(`plain_p${p}`, percentile(plain, p));
    series.add(`joined_p${p}`, percentile(joined, p));
    series.add(`added_p${p}`, percentile(joined, p) - percentile(plain, p));
    const q = p / 100;
    series.add(
      `call_p${p}`,
      bucketQuantileMs(s0.apiserverCall, s1.apiserverCall, q, 'the API server timing the webhook'),
    );
    series.add(`handler_p${p}`, bucketQuantileMs(s0.handler, s1.handler, q, 'the webhook timing itself'));
  }
  const calls = s1.calls - s0.calls;
  const connections = s1.connections - s0.connections;
  series.add('webhook_cpu_per_call', ((c1.webhook - c0.webhook) * 1000) / calls);
  series.add('calls_per_connection', calls / Math.max(1, connections));
  series.add('loop_delay_p50', s1.loopDelayP50);
  series.add('loop_delay_p99', s1.loopDelayP99);
  const pct = cpuPct(c0, c1);
  for (const [k, v] of Object.entries(pct)) series.add(`${k}_pct`, v);
  const l = series.last.bind(series);
  say(
    `webhook run ${run}: ${calls} calls over ${connections} new TLS connections; ` +
      `create p50 ${l('plain_p50')} → ${l('joined_p50')} ms, p99 ${l('plain_p99')} → ${l('joined_p99')} ms (plain → joined); ` +
      `API server's call p50 ${l('call_p50')} p99 ${l('call_p99')} ms; handler p50 ${l('handler_p50', 2)} p99 ${l('handler_p99', 2)} ms; ` +
      `webhook ${l('webhook_cpu_per_call', 2)} ms CPU per call, event-loop delay p50 ${l('loop_delay_p50')} p99 ${l('loop_delay_p99')} ms; machine ${pct.machine.toFixed(0)} % busy ` +
      `(of one core: apiserver ${pct.apiserver.toFixed(0)} %, etcd ${pct.etcd.toFixed(0)} %, webhook ${pct.webhook.toFixed(0)} %, ` +
      `forwarder ${pct.forwarder.toFixed(0)} %, bench client ${pct.bench.toFixed(0)} %)`,
  );
}

/** SEQUENTIAL creates one at a time into each namespace, a block each, the order alternating by run. */
async function sequentialRun(lab: Lab, poster: PodPoster, series: Series, run: number): Promise<void> {
  const order = run % 2 ? NAMESPACES : [...NAMESPACES].reverse();
  const p50: Record<string, number> = {};
  for (const namespace of order) {
    const c0 = cpu(lab);
    const latencies = (
      await poster.creates([namespace], `s${run}`, { pods: SEQUENTIAL, concurrency: 1 })
    ).get(namespace)!;
    const c1 = cpu(lab);
    p50[namespace] = percentile(latencies, 50);
    series.add(`seq_apiserver_${namespace}`, ((c1.apiserver - c0.apiserver) * 1000) / SEQUENTIAL);
    if (namespace === 'joined')
      series.add('seq_webhook_per_call', ((c1.webhook - c0.webhook) * 1000) / SEQUENTIAL);
  }
  series.add('seq_added_p50', p50.joined! - p50.plain!);
  const l = series.last.bind(series);
  say(
    `sequential run ${run}: create p50 ${p50.plain!.toFixed(2)} → ${p50.joined!.toFixed(2)} ms (plain → joined); ` +
      `API server CPU per create ${l('seq_apiserver_plain', 2)} → ${l('seq_apiserver_joined', 2)} ms; ` +
      `webhook CPU per call ${l('seq_webhook_per_call', 2)} ms`,
  );
}
