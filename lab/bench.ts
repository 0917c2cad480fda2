/**
 * `npm run bench:lab`: how long the lab takes to come up, and how long a pod takes from
 * create to Running with all its NICs (Multus network-status lists eth0 and net1), for 50
 * pods per run. Three runs; the figures are medians. Later issues compare Slicenet's own
 * attach latency against this baseline. The last stdout line is the JSON summary.
 */
import { CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { median, percentile, report, runBench } from '../lib/bench.ts';
import { Lab } from './lab.ts';
import { bridgeNad, sleeperPod } from './demo.ts';

const RUNS = 3;
const PODS = 50;
const NS = 'bench';

function hasAllNics(pod: V1Pod): boolean {
  const raw = pod.metadata?.annotations?.['k8s.v1.cni.cncf.io/network-status'];
  if (pod.status?.phase !== 'Running' || !raw) return false;
  const ifaces = (JSON.parse(raw) as { interface?: string }[]).map((s) => s.interface);
  return ifaces.includes('eth0') && ifaces.includes('net1');
}

async function podLatencies(lab: Lab): Promise<number[]> {
  const cluster = lab.plan.clusters[0]!;
  await lab.kubectl(cluster.name, ['create', 'namespace', NS]);
  await lab.kubectl(cluster.name, ['apply', '-f', '-'], JSON.stringify(bridgeNad(lab, NS)));
  const kc = lab.kubeConfig(cluster.name);
  const created = new Map<string, number>();
  const latencies = new Map<string, number>();
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const watch = await new Watch(kc).watch(
    `/api/v1/namespaces/${NS}/pods`,
    {},
    (_type, pod: V1Pod) => {
      const name = pod.metadata?.name ?? '';
      const t0 = created.get(name);
      if (t0 !== undefined && !latencies.has(name) && hasAllNics(pod)) {
        latencies.set(name, performance.now() - t0);
        if (latencies.size === PODS) resolveDone();
      }
    },
    () => undefined,
  );
  const api = kc.makeApiClient(CoreV1Api);
  const nodes = cluster.nodes.map((n) => n.name);
  for (let i = 0; i < PODS; i++) {
    const name = `p${i}`;
    created.set(name, performance.now());
    await api.createNamespacedPod({
      namespace: NS,
      body: sleeperPod(NS, name, nodes[i % nodes.length]!, 'lab-net1'),
    });
  }
  const timeout = setTimeout(resolveDone, 300_000);
  await done;
  clearTimeout(timeout);
  watch.abort();
  if (latencies.size < PODS)
    throw new Error(`only ${latencies.size} of ${PODS} pods came up within 5 minutes`);
  return [...latencies.values()];
}

async function main(): Promise<void> {
  const up: number[] = [];
  const p50: number[] = [];
  const p99: number[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const name = `bench${run}`;
    await Lab.down(name);
    const t0 = performance.now();
    const lab = await Lab.up({ name, clusters: 2, nodes: 2 });
    try {
      up.push((performance.now() - t0) / 1000);
      const lat = await podLatencies(lab);
      p50.push(percentile(lat, 50));
      p99.push(percentile(lat, 99));
      process.stdout.write(
        `run ${run}: lab up ${up.at(-1)!.toFixed(1)} s, pod p50 ${p50.at(-1)!.toFixed(0)} ms, p99 ${p99.at(-1)!.toFixed(0)} ms\n`,
      );
    } finally {
      await lab.down();
    }
  }
  const figures = {
    lab_up_seconds_2x2: Number(median(up).toFixed(1)),
    pod_running_all_nics_p50_ms: Math.round(median(p50)),
    pod_running_all_nics_p99_ms: Math.round(median(p99)),
    pods_per_run: PODS,
    runs: RUNS,
  };
  report('lab', figures, []);
}

runBench('lab', main);
