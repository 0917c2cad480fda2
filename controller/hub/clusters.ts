/**
 * The Cluster reconciler: `Registered` from the cluster's hub namespace, `Healthy` and
 * `lastHeartbeatTime` from the heartbeat Lease its worker renews there (every 5 s).
 *
 * Why a Lease and not Cluster.status: the worker's credential reaches its own namespace only
 * (SPEC §2), and the Cluster lives in the hub namespace. Like kubelet's node Leases, the hub
 * turns the Lease into status. Staleness is timed on this process's clock from when it saw the
 * Lease change, never by comparing the worker's clock with ours, so clock skew cannot mark a
 * cluster healthy or dead; the price is that a cluster that was already dead when the
 * controller started looks healthy for one STALE_MS.
 */
import type { V1Lease } from '@kubernetes/client-node';
import type { Applier } from '../../lib/kube/apply.ts';
import { kubeTime } from '../../lib/kube/client.ts';
import { setConditions, type ConditionUpdate } from '../../lib/kube/conditions.ts';
import type { EventRecorder } from '../../lib/kube/events.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import type { ReconcileContext, ReconcileResult } from '../../lib/kube/workers.ts';
import { clusterNamespace, HEARTBEAT_LEASE } from '../api/names.ts';
import { Conditions, type Cluster, type ClusterStatus } from '../api/types.ts';
import { splitKey } from '../informers.ts';

/** Unhealthy once no heartbeat was seen for this long; with RECHECK_MS that shows within 30 s. */
export const STALE_MS = 15_000;
const RECHECK_MS = 5_000;

export interface ClusterDeps {
  applier: Applier;
  events: EventRecorder;
  clusters: Informer<Cluster>;
  leases: Informer<V1Lease>;
  namespaces: { has(name: string): boolean };
}

export class ClusterReconciler {
  /** Per cluster key: the Lease version last seen, and when (performance.now()). */
  private readonly seen = new Map<string, { rv: string; at: number }>();

  constructor(private readonly d: ClusterDeps) {}

  reconcile = async (key: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const { namespace, name } = splitKey(key);
    const cluster = this.d.clusters.get(name, namespace);
    if (!cluster) {
      this.seen.delete(key);
      return {};
    }
    const ns = clusterNamespace(name);
    const lease = this.d.leases.get(HEARTBEAT_LEASE, ns);
    const rv = lease?.metadata?.resourceVersion;
    const now = performance.now();
    if (rv && this.seen.get(key)?.rv !== rv) this.seen.set(key, { rv, at: now });
    const seenAt = rv ? this.seen.get(key)?.at : undefined;
    const renew = lease?.spec?.renewTime as unknown as string | undefined;

    const healthy: ConditionUpdate =
      seenAt === undefined
        ? {
            type: Conditions.Healthy,
            status: 'Unknown',
            reason: 'NoHeartbeat',
            message: 'the worker has not heart-beaten yet',
          }
        : now - seenAt < STALE_MS
          ? {
              type: Conditions.Healthy,
              status: 'True',
              reason: 'HeartbeatCurrent',
              message: 'the worker heart-beats',
            }
          : {
              type: Conditions.Healthy,
              status: 'False',
              reason: 'HeartbeatMissed',
              message: `no heartbeat for ${Math.round((now - seenAt) / 1000)} s`,
            };
    const registered: ConditionUpdate = this.d.namespaces.has(ns)
      ? {
          type: Conditions.Registered,
          status: 'True',
          reason: 'NamespaceReady',
          message: `namespace ${ns} exists`,
        }
      : {
          type: Conditions.Registered,
          status: 'False',
          reason: 'NoNamespace',
          message: `namespace ${ns} is missing`,
        };

    const old = cluster.status ?? {};
    const conds = setConditions(old.conditions, [registered, healthy], cluster.metadata.generation);
    const heartbeat = renew ? kubeTime(new Date(renew)) : old.lastHeartbeatTime;
    if (conds.changed || heartbeat !== old.lastHeartbeatTime) {
      const status: ClusterStatus = {
        conditions: conds.conditions,
        ...(heartbeat ? { lastHeartbeatTime: heartbeat } : {}),
      };
      await this.d.applier.applyStatus({ ...cluster, status });
      const was = old.conditions?.find((c) => c.type === Conditions.Healthy)?.status;
      if (was !== healthy.status) {
        ctx.log.info('cluster health changed', { healthy: healthy.status, reason: healthy.reason });
        this.d.events.emit(
          cluster,
          healthy.status === 'False' ? 'Warning' : 'Normal',
          healthy.reason,
          healthy.message,
        );
      }
    }
    return { requeueAfter: RECHECK_MS };
  };
}
