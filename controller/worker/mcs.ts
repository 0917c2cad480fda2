/**
 * Multi-Cluster Services in the worker: the wiring of exports (exporter.ts) and imports
 * (importer.ts) to their informers and queues.
 *
 *   ServiceExports, Services, EndpointSlices, slice Pods, Namespaces ──┐
 *   hub WorkerSlices (imports, conflicts) ─────────────────────────────┼─► exports queue ─► ExportsReconciler
 *                                                                      │     slice:<s>  → WorkerSlice.status.exports
 *                                                                      │     export:<k> → ServiceExport conditions
 *   hub WorkerSlices, our ServiceImports and EndpointSlices ───────────┴─► imports queue ─► ImportsReconciler
 *
 * Readiness has 2 s end to end (pod unready → its EndpointSlice → export → hub → every
 * member's import), so events are coalesced for COALESCE_MS only. The MCS informers are not
 * waited for at start: a cluster without the MCS CRDs still gets its slices, and exports
 * start working once the CRDs appear (the informers retry until then).
 */
import {
  CoreV1Api,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1EndpointSlice,
  type V1Namespace,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { Applier } from '../../lib/kube/apply.ts';
import { Informer } from '../../lib/kube/informer.ts';
import type { ReconcileMetrics } from '../../lib/kube/metrics.ts';
import { WorkQueue } from '../../lib/kube/queue.ts';
import { runWorkers } from '../../lib/kube/workers.ts';
import type { Logger } from '../../lib/log.ts';
import type { WorkerSlice } from '../api/types.ts';
import { customInformer } from '../informers.ts';
import { EXPORTS_FIELD_MANAGER, ExportsReconciler, exportKey, SERVICE_NAME, sliceKey } from './exporter.ts';
import { MCS_GROUP, MCS_VERSION, type ServiceExportObject } from './exports.ts';
import { IMPORTS_KEY, ImportsReconciler } from './importer.ts';
import {
  EPS_MANAGED_BY_LABEL,
  EPS_MANAGER,
  type ImportedEndpointSlice,
  type ServiceImportObject,
} from './imports.ts';
import { WORKER_MANAGED } from './nads.ts';

const COALESCE_MS = 50;
const CONTROLLER_EPS = 'endpointslice-controller.k8s.io';

export interface McsOptions {
  cluster: string;
  hubNamespace: string;
  local: KubeConfig;
  hub: KubeConfig;
  fieldManager: string;
  log: Logger;
  metrics?: ReconcileMetrics;
  workerSlices: Informer<WorkerSlice>;
  namespaces: Informer<V1Namespace>;
  pods: Informer<V1Pod>;
}

type AnyInformer = Informer<KubernetesObject>;

export class Mcs {
  private readonly own: AnyInformer[];
  private readonly exportsQueue = new WorkQueue();
  private readonly importsQueue = new WorkQueue();
  private readonly exporter: ExportsReconciler;
  private readonly importer: ImportsReconciler;

  constructor(private readonly o: McsOptions) {
    const { local: kc, log } = o;
    const mcs = (plural: string) => ({ group: MCS_GROUP, version: MCS_VERSION, plural });
    const managed = `app.kubernetes.io/managed-by=${WORKER_MANAGED['app.kubernetes.io/managed-by']}`;
    const serviceExports = customInformer<ServiceExportObject & KubernetesObject>(
      kc,
      mcs('serviceexports'),
      log,
    );
    const serviceImports = customInformer<KubernetesObject & Partial<ServiceImportObject>>(
      kc,
      mcs('serviceimports'),
      log,
      { labelSelector: managed },
    );
    const core = kc.makeApiClient(CoreV1Api);
    const services = new Informer<V1Service>({
      kubeConfig: kc,
      path: '/api/v1/services',
      list: (s) => core.listServiceForAllNamespaces(s),
      name: 'services',
      log,
    });
    const endpointSlices = endpointSliceInformer(kc, log, CONTROLLER_EPS);
    const imported = endpointSliceInformer(
      kc,
      log,
      EPS_MANAGER,
    ) as unknown as Informer<ImportedEndpointSlice>;
    this.own = [serviceExports, serviceImports, services, endpointSlices, imported] as AnyInformer[];

    this.exporter = new ExportsReconciler({
      cluster: o.cluster,
      hubNamespace: o.hubNamespace,
      local: new Applier(kc, o.fieldManager),
      hub: new Applier(o.hub, EXPORTS_FIELD_MANAGER),
      workerSlices: o.workerSlices,
      namespaces: o.namespaces,
      serviceExports,
      services,
      endpointSlices,
      pods: o.pods,
    });
    this.importer = new ImportsReconciler({
      cluster: o.cluster,
      hubNamespace: o.hubNamespace,
      kubeConfig: kc,
      applier: new Applier(kc, o.fieldManager),
      workerSlices: o.workerSlices,
      namespaces: o.namespaces,
      serviceImports,
      endpointSlices: imported,
    });

    const q = (key: string): void => this.exportsQueue.addAfter(key, COALESCE_MS);
    const imports = (): void => this.importsQueue.addAfter(IMPORTS_KEY, COALESCE_MS);
    /** Both keys of every export in `namespace` named `name` (any name if unset). */
    const exportsIn = (namespace: string | undefined, name?: string): void => {
      if (!namespace) return;
      for (const se of serviceExports.list(namespace)) {
        if (name !== undefined && se.metadata?.name !== name) continue;
        q(exportKey(namespace, se.metadata!.name!));
        const slice = this.exporter.sliceOf(namespace);
        if (slice) q(sliceKey(slice));
      }
    };
    this.all = (): void => {
      for (const se of serviceExports.list()) exportsIn(se.metadata?.namespace, se.metadata?.name);
      for (const ws of o.workerSlices.list(o.hubNamespace)) q(sliceKey(ws.metadata.name));
      imports();
    };
    for (const ev of ['add', 'update', 'delete'] as const) {
      serviceExports.on(ev, (se) => {
        const ns = se.metadata?.namespace ?? '';
        q(exportKey(ns, se.metadata?.name ?? ''));
        const slice = this.exporter.sliceOf(ns);
        if (slice) q(sliceKey(slice));
      });
      services.on(ev, (s) => exportsIn(s.metadata?.namespace, s.metadata?.name ?? ''));
      endpointSlices.on(ev, (s) =>
        exportsIn(s.metadata?.namespace, s.metadata?.labels?.[SERVICE_NAME] ?? ''),
      );
      o.pods.on(ev, (p) => exportsIn(p.metadata?.namespace));
      o.namespaces.on(ev, this.all);
      o.workerSlices.on(ev, (ws) => {
        q(sliceKey(ws.metadata.name));
        for (const se of serviceExports.list())
          if (this.exporter.sliceOf(se.metadata?.namespace ?? '') === ws.metadata.name)
            q(exportKey(se.metadata!.namespace!, se.metadata!.name!));
        imports();
      });
      serviceImports.on(ev, imports);
      imported.on(ev, imports);
    }
  }

  /** Enqueues every key: after the informers have synced, and on a namespace change. */
  private readonly all: () => void;

  /** Runs until `signal` aborts; the informers start in the background. */
  async run(signal: AbortSignal): Promise<void> {
    const { log, metrics } = this.o;
    for (const i of this.own) void i.start().then(() => i.synced && this.all());
    try {
      await Promise.all([
        runWorkers(this.exportsQueue, 1, this.exporter.reconcile, signal, {
          name: 'exports',
          log,
          onReconcile: metrics?.hook('exports', this.exportsQueue),
        }),
        runWorkers(this.importsQueue, 1, this.importer.reconcile, signal, {
          name: 'imports',
          log,
          onReconcile: metrics?.hook('imports', this.importsQueue),
        }),
      ]);
    } finally {
      this.exportsQueue.shutdown();
      this.importsQueue.shutdown();
      await Promise.all(this.own.map((i) => i.stop()));
    }
  }
}

function endpointSliceInformer(kc: KubeConfig, log: Logger, manager: string): Informer<V1EndpointSlice> {
  const api = kc.makeApiClient(DiscoveryV1Api);
  return new Informer<V1EndpointSlice>({
    kubeConfig: kc,
    path: '/apis/discovery.k8s.io/v1/endpointslices',
    list: (s) => api.listEndpointSliceForAllNamespaces(s),
    labelSelector: `${EPS_MANAGED_BY_LABEL}=${manager}`,
    name: `endpointslices-${manager}`,
    log,
  });
}
