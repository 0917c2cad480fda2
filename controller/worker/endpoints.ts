/**
 * A member cluster's slice endpoints (SPEC §3.3): every running slice pod's `slice0` address and
 * MAC, with its namespace, name and labels, written to the local `Slice.status.endpoints` (netop
 * reads it for policy) and to the hub's `WorkerSlice.status.endpoints` (the hub copies it into
 * the peers' `spec.peers[].endpoints`, where their netop and gateways find it).
 *
 *   Pod informer (label slicenet.dev/slice) ──► endpoints queue, per slice, after COALESCE_MS
 *       ──► EndpointsReconciler: pods → sliceEndpoints() → status of Slice and WorkerSlice
 *
 * The address comes from Multus's `k8s.v1.cni.cncf.io/network-status` annotation: the entry for
 * interface `slice0` of network `<namespace>/slicenet-<slice>`. A pod whose annotation is missing
 * or malformed is skipped and counted (`slicenet_worker_endpoints_skipped_total{reason}`), never
 * fatal: one bad pod must not take the slice's other endpoints off the peers' lists.
 *
 * Writes are server-side applies under their own field manager, so they neither take nor drop
 * the fields the worker's other writers own (conditions, gateways). They happen only when the
 * sorted list differs from what the caches show, and the per-slice queue key coalesces a burst
 * of pod events into one write at most COALESCE_MS after the first of them; an event that comes
 * while a write runs queues one more pass, so the last change is never lost.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { Counter, type Registry } from 'prom-client';
import type { Applier } from '../../lib/kube/apply.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import type { ReconcileContext, ReconcileResult } from '../../lib/kube/workers.ts';
import { nadName, SLICE_LABEL } from '../api/names.ts';
import { API_VERSION, type Endpoint, type Slice, type WorkerSlice } from '../api/types.ts';
import { canonical } from '../hub/rollup.ts';

export const NETWORK_STATUS = 'k8s.v1.cni.cncf.io/network-status';
export const SLICE_INTERFACE = 'slice0';
export const ENDPOINTS_FIELD_MANAGER = 'slicenet-worker-endpoints';
/** How long pod events are gathered before one write; well under the 1 s the contract allows. */
export const COALESCE_MS = 100;

/** `not-running` covers every pod that is not on the slice now and is not counted as a problem. */
export type SkipReason = 'not-running' | 'no-annotation' | 'bad-annotation' | 'no-slice0' | 'bad-ip';

/** A pod's attachment to its slice, or why it has none. */
export type Attachment = { ip: string; mac?: string } | { skip: SkipReason };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

interface NetworkStatusEntry {
  name?: unknown;
  interface?: unknown;
  ips?: unknown;
  mac?: unknown;
}

/**
 * The pod's `slice0` on `slice`, from Multus's network-status. Only running pods that are not
 * being deleted count: a terminating pod's address is about to be released and reused.
 */
export function sliceAttachment(pod: V1Pod, slice: string): Attachment {
  if (pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) return { skip: 'not-running' };
  // Host-network pods (the slice's own gateways carry the slice label) have no slice0.
  if (pod.spec?.hostNetwork) return { skip: 'not-running' };
  const raw = pod.metadata?.annotations?.[NETWORK_STATUS];
  if (raw === undefined) return { skip: 'no-annotation' };
  let entries: unknown;
  try {
    entries = JSON.parse(raw);
  } catch {
    return { skip: 'bad-annotation' };
  }
  if (!Array.isArray(entries)) return { skip: 'bad-annotation' };
  const network = `${pod.metadata?.namespace ?? ''}/${nadName(slice)}`;
  const entry = (entries as unknown[]).find(
    (e): e is NetworkStatusEntry =>
      e !== null &&
      typeof e === 'object' &&
      (e as NetworkStatusEntry).interface === SLICE_INTERFACE &&
      (e as NetworkStatusEntry).name === network,
  );
  if (!entry) return { skip: 'no-slice0' };
  const first = Array.isArray(entry.ips) ? (entry.ips as unknown[])[0] : undefined;
  // Multus writes bare addresses; a prefix length, should a plugin report one, is not part of it.
  const ip = typeof first === 'string' ? first.split('/')[0]! : '';
  if (!IPV4.test(ip)) return { skip: 'bad-ip' };
  const mac = typeof entry.mac === 'string' ? entry.mac.toLowerCase() : '';
  // An endpoint without a MAC still serves policy; only the gateway's ARP answers need it.
  return MAC.test(mac) ? { ip, mac } : { ip };
}

