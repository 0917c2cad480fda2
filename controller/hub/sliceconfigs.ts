/**
 * The SliceConfig reconciler: one WorkerSlice per member cluster, the allocation recorded in
 * status, the status rolled up from what workers report.
 *
 * Order matters for stability: the allocation (VNI, blocks) is written to status before any
 * WorkerSlice uses it, and is recomputed from status ∪ existing WorkerSlices ∪ what this
 * process allocated (the informer cache may lag our own writes), so neither a restart nor a
 * stale read can move a block or a VNI. VNI uniqueness is checked against every other
 * SliceConfig's status and this process's own recent allocations; allocation is synchronous,
 * so two reconciles on this (single, leader-elected) process cannot pick the same VNI.
 */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Applier } from '../../lib/kube/apply.ts';
import { isNotFound } from '../../lib/kube/client.ts';
import type { EventRecorder } from '../../lib/kube/events.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import type { ReconcileContext, ReconcileResult } from '../../lib/kube/workers.ts';
import { clusterNamespace, SLICE_LABEL } from '../api/names.ts';
import { GROUP, VERSION, resources, type Cluster, type SliceConfig, type WorkerSlice } from '../api/types.ts';
import { splitKey } from '../informers.ts';
import { allocateVni, assignBlocks, type Assignment } from './allocate.ts';
import { desiredWorkerSlice, OWNER_NAMESPACE_LABEL, sliceMtu } from './desired.ts';
import { mergeImports } from './imports.ts';
import { canonical, isReady, rollup } from './rollup.ts';

export const FINALIZER = 'slicenet.dev/workerslices';
/** How soon to look again while a member cluster is missing; its arrival also triggers a reconcile. */
const MISSING_RETRY_MS = 10_000;

export interface SliceConfigDeps {
  kubeConfig: KubeConfig;
  applier: Applier;
  events: EventRecorder;
  sliceConfigs: Informer<SliceConfig>;
  clusters: Informer<Cluster>;
  workerSlices: Informer<WorkerSlice>;
  namespaces: { has(name: string): boolean };
}

export class SliceConfigReconciler {
  private readonly custom: CustomObjectsApi;
  /** What this process allocated, by SliceConfig key: survives a lagging cache. */
  private readonly vnis = new Map<string, number>();
  private readonly blocks = new Map<string, Assignment[]>();

  constructor(private readonly d: SliceConfigDeps) {
    this.custom = d.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** The WorkerSlices of one SliceConfig, by member cluster, from the cache. */
  private owned(namespace: string, name: string): WorkerSlice[] {
    return this.d.workerSlices
      .list()
      .filter(
        (w) =>
          w.metadata.labels?.[SLICE_LABEL] === name &&
          w.metadata.labels?.[OWNER_NAMESPACE_LABEL] === namespace,
      );
  }

  reconcile = async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const { namespace, name } = splitKey(key);
    const sc = this.d.sliceConfigs.get(name, namespace);
    if (!sc) {
      // Gone without our finalizer running (removed by hand): collect what it left.
      this.vnis.delete(key);
      this.blocks.delete(key);
      await this.deleteAll(this.owned(namespace, name), ctx);
      return {};
    }
    if (sc.metadata.deletionTimestamp) return this.finalize(sc, ctx);
    if (!sc.metadata.finalizers?.includes(FINALIZER)) {
      await this.d.applier.addFinalizer(sc, FINALIZER);
      return {};
    }

    const existing = this.owned(namespace, name);
    const vni = this.vniFor(key, sc, existing);
    const members = sc.spec.clusters ?? [];
    const previous = [
      ...(this.blocks.get(key) ?? []),
      ...(sc.status?.clusters ?? []).flatMap(recorded),
      ...existing.map(fromWorkerSlice),
    ];
    const plan = assignBlocks(sc.spec.subnet, sc.spec.maxClusters ?? 16, members, previous);
    this.blocks.set(key, plan.assignments);

    const missing = new Map<string, string>(plan.unplaced.map((c) => [c, 'no free block in the subnet']));
    for (const a of plan.assignments) {
      const why = this.whyMissing(namespace, a.name);
      if (why) missing.set(a.name, why);
    }
    const byCluster = new Map(existing.map((w) => [w.spec.cluster, w]));
    const rolled = rollup({ sc, vni, assignments: plan.assignments, missing, workerSlices: byCluster });
    if (rolled.changed) {
      await this.d.applier.applyStatus({ ...sc, status: rolled.status });
      const readyNow = rolled.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      if (readyNow !== isReady(sc))
        this.d.events.emit(
          sc,
          readyNow ? 'Normal' : 'Warning',
          readyNow ? 'SliceReady' : 'SliceNotReady',
          readyNow
            ? 'every member cluster is ready'
            : (rolled.status.conditions?.find((c) => c.type === 'Ready')?.message ?? ''),
        );
    }

    const wanMtus = members.map((c) => this.d.clusters.get(c, namespace)?.spec?.wanMtu);
    const placed = new Set(plan.assignments.filter((a) => !missing.has(a.name)).map((a) => a.name));
    const input = {
      sc,
      vni,
      mtu: sliceMtu(sc, wanMtus),
      assignments: plan.assignments,
      reported: byCluster,
      imports: mergeImports(byCluster, [...placed]),
    };
    const created: string[] = [];
    for (const a of plan.assignments) {
      if (missing.has(a.name)) continue;
      const desired = desiredWorkerSlice(input, a);
      const current = byCluster.get(a.name);
      // Unchanged objects are not re-applied: at 200 slices that is most of the API calls.
      if (current && sameContent(current, desired)) continue;
      await this.d.applier.apply(desired);
      if (!current) {
        ctx.log.info('workerslice created', { cluster: a.name, block: a.subnet, vni });
        created.push(`${a.name} (block ${a.subnet})`);
      }
    }
    if (created.length)
      this.d.events.emit(sc, 'Normal', 'WorkerSlicesCreated', `VNI ${vni}: ${created.join(', ')}`);
    await this.deleteAll(
      existing.filter((w) => !placed.has(w.spec.cluster)),
      ctx,
      sc,
    );
    return missing.size ? { requeueAfter: MISSING_RETRY_MS } : {};
  };

