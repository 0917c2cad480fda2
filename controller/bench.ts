/**
 * `npm run bench:control`: the control plane's costs, on a one-cluster lab (its API server is
 * the hub; member clusters are registered Clusters, as the controller sees nothing more).
 *
 * 1. Convergence from cold start: 200 SliceConfigs × 4 clusters exist before the controller
 *    starts; the time from its start until every SliceConfig has its VNI and blocks in status
 *    (observedGeneration current) and all 800 WorkerSlices exist; its peak RSS (VmHWM).
 *    Each run uses a fresh hub namespace and fresh clusters.
 * 2. The pod webhook's added admission latency: 200 pod creates at concurrency 20 through the
 *    real API server into a joined namespace (the webhook is called) and 200 into a plain one
 *    (it is not: its namespaceSelector), interleaved request by request; pods are bound to a
 *    node that does not exist, so only admission and storage are timed.
 *    Added = p(joined) − p(plain), per run. Both sides carry the API server's own queueing and
 *    etcd writes (hundreds of ms at p99 on two shared cores), so the difference is noisy; the
 *    API server's own timing of the webhook call (`apiserver_admission_webhook_admission_duration_seconds`,
 *    read before and after each run) is reported beside it as the quieter figure.
 *
 * Three runs of each; figures are medians. The last stdout line is the JSON summary.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '../lab/controlplane.ts';
import { runRaw } from '../lib/exec.ts';
import { Lab } from '../lab/lab.ts';
import { atMost, median, percentile, report, round, runBench } from '../lib/bench.ts';
import { SLICE_LABEL, SYSTEM_NAMESPACE } from './api/names.ts';
import { API_VERSION, GROUP, resources, VERSION, type SliceConfig, type WorkerSlice } from './api/types.ts';
import { OWNER_NAMESPACE_LABEL } from './hub/desired.ts';
import { startLabController } from './lab.ts';
import { registerCluster } from './registration.ts';
import { startLabWebhook } from '../webhooks/lab.ts';

const RUNS = 3;
const SLICES = 200;
const CLUSTERS = 4;
const PODS = 200;
const CONCURRENCY = 20;
const LAB = 'benchctl';

const say = (line: string): boolean => process.stderr.write(`${line}\n`);

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: n }, worker));
}

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

/**
 * Create latencies (ms) of PODS pods in each of `namespaces`, CONCURRENCY at a time, the
 * namespaces alternating request by request so that the machine's noise falls on both alike.
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
  for (const namespace of namespaces)
    await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 });
  return latencies;
}

/** The webhook's own counts: admission requests answered and TLS connections accepted. */
async function webhookCounts(lab: Lab): Promise<{ requests: number; connections: number }> {
  const { ip, netns } = lab.cluster('c1').controlPlane;
  const r = await runRaw(['curl', '-sf', `http://${ip}:8081/metrics`], { netns });
  if (r.exitCode !== 0) throw new Error(`webhook /metrics: ${r.stderr}`);
  const sum = (re: RegExp): number => [...r.stdout.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  return {
    requests: sum(/^slicenet_webhook_requests_total\{[^}]*webhook="[^"]*pods[^"]*"[^}]*\} (\S+)$/gm),
    connections: sum(/^slicenet_webhook_tls_connections_total (\S+)$/gm),
  };
}

/** Cumulative bucket counts of the API server's timing of calls to the pod webhook, by `le`. */
async function webhookCallBuckets(lab: Lab): Promise<Map<number, number>> {
  const stdout = await lab.kubectl('c1', ['get', '--raw', '/metrics']);
  const buckets = new Map<number, number>();
  const re = /^apiserver_admission_webhook_admission_duration_seconds_bucket\{([^}]*)\} (\S+)$/gm;
  for (const [, labels, value] of stdout.matchAll(re)) {
    if (!labels!.includes('name="pods.slicenet.dev"')) continue;
    const le = /le="([^"]+)"/.exec(labels!)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(value));
  }
  return buckets;
}

/**
 * The q-quantile (0–1) of the calls between two bucket snapshots, interpolated linearly inside
 * its bucket as Prometheus's histogram_quantile does; in ms.
 */
