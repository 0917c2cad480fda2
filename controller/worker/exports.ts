/**
 * A ServiceExport of this cluster (Multi-Cluster Services, multicluster.x-k8s.io/v1alpha1), as
 * the worker reports it to the hub and as its conditions say. Pure: the exports reconciler
 * (exporter.ts) reads the caches and calls these.
 *
 * An export is of the Service of the same namespace and name. Its endpoints are the Service's
 * EndpointSlices (the cluster's EndpointSlice controller keeps them, with readiness) mapped to
 * their pods' slice0 addresses (the same pod view as the slice endpoints, endpoints.ts): on a
 * slice there is no virtual IP, the importing clusters reach the pods themselves. An endpoint
 * whose pod has no slice0 is left out and counted in the conditions.
 *
 * Conditions (reasons say why an export is not ready):
 *   Valid     True Valid | False NamespaceNotOnSlice, ServiceNotFound, ServiceTypeNotSupported
 *   Ready     True Exported | False (Valid's reason), AwaitingHub, NoReadyEndpoints
 *   Conflict  True PortConflict, TypeConflict | False NoConflict
 */
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import type { Condition, ConditionUpdate } from '../../lib/kube/conditions.ts';
import { SLICE_LABEL } from '../api/names.ts';
import type {
  ExportEndpoint,
  PortProtocol,
  ServiceExportReport,
  ServicePort,
  WorkerSlice,
} from '../api/types.ts';
import { compareIp, sliceAttachment } from './endpoints.ts';

export const MCS_GROUP = 'multicluster.x-k8s.io';
export const MCS_VERSION = 'v1alpha1';
export const MCS_API_VERSION = `${MCS_GROUP}/${MCS_VERSION}`;

export interface ServiceExportObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string | Date; generation?: number };
  status?: { conditions?: Condition[] };
}

export interface ExportInputs {
  /** The slice the export's namespace has joined in this cluster, if any. */
  slice: string | undefined;
  service: V1Service | undefined;
  /** The Service's EndpointSlices (label kubernetes.io/service-name). */
  endpointSlices: readonly V1EndpointSlice[];
  /** A slice pod by namespace and name (undefined: not a slice pod). */
  pod: (namespace: string, name: string) => V1Pod | undefined;
}

export interface ExportView {
  /** Set when the export is valid: what goes to the hub. */
  report?: ServiceExportReport;
  valid: ConditionUpdate;
  /** Endpoints of the Service whose pod has no slice0. */
  notOnSlice: number;
}

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];

function port(p: { name?: string; protocol?: string; port?: number; appProtocol?: string }): ServicePort[] {
  if (p.port === undefined) return [];
  return [
    {
      ...(p.name ? { name: p.name } : {}),
      protocol: (PROTOCOLS.includes(p.protocol ?? '') ? p.protocol : 'TCP') as PortProtocol,
      port: p.port,
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    },
  ];
}

/** A pod's Ready condition; absent counts as ready (the EndpointSlice's condition decides). */
function podReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'False';
}

