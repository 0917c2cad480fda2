/**
 * bench:control's webhook part: the pod webhook's added admission latency, and where it goes.
 *
 * Method: PODS pod creates at CONCURRENCY through the real API server, into a joined namespace
 * (the webhook is called) and a plain one (its namespaceSelector skips the call), interleaved
 * request by request so that the machine's noise falls on both alike. Pods are bound to a node
 * that does not exist, so only admission and storage are timed. Added = p(joined) − p(plain)
 * at the same percentile, per run; the figures are medians over the runs.
 *
 * Beside it, to say where the time goes (each read before and after every run):
 * - the API server's own timing of the webhook call (`apiserver_admission_webhook_admission_duration_seconds`);
 * - the webhook's own handling time (`slicenet_webhook_duration_seconds`: body read to answer);
 * - the webhook's CPU per call (`process_cpu_seconds_total`, TLS and HTTP included) and the
 *   TLS connections it accepted (a handshake per call would show as many as calls);
 * - the CPU of the API server, etcd, the webhook and this process, and how busy the machine's
 *   cores were: on two shared cores the creates saturate them, and every millisecond of CPU a
 *   webhook call adds anywhere then waits behind everyone else's.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { processId, waitFor } from '../../lab/controlplane.ts';
import type { Lab } from '../../lab/lab.ts';
import { median, percentile, round } from '../../lib/bench.ts';
import { runRaw } from '../../lib/exec.ts';
import { startLabWebhook, webhookProcessId } from '../../webhooks/lab.ts';
import { SLICE_LABEL, SYSTEM_NAMESPACE } from '../api/names.ts';

const PODS = 200;
export const CONCURRENCY = 20;
const CLUSTER = 'c1';

const say = (line: string): boolean => process.stderr.write(`${line}\n`);

/** Runs `fn` over `items` with at most `n` in flight. */
export async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: n }, worker));
}

/**
 * Create latencies (ms) of PODS pods in each of `namespaces`, CONCURRENCY at a time, the
 * namespaces alternating request by request.
 */
async function podCreates(
  core: CoreV1Api,
  namespaces: string[],
  tag: string,
): Promise<Map<string, number[]>> {
  const latencies = new Map(namespaces.map((ns) => [ns, [] as number[]]));
  const creates = Array.from({ length: PODS * namespaces.length }, (_, i) => ({
    namespace: namespaces[i % namespaces.length]!,
    name: `${tag}-${Math.floor(i / namespaces.length)}`,
  }));
  await pool(creates, CONCURRENCY, async ({ namespace, name }) => {
    const t0 = performance.now();
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name, namespace },
        spec: { nodeName: 'nowhere', containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1'] }] },
      },
    });
    latencies.get(namespace)!.push(performance.now() - t0);
  });
  return latencies;
}

type Buckets = Map<number, number>;

/** Cumulative bucket counts of histogram `metric` in a Prometheus text page, summed over the series whose labels include `match`. */
function histogram(page: string, metric: string, match: string): Buckets {
  const buckets: Buckets = new Map();
  const re = new RegExp(`^${metric}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const [, labels, value] of page.matchAll(re)) {
    if (!labels!.includes(match)) continue;
    const le = /le="([^"]+)"/.exec(labels!)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(value));
  }
  return buckets;
}

/**
 * The q-quantile (0–1) of the observations between two bucket snapshots, interpolated linearly
 * inside its bucket as Prometheus's histogram_quantile does; in ms.
 */
function bucketQuantileMs(before: Buckets, after: Buckets, q: number, what: string): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const count = (le: number): number => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const total = count(Infinity);
  if (total === 0) throw new Error(`no observation of ${what} in this run`);
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const c = count(le);
    if (c >= q * total) {
      if (le === Infinity) return lower * 1000;
      return (lower + ((le - lower) * (q * total - below)) / Math.max(1, c - below)) * 1000;
    }
    lower = le;
    below = c;
  }
  return lower * 1000;
}

const sumOf = (page: string, re: RegExp): number =>
  [...page.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Busy and total jiffies of the whole machine, from the first line of /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  const [, ...f] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = f.map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: total - n[3]! - n[4]!, total };
}

/** Everything read before and after a run. */
interface Snapshot {
  apiserverCall: Buckets;
  handler: Buckets;
  calls: number;
  connections: number;
  webhookCpu: number;
  apiserverCpu: number;
  etcdCpu: number;
  benchCpu: number;
  machine: { busy: number; total: number };
  at: number;
}

async function snapshot(lab: Lab): Promise<Snapshot> {
  const { ip, netns } = lab.cluster(CLUSTER).controlPlane;
  const [apiPage, hook] = await Promise.all([
    lab.kubectl(CLUSTER, ['get', '--raw', '/metrics']),
    runRaw(['curl', '-sf', `http://${ip}:8081/metrics`], { netns }),
  ]);
  if (hook.exitCode !== 0) throw new Error(`webhook /metrics: ${hook.stderr}`);
  const pidOf = (id: string): number => {
    const r = lab.processes.get(id);
    if (!r) throw new Error(`no lab process ${id}`);
    return r.pid;
  };
  const own = process.cpuUsage();
  return {
    apiserverCall: histogram(
      apiPage,
      'apiserver_admission_webhook_admission_duration_seconds',
      'name="pods.slicenet.dev"',
    ),
    handler: histogram(hook.stdout, 'slicenet_webhook_duration_seconds', 'webhook="mutate-pods"'),
    calls: sumOf(hook.stdout, /^slicenet_webhook_requests_total\{[^}]*webhook="mutate-pods"[^}]*\} (\S+)$/gm),
    connections: sumOf(hook.stdout, /^slicenet_webhook_tls_connections_total (\S+)$/gm),
    webhookCpu: sumOf(hook.stdout, /^process_cpu_seconds_total (\S+)$/gm),
    apiserverCpu: cpuSeconds(pidOf(processId(CLUSTER, 'apiserver'))),
    etcdCpu: cpuSeconds(pidOf(processId(CLUSTER, 'etcd'))),
    benchCpu: (own.user + own.system) / 1e6,
    machine: machineJiffies(),
    at: performance.now(),
  };
}

