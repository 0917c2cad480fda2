/**
 * The worker (`slicenet-controller --mode worker`): one per member cluster, leader-elected in
 * that cluster. Two API servers: the hub, reached with the cluster's least-privilege credential
 * (its WorkerSlices, their status, its heartbeat Lease), and its own cluster (admin rights).
 *
 *   hub WorkerSlices ──┐
 *   local Slices ──────┤
 *   local Namespaces ──┼──► slice-name queue ──► WorkerReconciler
 *   local NADs ────────┘
 *   slice Pods, Slices, WorkerSlices ──► endpoints queue (per slice, coalesced) ──► EndpointsReconciler
 *   ServiceExports … ServiceImports ──► mcs.ts (exports to the hub, imports from it)
 *
 * Local informers must sync before work starts; the hub informer need not (the hub may be
 * down): once it has synced, every slice is looked at again with the hub's view.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import type { Counter, Registry } from 'prom-client';
import { Applier } from '../../lib/kube/apply.ts';
import { Informer } from '../../lib/kube/informer.ts';
import { LeaderElector } from '../../lib/kube/leader.ts';
import type { ReconcileMetrics } from '../../lib/kube/metrics.ts';
import { WorkQueue } from '../../lib/kube/queue.ts';
import { runWorkers } from '../../lib/kube/workers.ts';
import type { Logger } from '../../lib/log.ts';
import { clusterNamespace, GATEWAY_APP, SLICE_LABEL, SYSTEM_NAMESPACE } from '../api/names.ts';
import { resources, type Slice, type WorkerSlice } from '../api/types.ts';
import { customInformer, namespaceInformer, slicenet } from '../informers.ts';
import {
  COALESCE_MS,
  ENDPOINTS_FIELD_MANAGER,
  EndpointsReconciler,
  podKey,
  skippedCounter,
} from './endpoints.ts';
import { DEFAULT_GATEWAY_POD, GatewayDeployments, type GatewayPodOptions } from './gateways.ts';
import { heartbeat } from './heartbeat.ts';
import { GatewayKeys } from './keys.ts';
import { Mcs } from './mcs.ts';
import { NAD, Nads, WORKER_MANAGED } from './nads.ts';
import { WorkerReconciler } from './slices.ts';

export const WORKER_FIELD_MANAGER = 'slicenet-worker';
/** A periodic full pass, for changes no watched event announces (a namespace's label moving). */
const RESYNC_MS = 30_000;

export interface WorkerOptions {
  cluster: string;
  hub: KubeConfig;
  local: KubeConfig;
  workers: number;
  log: Logger;
  metrics?: ReconcileMetrics;
  /** Where the worker's own counters go (skipped endpoints); unset: not exported. */
  registry?: Registry;
  /** Told why the worker cannot serve yet (undefined: it can); for /readyz. */
  readiness?: (notReady: string | undefined) => void;
  /** How the slices' gateway pods are run; default: the released image. */
  gatewayPod?: GatewayPodOptions;
}

export async function runWorker(o: WorkerOptions, signal: AbortSignal): Promise<void> {
  await ensureNamespace(o.local, signal, o.log);
  const counters = { skipped: o.registry ? skippedCounter(o.registry) : undefined };
  const elector = new LeaderElector({
    kubeConfig: o.local,
    namespace: SYSTEM_NAMESPACE,
    name: WORKER_FIELD_MANAGER,
    log: o.log,
    onStartedLeading: (leading) => lead(o, counters, leading),
  });
  while (!signal.aborted) await elector.run(signal);
}

interface Counters {
  skipped: Counter<'reason'> | undefined;
}