function bucketQuantileMs(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const count = (le: number): number => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const total = count(Infinity);
  if (total === 0) throw new Error('the API server timed no call to the pod webhook');
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

async function main(): Promise<void> {
  await Lab.down(LAB);
  const lab = await Lab.up({ name: LAB, clusters: 1, nodes: 1 });
  const stop = (): void => void lab.down().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  try {
    await lab.kubectl('c1', ['apply', '-f', 'crds']);
    await lab.kubectl('c1', ['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);
    const kc = lab.kubeConfig('c1');

    const seconds: number[] = [];
    const rss: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const r = await convergeRun(lab, kc, run);
      seconds.push(r.seconds);
      rss.push(r.rssMb);
      say(`run ${run}: converged in ${r.seconds.toFixed(1)} s, peak RSS ${r.rssMb.toFixed(0)} MB`);
    }

    // The webhook comes second: its SliceConfig validation knows only the hub namespace's
    // Clusters and would refuse the convergence runs' slices.
    await lab.kubectl('c1', ['create', 'namespace', SYSTEM_NAMESPACE]);
    await startLabWebhook(lab, 'c1', { namespace: SYSTEM_NAMESPACE });
    await lab.kubectl('c1', ['create', 'namespace', 'joined']);
    await lab.kubectl('c1', ['label', 'namespace', 'joined', `${SLICE_LABEL}=bench`]);
    await lab.kubectl('c1', ['create', 'namespace', 'plain']);
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
    await podCreates(core, ['plain', 'joined'], 'warm');
    await sleep(1000);
    const added = { p50: [] as number[], p99: [] as number[] };
    const raw = { plainP99: [] as number[], joinedP99: [] as number[] };
    const call = { p50: [] as number[], p99: [] as number[] };
    for (let run = 1; run <= RUNS; run++) {
      const before = await webhookCallBuckets(lab);
      const countsBefore = await webhookCounts(lab);
      const byNs = await podCreates(core, ['plain', 'joined'], `r${run}`);
      const after = await webhookCallBuckets(lab);
      const countsAfter = await webhookCounts(lab);
      const calls = countsAfter.requests - countsBefore.requests;
      const handshakes = countsAfter.connections - countsBefore.connections;
      say(`run ${run}: ${calls} webhook calls over ${handshakes} new TLS connections`);
      call.p50.push(bucketQuantileMs(before, after, 0.5));
      call.p99.push(bucketQuantileMs(before, after, 0.99));
      const plain = byNs.get('plain')!;
      const joined = byNs.get('joined')!;
      added.p50.push(percentile(joined, 50) - percentile(plain, 50));
      added.p99.push(percentile(joined, 99) - percentile(plain, 99));
      raw.plainP99.push(percentile(plain, 99));
      raw.joinedP99.push(percentile(joined, 99));
      say(
        `run ${run}: pod create p50 ${percentile(plain, 50).toFixed(1)} → ${percentile(joined, 50).toFixed(1)} ms, ` +
          `p99 ${percentile(plain, 99).toFixed(1)} → ${percentile(joined, 99).toFixed(1)} ms (plain → joined); ` +
          `API server's webhook call p50 ${call.p50.at(-1)!.toFixed(2)} ms, p99 ${call.p99.at(-1)!.toFixed(2)} ms`,
      );
    }

    const figures = {
      converge_seconds_200x4: round(median(seconds)),
      controller_peak_rss_mb: round(median(rss), 0),
      webhook_added_p50_ms: round(median(added.p50), 2),
      webhook_added_p99_ms: round(median(added.p99), 2),
      pod_create_p99_ms_without_webhook: round(median(raw.plainP99)),
      pod_create_p99_ms_with_webhook: round(median(raw.joinedP99)),
      apiserver_webhook_call_p50_ms: round(median(call.p50), 2),
      apiserver_webhook_call_p99_ms: round(median(call.p99), 2),
      runs: RUNS,
    };
    report('control', figures, [
      atMost('webhook added admission latency p99 (ms)', figures.webhook_added_p99_ms, 5),
      atMost('converge 200 slices x 4 clusters (s)', figures.converge_seconds_200x4, 30),
      atMost('controller RSS (MB)', figures.controller_peak_rss_mb, 300),
    ]);
  } finally {
    process.off('SIGINT', stop);
    await lab.down();
  }
}

runBench('control', main);