export function exportView(se: ServiceExportObject, x: ExportInputs): ExportView {
  const namespace = se.metadata?.namespace ?? '';
  const name = se.metadata?.name ?? '';
  const id = `${namespace}/${name}`;
  const invalid = (reason: string, message: string): ExportView => ({
    valid: { type: 'Valid', status: 'False', reason, message },
    notOnSlice: 0,
  });
  if (!x.slice)
    return invalid(
      'NamespaceNotOnSlice',
      `namespace ${namespace} has not joined a slice: label it ${SLICE_LABEL}=<slice> (kubectl slice join), or delete this ServiceExport`,
    );
  if (!x.service)
    return invalid('ServiceNotFound', `Service ${id} not found: create it, or delete this ServiceExport`);
  if (x.service.spec?.type === 'ExternalName')
    return invalid(
      'ServiceTypeNotSupported',
      `Service ${id} is of type ExternalName, which has no endpoints to export`,
    );

  const byIp = new Map<string, ExportEndpoint>();
  let notOnSlice = 0;
  for (const eps of x.endpointSlices) {
    const ports = (eps.ports ?? []).flatMap(port);
    for (const ep of eps.endpoints ?? []) {
      const ref = ep.targetRef;
      const pod = ref?.kind === 'Pod' && ref.name ? x.pod(ref.namespace ?? namespace, ref.name) : undefined;
      const at = pod ? sliceAttachment(pod, x.slice) : { skip: 'no-slice0' as const };
      if ('skip' in at) {
        if (at.skip !== 'not-running') notOnSlice++;
        continue;
      }
      // The pod's own Ready condition too: the worker sees it change as soon as the
      // EndpointSlice controller does, and an unready pod need not wait for that hop.
      const ready = ep.conditions?.ready !== false && podReady(pod!);
      const had = byIp.get(at.ip);
      // One pod in two EndpointSlices (while the controller moves it): ready if either says so.
      if (had) {
        had.ready ||= ready;
        continue;
      }
      const hostname = ep.hostname ?? (LABEL.test(ref!.name!) ? ref!.name : undefined);
      byIp.set(at.ip, {
        ip: at.ip,
        ...(hostname ? { hostname } : {}),
        ready,
        ...(ports.length ? { ports } : {}),
      });
    }
  }
  const type = x.service.spec?.clusterIP === 'None' ? 'Headless' : 'ClusterSetIP';
  const created = se.metadata?.creationTimestamp;
  const report: ServiceExportReport = {
    namespace,
    name,
    type,
    ports: (x.service.spec?.ports ?? []).flatMap(port),
    exportedAt: created instanceof Date ? created.toISOString() : (created ?? new Date(0).toISOString()),
    endpoints: [...byIp.values()].sort((a, b) => compareIp(a.ip, b.ip)),
  };
  return {
    report,
    notOnSlice,
    valid: {
      type: 'Valid',
      status: 'True',
      reason: 'Valid',
      message: `Service ${id} (${type}) is exported to the clusters of slice ${x.slice}`,
    },
  };
}

/** Valid, Ready and Conflict, from the export's view and what the hub made of it. */
export function exportConditions(
  view: ExportView,
  slice: string | undefined,
  ws: WorkerSlice | undefined,
  cluster: string,
): ConditionUpdate[] {
  const { report, valid } = view;
  const noConflict: ConditionUpdate = {
    type: 'Conflict',
    status: 'False',
    reason: 'NoConflict',
    message: 'no other cluster exports this service differently',
  };
  const ready = (status: 'True' | 'False', reason: string, message: string): ConditionUpdate[] => [
    valid,
    { type: 'Ready', status, reason, message },
  ];
  if (!report) return [...ready('False', valid.reason, valid.message), noConflict];
  const missing =
    view.notOnSlice > 0
      ? `; ${view.notOnSlice} endpoint${view.notOnSlice > 1 ? 's have' : ' has'} no slice0 (its pod is not on the slice)`
      : '';
  const imp = ws?.spec.imports?.find((i) => i.namespace === report.namespace && i.name === report.name);
  const conflict = imp?.conflicts.find((c) => c.cluster === cluster);
  const conflictCond: ConditionUpdate = conflict
    ? { type: 'Conflict', status: 'True', reason: conflict.reason, message: conflict.message }
    : noConflict;
  if (!imp?.clusters.some((c) => c.cluster === cluster))
    return [
      ...ready('False', 'AwaitingHub', `reported to the hub; not yet in slice ${slice}'s imports`),
      conflictCond,
    ];
  const total = report.endpoints.length;
  const up = report.endpoints.filter((e) => e.ready).length;
  if (up === 0)
    return [
      ...ready(
        'False',
        'NoReadyEndpoints',
        `imported, but none of its ${total} endpoint${total === 1 ? '' : 's'} on the slice is ready${missing}`,
      ),
      conflictCond,
    ];
  return [
    ...ready('True', 'Exported', `${up} of ${total} endpoints ready, imported in slice ${slice}${missing}`),
    conflictCond,
  ];
}
