/**
 * The imports reconciler: one key for the whole cluster. It computes every ServiceImport and
 * imported EndpointSlice the hub's WorkerSlices ask for (imports.ts), applies those that differ
 * from the caches, and deletes the ones this worker made that are no longer asked for. A full
 * pass costs one comparison per object; only differences reach the API server.
 *
 * Until the hub informer has listed once, nothing is deleted: the cluster keeps serving the
 * imports it has through a hub outage, as it keeps its Slices.
 */
import {
  CustomObjectsApi,
  DiscoveryV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1Namespace,
} from '@kubernetes/client-node';
import type { Applier } from '../../lib/kube/apply.ts';
import { isNotFound } from '../../lib/kube/client.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import type { ReconcileContext, ReconcileResult } from '../../lib/kube/workers.ts';
import { SLICE_LABEL } from '../api/names.ts';
import type { WorkerSlice } from '../api/types.ts';
import { canonical } from '../hub/rollup.ts';
import { MCS_GROUP, MCS_VERSION } from './exports.ts';
import { desiredImports, type ImportedEndpointSlice, type ServiceImportObject } from './imports.ts';
import { allowed } from './nads.ts';

export const IMPORTS_KEY = 'imports';
/** Looked at again this often while the ServiceImport CRD is not served. */
const NO_CRD_RETRY_MS = 10_000;

export interface ImporterDeps {
  cluster: string;
  hubNamespace: string;
  kubeConfig: KubeConfig;
  applier: Applier;
  workerSlices: Informer<WorkerSlice>;
  namespaces: Informer<V1Namespace>;
  serviceImports: Informer<KubernetesObject & Partial<ServiceImportObject>>;
  endpointSlices: Informer<ImportedEndpointSlice>;
}

export class ImportsReconciler {
  private readonly custom: CustomObjectsApi;
  private readonly discovery: DiscoveryV1Api;

  constructor(private readonly d: ImporterDeps) {
    this.custom = d.kubeConfig.makeApiClient(CustomObjectsApi);
    this.discovery = d.kubeConfig.makeApiClient(DiscoveryV1Api);
  }

  reconcile = async (_key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const d = this.d;
    if (!d.workerSlices.synced || !d.endpointSlices.synced) return {};
    if (!d.serviceImports.synced) return { requeueAfter: NO_CRD_RETRY_MS };
    const workerSlices = d.workerSlices.list(d.hubNamespace);
    const rules = new Map(workerSlices.map((w) => [w.metadata.name, w.spec.namespaces]));
    const joined = (ns: string, slice: string): boolean =>
      d.namespaces.get(ns)?.metadata?.labels?.[SLICE_LABEL] === slice &&
      allowed(rules.get(slice), ns, d.cluster);
    const want = desiredImports(workerSlices, joined);
    if (want.duplicates.length)
      ctx.log.info('service imported by several slices', { kept: 'first slice', skipped: want.duplicates });

    let applied = 0;
    for (const si of want.serviceImports) {
      const have = d.serviceImports.get(si.metadata.name, si.metadata.namespace);
      if (!have || !sameImport(have, si)) {
        await d.applier.apply({ ...si, status: undefined });
        await d.applier.applyStatus(si);
        applied++;
      }
    }
    for (const eps of want.endpointSlices) {
      const have = d.endpointSlices.get(eps.metadata.name, eps.metadata.namespace);
      if (!have || !sameSlice(have, eps)) {
        await d.applier.apply(eps);
        applied++;
      }
    }
    const keep = (o: KubernetesObject, list: readonly KubernetesObject[]): boolean =>
      list.some(
        (w) => w.metadata?.name === o.metadata?.name && w.metadata?.namespace === o.metadata?.namespace,
      );
    let deleted = 0;
    for (const eps of d.endpointSlices.list()) {
      if (keep(eps, want.endpointSlices)) continue;
      await gone(() =>
        this.discovery.deleteNamespacedEndpointSlice({
          name: eps.metadata.name,
          namespace: eps.metadata.namespace,
        }),
      );
      deleted++;
    }
    for (const si of d.serviceImports.list()) {
      if (keep(si, want.serviceImports)) continue;
      await gone(() =>
        this.custom.deleteNamespacedCustomObject({
          group: MCS_GROUP,
          version: MCS_VERSION,
          plural: 'serviceimports',
          namespace: si.metadata?.namespace ?? '',
          name: si.metadata?.name ?? '',
        }),
      );
      deleted++;
    }
    if (applied || deleted) ctx.log.info('imports converged', { applied, deleted });
    return {};
  };
}

async function gone(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

function sameImport(have: Partial<ServiceImportObject>, want: ServiceImportObject): boolean {
  return (
    canonical(have.spec) === canonical(want.spec) &&
    canonical(have.status?.clusters ?? []) === canonical(want.status.clusters) &&
    labelsCover(have.metadata?.labels, want.metadata.labels)
  );
}

function sameSlice(have: ImportedEndpointSlice, want: ImportedEndpointSlice): boolean {
  return (
    canonical(have.endpoints) === canonical(want.endpoints) &&
    canonical(have.ports ?? []) === canonical(want.ports) &&
    labelsCover(have.metadata.labels, want.metadata.labels)
  );
}

function labelsCover(have: Record<string, string> | undefined, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => have?.[k] === v);
}