  /**
   * Should two SliceConfigs ever claim one VNI (written by two leaders across a hand-over),
   * the older keeps it and only the younger moves, so the repair cannot flap.
   */
  private vniFor(key: string, sc: SliceConfig, existing: WorkerSlice[]): number {
    const used = new Set<number>();
    for (const other of this.d.sliceConfigs.list()) {
      const vni = other.status?.vni;
      if (vni === undefined || `${other.metadata.namespace}/${other.metadata.name}` === key) continue;
      if (vni === sc.status?.vni && olderThan(sc, other)) continue;
      used.add(vni);
    }
    for (const [k, v] of this.vnis) if (k !== key) used.add(v);
    const vni = allocateVni(this.vnis.get(key) ?? sc.status?.vni ?? existing[0]?.spec.vni, used);
    this.vnis.set(key, vni);
    return vni;
  }

  /** Why a member cannot get its WorkerSlice yet, or undefined if it can. */
  private whyMissing(hubNamespace: string, cluster: string): string | undefined {
    if (!this.d.clusters.get(cluster, hubNamespace)) return `no Cluster ${cluster} in ${hubNamespace}`;
    if (!this.d.namespaces.has(clusterNamespace(cluster))) return `no namespace ${clusterNamespace(cluster)}`;
    return undefined;
  }

  private async deleteAll(list: WorkerSlice[], ctx: ReconcileContext, sc?: SliceConfig): Promise<void> {
    for (const w of list) {
      try {
        await this.custom.deleteNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: resources.WorkerSlice.plural,
          namespace: w.metadata.namespace!,
          name: w.metadata.name,
        });
        ctx.log.info('workerslice deleted', { cluster: w.spec.cluster });
        if (sc)
          this.d.events.emit(sc, 'Normal', 'WorkerSliceDeleted', `cluster ${w.spec.cluster} left the slice`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /**
   * Deletes every WorkerSlice, then lets the SliceConfig go. The list comes from the API
   * server, not the cache, so a WorkerSlice created a moment ago is not orphaned.
   */
  private async finalize(sc: SliceConfig, ctx: ReconcileContext): Promise<ReconcileResult> {
    if (!sc.metadata.finalizers?.includes(FINALIZER)) return {};
    const namespace = sc.metadata.namespace ?? '';
    const labelSelector = `${SLICE_LABEL}=${sc.metadata.name},${OWNER_NAMESPACE_LABEL}=${namespace}`;
    const list = (await this.custom.listClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: resources.WorkerSlice.plural,
      labelSelector,
    })) as { items: WorkerSlice[] };
    if (list.items.length > 0) {
      await this.deleteAll(list.items, ctx, sc);
      return { requeueAfter: 500 };
    }
    await this.d.applier.removeFinalizer(sc, FINALIZER);
    const key = `${namespace}/${sc.metadata.name}`;
    this.vnis.delete(key);
    this.blocks.delete(key);
    ctx.log.info('sliceconfig finalized');
    return {};
  }
}

function recorded(c: { name: string; subnet?: string }): Assignment[] {
  return c.subnet ? [{ name: c.name, subnet: c.subnet }] : [];
}

function fromWorkerSlice(w: WorkerSlice): Assignment {
  return { name: w.spec.cluster, subnet: w.spec.block };
}

/** Creation order, then name: a total order every leader agrees on. */
export function olderThan(a: SliceConfig, b: SliceConfig): boolean {
  const ta = new Date(a.metadata.creationTimestamp ?? 0).getTime();
  const tb = new Date(b.metadata.creationTimestamp ?? 0).getTime();
  if (ta !== tb) return ta < tb;
  return `${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}`;
}

/**
 * Whether `current` already has everything `desired` sets (spec and labels). Optional fields
 * that go away (an endpoint list that shrinks to nothing, an import's hostname) are absent from
 * `desired`, which `covers` cannot see, so the peers' endpoints and the imports, which have no
 * server-side defaults, are compared whole.
 */
function sameContent(current: WorkerSlice, desired: WorkerSlice): boolean {
  const whole = (w: WorkerSlice): string =>
    canonical([(w.spec.peers ?? []).map((p) => [p.cluster, p.endpoints ?? []]), w.spec.imports ?? []]);
  return (
    covers(current.spec, desired.spec) &&
    covers(current.metadata.labels ?? {}, desired.metadata.labels ?? {}) &&
    whole(current) === whole(desired)
  );
}

/**
 * Whether `have` holds every value `want` sets; `have` may hold more (fields the API server
 * defaulted). Arrays must match element by element.
 */
export function covers(have: unknown, want: unknown): boolean {
  if (want === undefined) return true;
  if (Array.isArray(want))
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => covers(have[i], w));
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
    return Object.entries(want).every(([k, w]) => covers((have as Record<string, unknown>)[k], w));
  }
  return have === want;
}
