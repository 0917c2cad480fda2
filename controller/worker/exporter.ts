/**
 * The exports reconciler, two kinds of key on one queue:
 *   `slice:<slice>`        this cluster's valid exports in the slice's joined namespaces, written
 *                          to the hub's WorkerSlice.status.exports when they differ
 *   `export:<ns>/<name>`   one ServiceExport's conditions (Valid, Ready, Conflict)
 * Both are computed by exports.ts from the caches: ServiceExports, Services, the EndpointSlice
 * controller's EndpointSlices, slice pods, joined namespaces, and the hub's WorkerSlices (for
 * whether the hub has imported an export, and its conflicts).
 */
import type {
  KubernetesObject,
  V1EndpointSlice,
  V1Namespace,
  V1Pod,
  V1Service,
} from '@kubernetes/client-node';
import type { Applier } from '../../lib/kube/apply.ts';
import { setConditions } from '../../lib/kube/conditions.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import type { ReconcileContext, ReconcileResult } from '../../lib/kube/workers.ts';
import { SLICE_LABEL } from '../api/names.ts';
import { API_VERSION, type ServiceExportReport, type WorkerSlice } from '../api/types.ts';
import { canonical } from '../hub/rollup.ts';
import { splitKey } from '../informers.ts';
import {
  exportConditions,
  exportView,
  MCS_API_VERSION,
  type ExportView,
  type ServiceExportObject,
} from './exports.ts';
import { allowed } from './nads.ts';

export const EXPORTS_FIELD_MANAGER = 'slicenet-worker-exports';
/** The label the EndpointSlice controller puts on a Service's slices. */
export const SERVICE_NAME = 'kubernetes.io/service-name';

export interface ExporterDeps {
  cluster: string;
  hubNamespace: string;
  /** Writes ServiceExport status (local). */
  local: Applier;
  /** Writes WorkerSlice.status.exports (hub), under EXPORTS_FIELD_MANAGER. */
  hub: Applier;
  workerSlices: Informer<WorkerSlice>;
  namespaces: Informer<V1Namespace>;
  serviceExports: Informer<ServiceExportObject & KubernetesObject>;
  services: Informer<V1Service>;
  endpointSlices: Informer<V1EndpointSlice>;
  pods: Informer<V1Pod>;
}

export const sliceKey = (slice: string): string => `slice:${slice}`;
export const exportKey = (namespace: string, name: string): string => `export:${namespace}/${name}`;

export class ExportsReconciler {
  constructor(private readonly d: ExporterDeps) {}

  private get ready(): boolean {
    const d = this.d;
    return [d.serviceExports, d.services, d.endpointSlices, d.pods].every((i) => i.synced);
  }

  /** The slice a namespace has joined here, if its rules allow it. */
  sliceOf(namespace: string): string | undefined {
    const slice = this.d.namespaces.get(namespace)?.metadata?.labels?.[SLICE_LABEL];
    if (!slice) return undefined;
    const ws = this.d.workerSlices.get(slice, this.d.hubNamespace);
    return !ws || allowed(ws.spec.namespaces, namespace, this.d.cluster) ? slice : undefined;
  }

  private view(se: ServiceExportObject): ExportView {
    const d = this.d;
    const namespace = se.metadata?.namespace ?? '';
    const name = se.metadata?.name ?? '';
    return exportView(se, {
      slice: this.sliceOf(namespace),
      service: d.services.get(name, namespace),
      endpointSlices: d.endpointSlices
        .list(namespace)
        .filter((s) => s.metadata?.labels?.[SERVICE_NAME] === name)
        .sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1)),
      pod: (ns, pod) => d.pods.get(pod, ns),
    });
  }

  reconcile = async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    if (!this.ready) return {};
    if (key.startsWith('slice:')) await this.report(key.slice('slice:'.length), ctx);
    else await this.conditions(key.slice('export:'.length), ctx);
    return {};
  };

  private async report(slice: string, ctx: ReconcileContext): Promise<void> {
    const d = this.d;
    const ws = d.workerSlices.get(slice, d.hubNamespace);
    if (!ws) return;
    const exports: ServiceExportReport[] = d.serviceExports
      .list()
      .filter((se) => this.sliceOf(se.metadata?.namespace ?? '') === slice)
      .flatMap((se) => this.view(se).report ?? [])
      .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    if (canonical(ws.status?.exports ?? []) === canonical(exports)) return;
    await d.hub.applyStatus({
      apiVersion: API_VERSION,
      kind: 'WorkerSlice',
      metadata: { name: slice, namespace: d.hubNamespace },
      status: { exports },
    });
    ctx.log.info('exports reported to the hub', { count: exports.length });
  }

  private async conditions(key: string, ctx: ReconcileContext): Promise<void> {
    const d = this.d;
    const { namespace, name } = splitKey(key);
    const se = d.serviceExports.get(name, namespace);
    if (!se) return;
    const slice = this.sliceOf(namespace);
    const ws = slice ? d.workerSlices.get(slice, d.hubNamespace) : undefined;
    const updates = exportConditions(this.view(se), slice, ws, d.cluster);
    const next = setConditions(se.status?.conditions, updates, se.metadata?.generation);
    if (!next.changed) return;
    await d.local.applyStatus({
      apiVersion: MCS_API_VERSION,
      kind: 'ServiceExport',
      metadata: { name, namespace },
      status: { conditions: next.conditions },
    });
    const ready = next.conditions.find((c) => c.type === 'Ready');
    ctx.log.info('export conditions written', { ready: ready?.status, reason: ready?.reason });
  }
}
