/**
 * The worker's heartbeat: it renews the Lease `heartbeat` in its hub namespace every
 * `periodMs`; the hub turns that into Cluster.status (controller/hub/clusters.ts). A failed
 * renewal is logged once per outage and retried on the next tick; nothing else depends on it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { isNotFound } from '../../lib/kube/client.ts';
import type { Logger } from '../../lib/log.ts';
import { HEARTBEAT_LEASE } from '../api/names.ts';

export async function heartbeat(
  hub: KubeConfig,
  namespace: string,
  cluster: string,
  signal: AbortSignal,
  log: Logger,
  periodMs = 5_000,
): Promise<void> {
  const api = hub.makeApiClient(CoordinationV1Api);
  let failing = false;
  while (!signal.aborted) {
    try {
      await beat(api, namespace, cluster);
      if (failing) log.info('heartbeat recovered');
      failing = false;
    } catch (err) {
      if (!failing) log.error('heartbeat failed', { err });
      failing = true;
    }
    try {
      await sleep(periodMs, undefined, { signal });
    } catch {
      return;
    }
  }
}

async function beat(api: CoordinationV1Api, namespace: string, cluster: string): Promise<void> {
  const now = new V1MicroTime(Date.now());
  let lease: V1Lease;
  try {
    lease = await api.readNamespacedLease({ name: HEARTBEAT_LEASE, namespace });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    const body: V1Lease = {
      metadata: { name: HEARTBEAT_LEASE, namespace },
      spec: { holderIdentity: cluster, leaseDurationSeconds: 30, renewTime: now },
    };
    await api.createNamespacedLease({ namespace, body });
    return;
  }
  const body: V1Lease = { ...lease, spec: { ...lease.spec, holderIdentity: cluster, renewTime: now } };
  await api.replaceNamespacedLease({ name: HEARTBEAT_LEASE, namespace, body });
}