export interface WebhookOptions {
  runs: number;
  /** Runs the webhook under `node --cpu-prof`, the profile written into this folder when it stops. */
  cpuProfileDir?: string;
}

/** Starts the webhook in the lab's c1 and measures it; the figures are medians over the runs. */
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
  const namespaces = ['plain', 'joined'];
  const clean = async (): Promise<void> => {
    for (const namespace of namespaces)
      await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 });
  };
  await podCreates(core, namespaces, 'warm');
  await clean();
  await sleep(1000);

  const series: Record<string, number[]> = {};
  const add = (name: string, value: number): number => ((series[name] ??= []).push(value), value);
  const load = loadavg()[0]!;
  for (let run = 1; run <= o.runs; run++) {
    const before = await snapshot(lab);
    const byNs = await podCreates(core, namespaces, `r${run}`);
    const after = await snapshot(lab);
    await clean();
    const plain = byNs.get('plain')!;
    const joined = byNs.get('joined')!;
    const calls = after.calls - before.calls;
    const seconds = (after.at - before.at) / 1000;
    const busy = (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total);
    const cpuPct = (k: 'apiserverCpu' | 'etcdCpu' | 'webhookCpu' | 'benchCpu'): number =>
      add(`${k}_pct`, ((after[k] - before[k]) / seconds) * 100);
    for (const p of [50, 99]) {
      add(`plain_p${p}`, percentile(plain, p));
      add(`joined_p${p}`, percentile(joined, p));
      add(`added_p${p}`, percentile(joined, p) - percentile(plain, p));
      add(
        `call_p${p}`,
        bucketQuantileMs(
          before.apiserverCall,
          after.apiserverCall,
          p / 100,
          'the API server timing the webhook',
        ),
      );
      add(
        `handler_p${p}`,
        bucketQuantileMs(before.handler, after.handler, p / 100, 'the webhook timing itself'),
      );
    }
    add('cpu_ms_per_call', ((after.webhookCpu - before.webhookCpu) * 1000) / calls);
    add('calls_per_connection', calls / Math.max(1, after.connections - before.connections));
    add('machine_busy_pct', busy * 100);
    const s = (name: string): string => series[name]!.at(-1)!.toFixed(1);
    say(
      `webhook run ${run}: ${calls} calls over ${after.connections - before.connections} new TLS connections; ` +
        `create p50 ${s('plain_p50')} → ${s('joined_p50')} ms, p99 ${s('plain_p99')} → ${s('joined_p99')} ms (plain → joined); ` +
        `API server's call p50 ${s('call_p50')} p99 ${s('call_p99')} ms; handler p50 ${s('handler_p50')} p99 ${s('handler_p99')} ms; ` +
        `webhook ${series.cpu_ms_per_call!.at(-1)!.toFixed(2)} ms CPU per call; machine ${s('machine_busy_pct')} % busy ` +
        `(apiserver ${cpuPct('apiserverCpu').toFixed(0)} %, etcd ${cpuPct('etcdCpu').toFixed(0)} %, ` +
        `webhook ${cpuPct('webhookCpu').toFixed(0)} %, bench client ${cpuPct('benchCpu').toFixed(0)} % of a core)`,
    );
  }
  if (o.cpuProfileDir) {
    // The profile is written when the process exits.
    await lab.processes.stop(webhookProcessId(CLUSTER), 15_000);
    say(`webhook CPU profile in ${o.cpuProfileDir}`);
  }
  const m = (name: string, digits = 2): number => round(median(series[name]!), digits);
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
    webhook_cpu_ms_per_call: m('cpu_ms_per_call', 3),
    webhook_calls_per_tls_connection: m('calls_per_connection', 1),
    machine_busy_pct_during_creates: m('machine_busy_pct', 0),
    apiserver_cpu_pct: m('apiserverCpu_pct', 0),
    etcd_cpu_pct: m('etcdCpu_pct', 0),
    webhook_cpu_pct: m('webhookCpu_pct', 0),
    bench_client_cpu_pct: m('benchCpu_pct', 0),
    load_average_1m_at_start: round(load, 2),
    webhook_runs: o.runs,
  };
}
