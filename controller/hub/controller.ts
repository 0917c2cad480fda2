/**
 * The hub controller (`slicenet-controller --mode hub`): wires informers to two work queues
 * (SliceConfigs, Clusters) under leader election. Informer handlers only map an event to the
 * keys it may affect; the reconcilers in sliceconfigs.ts and clusters.ts do the work.
 *
 *   SliceConfig ──────────────► sliceconfig queue ◄── WorkerSlice (its owner's key)
 *   Cluster, its namespace ───► both queues (the Cluster, SliceConfigs naming it)
 *   heartbeat Lease ──────────► cluster queue
 */
import type { KubeConfig, KubernetesObject, V1Lease } from '@kubernetes/client-node';
import { Applier } from '../../lib/kube/apply.ts';
import { EventRecorder } from '../../lib/kube/events.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import { LeaderElector } from '../../lib/kube/leader.ts';
import type { ReconcileMetrics } from '../../lib/kube/metrics.ts';
import { WorkQueue } from '../../lib/kube/queue.ts';
import { runWorkers } from '../../lib/kube/workers.ts';
import type { Logger } from '../../lib/log.ts';
import { HEARTBEAT_LEASE, SLICE_LABEL } from '../api/names.ts';
import { resources, type Cluster, type SliceConfig, type WorkerSlice } from '../api/types.ts';
import { customInformer, keyOf, leaseInformer, namespaceInformer, slicenet } from '../informers.ts';
import { ClusterReconciler } from './clusters.ts';
import { MANAGED_BY, OWNER_NAMESPACE_LABEL } from './desired.ts';
import { SliceConfigReconciler } from './sliceconfigs.ts';

export const FIELD_MANAGER = 'slicenet-controller';
const CLUSTER_NS_PREFIX = 'slicenet-cluster-';

export interface HubOptions {
  kubeConfig: KubeConfig;
  /** Where SliceConfigs, Clusters and the leader Lease live. */
  hubNamespace: string;
  workers: number;
  log: Logger;
  metrics?: ReconcileMetrics;
  /** Told why the controller cannot serve yet (undefined: it can); for /readyz. */
  readiness?: (notReady: string | undefined) => void;
}

/** Contends for leadership and runs the controller while leading, until `signal` aborts. */
export async function runHub(o: HubOptions, signal: AbortSignal): Promise<void> {
  const elector = new LeaderElector({
    kubeConfig: o.kubeConfig,
    namespace: o.hubNamespace,
    name: FIELD_MANAGER,
    log: o.log,
    onStartedLeading: (leading) => lead(o, leading),
  });
  while (!signal.aborted) await elector.run(signal);
}

async function lead(o: HubOptions, signal: AbortSignal): Promise<void> {
  const { kubeConfig: kc, hubNamespace, log } = o;
  const sliceConfigs = customInformer<SliceConfig>(
    kc,
    slicenet(resources.SliceConfig.plural, hubNamespace),
    log,
  );
  const clusters = customInformer<Cluster>(kc, slicenet(resources.Cluster.plural, hubNamespace), log);
  const workerSlices = customInformer<WorkerSlice>(kc, slicenet(resources.WorkerSlice.plural), log, {
    labelSelector: selector(MANAGED_BY),
  });
  const leases = leaseInformer(kc, log, { fieldSelector: `metadata.name=${HEARTBEAT_LEASE}` });
  const namespaces = namespaceInformer(kc, log);
  const informers: Informer<KubernetesObject>[] = [sliceConfigs, clusters, workerSlices, leases, namespaces];

  const scQueue = new WorkQueue();
  const clusterQueue = new WorkQueue();
  const slicesNaming = (cluster: string): void => {
    for (const sc of sliceConfigs.list(hubNamespace))
      if (sc.spec.clusters?.includes(cluster)) scQueue.add(keyOf(sc));
  };
  const clusterChanged = (cluster: string): void => {
    clusterQueue.add(`${hubNamespace}/${cluster}`);
    slicesNaming(cluster);
  };
  on(sliceConfigs, (sc) => scQueue.add(keyOf(sc)));
  on(workerSlices, (w: WorkerSlice) => {
    const l = w.metadata.labels ?? {};
    if (l[SLICE_LABEL] && l[OWNER_NAMESPACE_LABEL])
      scQueue.add(`${l[OWNER_NAMESPACE_LABEL]}/${l[SLICE_LABEL]}`);
  });
  on(clusters, (c) => clusterChanged(c.metadata.name));
  on(leases, (l: V1Lease) => {
    const cluster = clusterOf(l.metadata?.namespace);
    if (cluster) clusterQueue.add(`${hubNamespace}/${cluster}`);
  });
  on(namespaces, (ns) => {
    const cluster = clusterOf(ns.metadata?.name);
    if (cluster) clusterChanged(cluster);
  });

  const stopAll = (): void => void Promise.all(informers.map((i) => i.stop()));
  signal.addEventListener('abort', stopAll, { once: true });
  try {
    o.readiness?.('leading, informers syncing');
    await Promise.all(informers.map((i) => i.start()));
    if (signal.aborted) return;
    o.readiness?.(undefined);
    log.info('hub controller synced', {
      sliceConfigs: sliceConfigs.list().length,
      clusters: clusters.list().length,
    });
    const applier = new Applier(kc, FIELD_MANAGER);
    const events = new EventRecorder(kc, FIELD_MANAGER, log);
    const nsCache = { has: (name: string) => namespaces.get(name) !== undefined };
    const sc = new SliceConfigReconciler({
      kubeConfig: kc,
      applier,
      events,
      sliceConfigs,
      clusters,
      workerSlices,
      namespaces: nsCache,
    });
    const cl = new ClusterReconciler({ applier, events, clusters, leases, namespaces: nsCache });
    await Promise.all([
      runWorkers(scQueue, o.workers, sc.reconcile, signal, {
        name: 'sliceconfig',
        log,
        onReconcile: o.metrics?.hook('sliceconfig', scQueue),
      }),
      runWorkers(clusterQueue, 2, cl.reconcile, signal, {
        name: 'cluster',
        log,
        onReconcile: o.metrics?.hook('cluster', clusterQueue),
      }),
    ]);
  } finally {
    // A standby (or a leader that lost its Lease) is a healthy replica waiting its turn.
    o.readiness?.(undefined);
    signal.removeEventListener('abort', stopAll);
    scQueue.shutdown();
    clusterQueue.shutdown();
    await Promise.all(informers.map((i) => i.stop()));
  }
}

function on<T extends KubernetesObject>(informer: Informer<T>, handler: (obj: T) => void): void {
  for (const ev of ['add', 'update', 'delete'] as const) informer.on(ev, handler);
}

function clusterOf(namespace: string | undefined): string {
  return namespace?.startsWith(CLUSTER_NS_PREFIX) ? namespace.slice(CLUSTER_NS_PREFIX.length) : '';
}

function selector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
