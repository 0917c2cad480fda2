/**
 * SliceConfig.status from what the workers report in their WorkerSlices. Pure: the reconciler
 * compares the result with the stored status and writes only on a difference.
 */
import { isConditionTrue, setConditions, type ConditionUpdate } from '../../lib/kube/conditions.ts';
import {
  Conditions,
  type ClusterPhase,
  type SliceClusterStatus,
  type SliceConfig,
  type SliceConfigStatus,
  type WorkerSlice,
} from '../api/types.ts';
import type { Assignment } from './allocate.ts';

/** Pending: not reported yet (or not for this generation); Ready/Degraded: as the worker says. */
export function phaseOf(ws: WorkerSlice | undefined): ClusterPhase {
  const st = ws?.status;
  if (!ws || !st || st.observedGeneration === undefined) return 'Pending';
  if (st.observedGeneration !== ws.metadata.generation) return 'Connecting';
  const ready = st.conditions?.find((c) => c.type === Conditions.Ready);
  if (ready?.status === 'True') return 'Ready';
  return ready?.status === 'False' ? 'Degraded' : 'Connecting';
}

export interface RollupInput {
  sc: SliceConfig;
  vni: number;
  assignments: readonly Assignment[];
  /** Members that got no WorkerSlice, and why (no Cluster, no namespace, no free block). */
  missing: ReadonlyMap<string, string>;
  workerSlices: ReadonlyMap<string, WorkerSlice>;
  now?: Date;
}

export function rollup(input: RollupInput): { status: SliceConfigStatus; changed: boolean } {
  const { sc, vni, assignments, missing, workerSlices } = input;
  const clusters: SliceClusterStatus[] = assignments.map((a) => {
    const ws = missing.has(a.name) ? undefined : workerSlices.get(a.name);
    const active = ws?.status?.gateways?.find((g) => g.active);
    return {
      name: a.name,
      subnet: a.subnet,
      phase: phaseOf(ws),
      endpoints: ws?.status?.endpoints?.length ?? 0,
      ...(active?.peers ? { gatewaysConnected: active.peers.filter((p) => p.connected).length } : {}),
    };
  });
  const notReady = clusters.filter((c) => c.phase !== 'Ready').map((c) => c.name);
  const degraded = clusters.filter((c) => c.phase === 'Degraded').map((c) => c.name);
  const waiting = clusters
    .filter((c) => c.phase === 'Pending' || c.phase === 'Connecting')
    .map((c) => c.name);
  const missingText = [...missing].map(([c, why]) => `${c}: ${why}`).join('; ');
  const allReady = notReady.length === 0 && missing.size === 0;
  const updates: ConditionUpdate[] = [
    allReady
      ? {
          type: Conditions.Ready,
          status: 'True',
          reason: 'AllClustersReady',
          message: 'every member cluster is ready',
        }
      : {
          type: Conditions.Ready,
          status: 'False',
          reason: missing.size ? 'ClustersMissing' : 'ClustersNotReady',
          message: missing.size ? missingText : `not ready: ${notReady.join(', ')}`,
        },
    waiting.length
      ? {
          type: Conditions.Progressing,
          status: 'True',
          reason: 'WaitingForClusters',
          message: `waiting for ${waiting.join(', ')}`,
        }
      : {
          type: Conditions.Progressing,
          status: 'False',
          reason: 'Converged',
          message: 'nothing in progress',
        },
    missing.size || degraded.length
      ? {
          type: Conditions.Degraded,
          status: 'True',
          reason: missing.size ? 'ClustersMissing' : 'ClustersDegraded',
          message: missing.size ? missingText : `degraded: ${degraded.join(', ')}`,
        }
      : {
          type: Conditions.Degraded,
          status: 'False',
          reason: 'AsExpected',
          message: 'no cluster is degraded',
        },
  ];
  const old = sc.status ?? {};
  const conds = setConditions(old.conditions, updates, sc.metadata.generation, input.now);
  const status: SliceConfigStatus = { vni, conditions: conds.conditions, clusters };
  const changed = conds.changed || old.vni !== vni || canonical(old.clusters ?? []) !== canonical(clusters);
  return { status, changed };
}

export const isReady = (sc: SliceConfig): boolean => isConditionTrue(sc.status?.conditions, Conditions.Ready);

/** JSON with object keys sorted: the API server stores custom resources with sorted keys. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
}
