/**
 * `npm run bench:control`: the control plane's costs, on a one-cluster lab (its API server is
 * the hub; member clusters are registered Clusters, as the controller sees nothing more).
 *
 * 1. Convergence from cold start: 200 SliceConfigs × 4 clusters exist before the controller
 *    starts; the time from its start until every SliceConfig has its VNI and blocks in status
 *    (observedGeneration current) and all 800 WorkerSlices exist; its peak RSS (VmHWM).
 *    Each run uses a fresh hub namespace and fresh clusters. Three runs.
 * 2. The pod webhook's added admission latency (200 pod creates at concurrency 20, with and
 *    without the webhook, interleaved) and where it goes: bench/webhook.ts. Five runs.
 *
 * Figures are medians. The last stdout line is the JSON summary.
 *
 * SLICENET_BENCH_CONTROL=webhook or =converge runs only that part (the goals of the other are
 * then left out); SLICENET_BENCH_WEBHOOK_CPU_PROF=<dir> runs the webhook under `--cpu-prof`;
 * SLICENET_BENCH_LAB names the lab (default benchctl).
 */
import { readFileSync } from 'node:fs';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '../lab/controlplane.ts';
import { Lab } from '../lab/lab.ts';
import { atMost, median, report, round, runBench, type Goal } from '../lib/bench.ts';
import { API_VERSION, GROUP, resources, VERSION, type SliceConfig, type WorkerSlice } from './api/types.ts';
import { OWNER_NAMESPACE_LABEL } from './hub/desired.ts';
import { pool } from './bench/pods.ts';
import { CONCURRENCY, webhookBench } from './bench/webhook.ts';
import { startLabController } from './lab.ts';
import { registerCluster } from './registration.ts';

const RUNS = 3;
const WEBHOOK_RUNS = 5;
const SLICES = 200;
const CLUSTERS = 4;
// A name of one's own keeps two runs on one machine from taking down each other's lab.
const LAB = process.env.SLICENET_BENCH_LAB || 'benchctl';
const PARTS = ['converge', 'webhook'] as const;

const say = (line: string): boolean => process.stderr.write(`${line}\n`);

function sliceConfig(namespace: string, i: number, clusters: string[]): SliceConfig {
  return {
    apiVersion: API_VERSION,
    kind: 'SliceConfig',
    metadata: { name: `s${i}`, namespace },
    spec: { subnet: `10.${i}.0.0/16`, maxClusters: CLUSTERS, clusters },
  };
}

async function converged(api: CustomObjectsApi, namespace: string): Promise<boolean> {
  const scs = (await api.listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: resources.SliceConfig.plural,
  })) as { items: SliceConfig[] };
  const done = scs.items.filter(
    (sc) =>
      sc.status?.vni !== undefined &&
      sc.status.clusters?.filter((c) => c.subnet).length === CLUSTERS &&
      sc.status.conditions?.every((c) => c.observedGeneration === sc.metadata.generation),
  );
  // Listing 800 WorkerSlices loads the API server the controller is using: only at the end.
  if (done.length < SLICES) return false;
  const ws = (await api.listClusterCustomObject({
    group: GROUP,
    version: VERSION,
    plural: resources.WorkerSlice.plural,
    labelSelector: `${OWNER_NAMESPACE_LABEL}=${namespace}`,
  })) as { items: WorkerSlice[] };
  return ws.items.length === SLICES * CLUSTERS;
}

/** Peak resident set of a process, from the kernel's high-water mark. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(m[1]) / 1024;
}

async function convergeRun(
  lab: Lab,
  kc: KubeConfig,
  run: number,
): Promise<{ seconds: number; rssMb: number }> {
  const namespace = `bench-r${run}`;
  await lab.kubectl('c1', ['create', 'namespace', namespace]);
  const clusters = Array.from({ length: CLUSTERS }, (_, k) => `r${run}-c${k + 1}`);
  for (const c of clusters) await registerCluster(kc, c, { hubNamespace: namespace });
  const api = kc.makeApiClient(CustomObjectsApi);
  const indexes = Array.from({ length: SLICES }, (_, i) => i);
  await pool(indexes, CONCURRENCY, async (i) => {
    await api.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: resources.SliceConfig.plural,
      body: sliceConfig(namespace, i, clusters),
    });
  });
  const t0 = performance.now();
  const proc = startLabController(lab, {
    hubCluster: 'c1',
    hubNamespace: namespace,
    probePort: 0,
    id: `controller-${run}`,
  });
  try {
    await waitFor(() => converged(api, namespace), 300_000, `${SLICES} slices × ${CLUSTERS} clusters`);
    return { seconds: (performance.now() - t0) / 1000, rssMb: peakRssMb(proc.pid) };
  } finally {
    await lab.processes.stop(proc.id);
  }
}

/** Which parts to run, from SLICENET_BENCH_CONTROL (unset: both). */
function parts(): Set<(typeof PARTS)[number]> {
  const v = process.env.SLICENET_BENCH_CONTROL;
  if (v === undefined || v === '') return new Set(PARTS);
  const part = PARTS.find((p) => p === v);
  if (!part)
    throw new Error(`SLICENET_BENCH_CONTROL: "${v}" is not one of ${PARTS.join(', ')}; unset it to run both`);
  return new Set([part]);
}

async function main(): Promise<void> {
  const run = parts();
  await Lab.down(LAB);
  const lab = await Lab.up({ name: LAB, clusters: 1, nodes: 1 });
  const stop = (): void => void lab.down().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  try {
    await lab.kubectl('c1', ['apply', '-f', 'crds']);
    await lab.kubectl('c1', ['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);
    const kc = lab.kubeConfig('c1');
    const figures: Record<string, number> = {};
    const goals: Goal[] = [];

    if (run.has('converge')) {
      const seconds: number[] = [];
      const rss: number[] = [];
      for (let i = 1; i <= RUNS; i++) {
        const r = await convergeRun(lab, kc, i);
        seconds.push(r.seconds);
        rss.push(r.rssMb);
        say(`run ${i}: converged in ${r.seconds.toFixed(1)} s, peak RSS ${r.rssMb.toFixed(0)} MB`);
      }
      figures.converge_seconds_200x4 = round(median(seconds));
      figures.controller_peak_rss_mb = round(median(rss), 0);
      figures.runs = RUNS;
      goals.push(
        atMost('converge 200 slices x 4 clusters (s)', figures.converge_seconds_200x4, 30),
        atMost('controller RSS (MB)', figures.controller_peak_rss_mb, 300),
      );
    }

    // The webhook comes second: its SliceConfig validation knows only the hub namespace's
    // Clusters and would refuse the convergence runs' slices.
    if (run.has('webhook')) {
      Object.assign(
        figures,
        await webhookBench(lab, kc, {
          runs: WEBHOOK_RUNS,
          cpuProfileDir: process.env.SLICENET_BENCH_WEBHOOK_CPU_PROF,
        }),
      );
      goals.unshift(atMost('webhook added admission latency p99 (ms)', figures.webhook_added_p99_ms!, 5));
    }
    report('control', figures, goals);
  } finally {
    process.off('SIGINT', stop);
    await lab.down();
  }
}

runBench('control', main);
