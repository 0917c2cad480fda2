/**
 * The worker's reconciler, one key per slice name: WorkerSlice (hub) → local Slice, the NADs
 * of joined namespaces, the gateway key pair, and status back to the hub.
 *
 * The hub may be unreachable. Until the hub informer has listed once, the local Slice is the
 * truth (NADs are kept as it says, nothing is deleted); after that, the hub informer's cache
 * is, and it keeps its last state through an outage, so the cluster keeps working and catches
 * up when the watch resumes (a relist reports what was deleted meanwhile).
 */
import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Namespace,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Applier } from '../../lib/kube/apply.ts';
import { isNotFound } from '../../lib/kube/client.ts';
import { setConditions } from '../../lib/kube/conditions.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import type { ReconcileContext, ReconcileResult } from '../../lib/kube/workers.ts';
import { SLICE_LABEL } from '../api/names.ts';
import {
  API_VERSION,
  Conditions,
  GROUP,
  VERSION,
  resources,
  type Slice,
  type SliceStatus,
  type WorkerSlice,
} from '../api/types.ts';
import { canonical } from '../hub/rollup.ts';
import { reportedGateways } from './gateway-status.ts';
import type { GatewayDeployments } from './gateways.ts';
import type { GatewayKeys } from './keys.ts';
import { allowed, WORKER_MANAGED, type Nads } from './nads.ts';

export interface WorkerDeps {
  cluster: string;
  /** This cluster's hub namespace, slicenet-cluster-<cluster>. */
  hubNamespace: string;
  localKubeConfig: KubeConfig;
  local: Applier;
  hub: Applier;
  workerSlices: Informer<WorkerSlice>;
  slices: Informer<Slice>;
  namespaces: Informer<V1Namespace>;
  nads: Informer<{ metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } }>;
  nadWriter: Nads;
  keys: GatewayKeys;
  gateways: GatewayDeployments;
  /** This cluster's gateway pods (label app.kubernetes.io/name=slicenet-gateway). */
  gatewayPods: Informer<V1Pod>;
}

const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

/** Gateway entry the worker publishes until the gateway itself reports (slice-gateway/). */
export function gatewayEntryName(slice: string): string {
  return `slicenet-gateway-${slice}`;
}

export class WorkerReconciler {
  private readonly custom: CustomObjectsApi;

  constructor(private readonly d: WorkerDeps) {
    this.custom = d.localKubeConfig.makeApiClient(CustomObjectsApi);
  }

  reconcile = async (name: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const d = this.d;
    const hubKnown = d.workerSlices.synced;
    const ws = d.workerSlices.get(name, d.hubNamespace);
    if (hubKnown && !ws) {
      await this.remove(name, ctx);
      return {};
    }
    const spec = ws?.spec ?? d.slices.get(name)?.spec;
    if (!spec) return {};
    let stored = d.slices.get(name);
    if (ws) {
      // Imports change with every endpoint's readiness; they become ServiceImports (mcs.ts),
      // and the Slice's readers (agents, gateways, netop) need not wake for them.
      const spec = { ...ws.spec };
      delete spec.imports;
      stored = await d.local.apply<Slice>({
        apiVersion: API_VERSION,
        kind: 'Slice',
        metadata: { name, labels: { ...WORKER_MANAGED } },
        spec,
      });
    }
    if (stored && (await d.gateways.ensure(stored))) ctx.log.info('gateway deployment applied');
    const local = d.slices.get(name);
    if (local) await this.pruneGateways(local, ctx);

    const want = new Set(
      d.namespaces
        .list()
        .filter((ns) => ns.metadata?.labels?.[SLICE_LABEL] === name)
        .map((ns) => ns.metadata!.name!)
        .filter((ns) => allowed(spec.namespaces, ns, d.cluster)),
    );
    const changed = await d.nadWriter.converge(name, want, this.nadNamespaces(name));
    if (changed.created.length || changed.deleted.length) ctx.log.info('nads converged', changed);

    const publicKey = await d.keys.publicKey(name);
    if (ws) await this.report(ws, publicKey, local);
    return {};
  };

  /**
   * Removes gateway entries from the local Slice whose pod is gone (a rollout, a node drained):
   * each replica writes only its own entry, so nobody else would. A JSON patch that tests each
   * name first, so an entry that moved meanwhile fails the patch and the reconcile retries.
   */
  private async pruneGateways(slice: Slice, ctx: ReconcileContext): Promise<void> {
    if (!this.d.gatewayPods.synced) return;
    const pods = new Set(
      this.d.gatewayPods
        .list()
        .filter((p) => p.metadata?.labels?.[SLICE_LABEL] === slice.metadata.name)
        .map((p) => p.metadata!.name!),
    );
    const ops: object[] = [];
    const entries = slice.status?.gateways ?? [];
    for (let i = entries.length - 1; i >= 0; i--) {
      if (pods.has(entries[i]!.name)) continue;
      const path = `/status/gateways/${i}`;
      ops.push({ op: 'test', path: `${path}/name`, value: entries[i]!.name }, { op: 'remove', path });
    }
    if (ops.length === 0) return;
    await this.custom.patchClusterCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: resources.Slice.plural,
        name: slice.metadata.name,
        body: ops,
      },
      jsonPatch,
    );
    ctx.log.info('stale gateway entries removed', { count: ops.length / 2 });
  }

  private nadNamespaces(slice: string): Set<string> {
    return new Set(
      this.d.nads
        .list()
        .filter((n) => n.metadata?.labels?.[SLICE_LABEL] === slice)
        .map((n) => n.metadata!.namespace!),
    );
  }

  /** Writes WorkerSlice status when something in it changed: the hub rolls it up. */
  private async report(ws: WorkerSlice, publicKey: string, local: Slice | undefined): Promise<void> {
    const old = ws.status ?? {};
    const conds = setConditions(
      old.conditions,
      [
        {
          type: Conditions.Ready,
          status: 'True',
          reason: 'SliceSynced',
          message: 'the local Slice and NADs are in place',
        },
      ],
      ws.metadata.generation,
    );
    const gateways = reportedGateways(local?.status?.gateways, {
      name: gatewayEntryName(ws.metadata.name),
      publicKey,
    });
    const same = canonical(old.gateways ?? []) === canonical(gateways);
    if (!conds.changed && same && old.observedGeneration === ws.metadata.generation) return;
    const status: SliceStatus = {
      conditions: conds.conditions,
      gateways,
      ...(ws.metadata.generation !== undefined ? { observedGeneration: ws.metadata.generation } : {}),
    };
    await this.d.hub.applyStatus({
      apiVersion: API_VERSION,
      kind: 'WorkerSlice',
      metadata: ws.metadata,
      status,
    });
  }

  /** The slice is gone from the hub: its Slice, NADs and key pair go too. */
  private async remove(name: string, ctx: ReconcileContext): Promise<void> {
    await this.d.nadWriter.converge(name, new Set(), this.nadNamespaces(name));
    try {
      await this.custom.deleteClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: resources.Slice.plural,
        name,
      });
      ctx.log.info('slice removed');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await this.d.gateways.remove(name);
    await this.d.keys.remove(name);
  }
}