export interface EndpointsResult {
  endpoints: Endpoint[];
  skipped: { pod: string; reason: SkipReason }[];
}

/**
 * The endpoints of `slice` among `pods` (those labelled for it), sorted by address. The list is
 * keyed by address in the CRD, so should two pods claim one (a stale annotation), the first in
 * namespace/name order keeps it and the other is skipped as `bad-ip`.
 */
export function sliceEndpoints(pods: readonly V1Pod[], slice: string): EndpointsResult {
  const byIp = new Map<string, Endpoint>();
  const skipped: EndpointsResult['skipped'] = [];
  const sorted = pods
    .filter((p) => p.metadata?.labels?.[SLICE_LABEL] === slice)
    .sort((a, b) => podKey(a).localeCompare(podKey(b)));
  for (const pod of sorted) {
    const at = sliceAttachment(pod, slice);
    if ('skip' in at) {
      // Pending and finished pods are not malformed: they are simply not on the slice now.
      if (at.skip !== 'not-running') skipped.push({ pod: podKey(pod), reason: at.skip });
      continue;
    }
    if (byIp.has(at.ip)) {
      skipped.push({ pod: podKey(pod), reason: 'bad-ip' });
      continue;
    }
    const labels = pod.metadata?.labels ?? {};
    byIp.set(at.ip, {
      ip: at.ip,
      ...(at.mac ? { mac: at.mac } : {}),
      namespace: pod.metadata!.namespace!,
      pod: pod.metadata!.name!,
      ...(Object.keys(labels).length ? { labels: { ...labels } } : {}),
    });
  }
  const endpoints = [...byIp.values()].sort((a, b) => compareIp(a.ip, b.ip));
  return { endpoints, skipped };
}

export function podKey(p: V1Pod): string {
  return `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;
}

export function compareIp(x: string, y: string): number {
  const a = x.split('.').map(Number);
  const b = y.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** The counter of skipped slice pods; made once per process (leadership may come and go). */
export function skippedCounter(registry: Registry): Counter<'reason'> {
  return new Counter({
    name: 'slicenet_worker_endpoints_skipped_total',
    help: 'Slice pods left off the endpoint list, by reason (no-annotation, bad-annotation, no-slice0, bad-ip).',
    labelNames: ['reason'],
    registers: [registry],
  });
}

export interface EndpointsDeps {
  hubNamespace: string;
  pods: Informer<V1Pod>;
  slices: Informer<Slice>;
  workerSlices: Informer<WorkerSlice>;
  local: Applier;
  hub: Applier;
  skipped?: Counter<'reason'>;
}

/** One key per slice: its endpoints, written where they differ. */
export class EndpointsReconciler {
  /** What was last counted per pod, so a pod that stays malformed is counted once. */
  private readonly counted = new Map<string, SkipReason>();

  constructor(private readonly d: EndpointsDeps) {}

  reconcile = async (slice: string, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const d = this.d;
    if (!d.pods.synced) return {};
    const { endpoints, skipped } = sliceEndpoints(d.pods.list(), slice);
    this.count(slice, skipped, ctx);
    const want = canonical(endpoints);
    const local = d.slices.get(slice);
    if (local && canonical(local.status?.endpoints ?? []) !== want) {
      await d.local.applyStatus({
        apiVersion: API_VERSION,
        kind: 'Slice',
        metadata: { name: slice },
        status: { endpoints },
      });
      ctx.log.info('slice endpoints written', { count: endpoints.length });
    }
    const ws = d.workerSlices.get(slice, d.hubNamespace);
    if (ws && canonical(ws.status?.endpoints ?? []) !== want) {
      await d.hub.applyStatus({
        apiVersion: API_VERSION,
        kind: 'WorkerSlice',
        metadata: { name: slice, namespace: d.hubNamespace },
        status: { endpoints },
      });
      ctx.log.info('endpoints reported to the hub', { count: endpoints.length });
    }
    return {};
  };

  private count(slice: string, skipped: EndpointsResult['skipped'], ctx: ReconcileContext): void {
    const now = new Set<string>();
    for (const s of skipped) {
      const key = `${slice} ${s.pod}`;
      now.add(key);
      if (this.counted.get(key) === s.reason) continue;
      this.counted.set(key, s.reason);
      this.d.skipped?.inc({ reason: s.reason });
      ctx.log.info('slice pod skipped', { pod: s.pod, reason: s.reason });
    }
    for (const key of this.counted.keys())
      if (key.startsWith(`${slice} `) && !now.has(key)) this.counted.delete(key);
  }
}