async function lead(o: WorkerOptions, counters: Counters, signal: AbortSignal): Promise<void> {
  const { log } = o;
  const hubNamespace = clusterNamespace(o.cluster);
  const managed = `app.kubernetes.io/managed-by=${WORKER_MANAGED['app.kubernetes.io/managed-by']}`;
  const workerSlices = customInformer<WorkerSlice>(
    o.hub,
    slicenet(resources.WorkerSlice.plural, hubNamespace),
    log,
  );
  const slices = customInformer<Slice>(o.local, slicenet(resources.Slice.plural), log);
  const namespaces = namespaceInformer(o.local, log, { labelSelector: SLICE_LABEL });
  const nads = customInformer<KubernetesObject>(o.local, NAD, log, { labelSelector: managed });
  const gatewayPods = gatewayPodInformer(o.local, log);
  const slicePods = slicePodInformer(o.local, log);
  const local: Informer<KubernetesObject>[] = [slices, namespaces, nads, gatewayPods, slicePods];

  const queue = new WorkQueue();
  const all = (): void => {
    for (const w of workerSlices.list()) queue.add(w.metadata.name);
    for (const s of slices.list()) queue.add(s.metadata.name);
  };
  for (const ev of ['add', 'update', 'delete'] as const) {
    workerSlices.on(ev, (w) => queue.add(w.metadata.name));
    slices.on(ev, (s) => queue.add(s.metadata.name));
    for (const inf of [nads, gatewayPods] as Informer<KubernetesObject>[])
      inf.on(ev, (n) => {
        const slice = n.metadata?.labels?.[SLICE_LABEL];
        if (slice) queue.add(slice);
      });
    // The label's old value is not in an update event, so any namespace change looks at all.
    namespaces.on(ev, all);
  }

  const endpointsQueue = new WorkQueue();
  const endpointsOf = (slice: string | undefined): void => {
    if (slice) endpointsQueue.addAfter(slice, COALESCE_MS);
  };
  // The slice a pod was last seen in: an update event does not carry the label's old value.
  const podSlice = new Map<string, string>();
  for (const ev of ['add', 'update', 'delete'] as const) {
    slicePods.on(ev, (p) => {
      const key = podKey(p);
      const slice = p.metadata?.labels?.[SLICE_LABEL];
      endpointsOf(podSlice.get(key));
      endpointsOf(slice);
      if (ev === 'delete' || !slice) podSlice.delete(key);
      else podSlice.set(key, slice);
    });
    slices.on(ev, (s) => endpointsOf(s.metadata.name));
    workerSlices.on(ev, (w) => endpointsOf(w.metadata.name));
  }

  const stopAll = (): void => void Promise.all([workerSlices, ...local].map((i) => i.stop()));
  const endpoints = new EndpointsReconciler({
    hubNamespace,
    pods: slicePods,
    slices,
    workerSlices,
    local: new Applier(o.local, ENDPOINTS_FIELD_MANAGER),
    hub: new Applier(o.hub, ENDPOINTS_FIELD_MANAGER),
    ...(counters.skipped ? { skipped: counters.skipped } : {}),
  });
  signal.addEventListener('abort', stopAll, { once: true });
  const resync = setInterval(all, RESYNC_MS);
  try {
    o.readiness?.('leading, local informers syncing');
    await Promise.all(local.map((i) => i.start()));
    if (signal.aborted) return;
    // Ready without the hub: the worker serves its cluster from local state through an outage.
    o.readiness?.(undefined);
    void workerSlices.start().then(() => {
      log.info('hub synced', { workerSlices: workerSlices.list().length });
      all();
    });
    all();
    const localApplier = new Applier(o.local, WORKER_FIELD_MANAGER);
    const reconciler = new WorkerReconciler({
      cluster: o.cluster,
      hubNamespace,
      localKubeConfig: o.local,
      local: localApplier,
      hub: new Applier(o.hub, WORKER_FIELD_MANAGER),
      workerSlices,
      slices,
      namespaces,
      nads,
      nadWriter: new Nads(o.local, localApplier),
      keys: new GatewayKeys(o.local, SYSTEM_NAMESPACE),
      gateways: new GatewayDeployments(o.local, localApplier, o.gatewayPod ?? DEFAULT_GATEWAY_POD),
      gatewayPods,
    });
    const mcs = new Mcs({
      cluster: o.cluster,
      hubNamespace,
      local: o.local,
      hub: o.hub,
      fieldManager: WORKER_FIELD_MANAGER,
      log,
      ...(o.metrics ? { metrics: o.metrics } : {}),
      workerSlices,
      namespaces,
      pods: slicePods,
    });
    log.info('worker started', { cluster: o.cluster });
    await Promise.all([
      runWorkers(queue, o.workers, reconciler.reconcile, signal, {
        name: 'worker',
        log,
        onReconcile: o.metrics?.hook('worker', queue),
      }),
      runWorkers(endpointsQueue, 1, endpoints.reconcile, signal, {
        name: 'endpoints',
        log,
        onReconcile: o.metrics?.hook('endpoints', endpointsQueue),
      }),
      mcs.run(signal),
      heartbeat(o.hub, hubNamespace, o.cluster, signal, log),
    ]);
  } finally {
    o.readiness?.(undefined);
    clearInterval(resync);
    signal.removeEventListener('abort', stopAll);
    queue.shutdown();
    endpointsQueue.shutdown();
    await Promise.all([workerSlices, ...local].map((i) => i.stop()));
  }
}

/** The gateway pods of every slice in this cluster: their entries in Slice status live as long as they do. */
function gatewayPodInformer(kc: KubeConfig, log: Logger): Informer<V1Pod> {
  const api = kc.makeApiClient(CoreV1Api);
  const labelSelector = `app.kubernetes.io/name=${GATEWAY_APP}`;
  return new Informer<V1Pod>({
    kubeConfig: kc,
    path: `/api/v1/namespaces/${SYSTEM_NAMESPACE}/pods`,
    list: (s) => api.listNamespacedPod({ namespace: SYSTEM_NAMESPACE, ...s }),
    labelSelector,
    name: 'gateway-pods',
    log,
  });
}

/** Every slice pod of this cluster (the webhook labels injected pods slicenet.dev/slice=<slice>). */
function slicePodInformer(kc: KubeConfig, log: Logger): Informer<V1Pod> {
  const api = kc.makeApiClient(CoreV1Api);
  return new Informer<V1Pod>({
    kubeConfig: kc,
    path: '/api/v1/pods',
    list: (s) => api.listPodForAllNamespaces(s),
    labelSelector: SLICE_LABEL,
    name: 'slice-pods',
    log,
  });
}

/**
 * The namespace for the leader Lease and the key Secrets, created if missing; retried, so a
 * worker that starts before its API server is up waits for it instead of crashing.
 */
async function ensureNamespace(kc: KubeConfig, signal: AbortSignal, log: Logger): Promise<void> {
  const applier = new Applier(kc, WORKER_FIELD_MANAGER);
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      await applier.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: SYSTEM_NAMESPACE } });
      return;
    } catch (err) {
      if (attempt === 0) log.error('cannot create the system namespace, retrying', { err });
      await sleep(2_000, undefined, { signal }).catch(() => undefined);
    }
  }
}
