/**
 * What the hub's merged imports (WorkerSlice.spec.imports) become in a member cluster: per
 * imported service, in the same namespace, a ServiceImport (spec.type, spec.ports,
 * status.clusters) and per exporting cluster the EndpointSlices of its endpoints' slice
 * addresses — the shape slicenet-dns reads (dns/import.ts): labels
 * multicluster.kubernetes.io/service-name and .../source-cluster, addressType IPv4, one address
 * per endpoint, hostname, the ready condition, and the endpoints' own ports.
 *
 * Endpoints of one cluster whose port numbers differ (a named targetPort resolving differently
 * per pod) go into one EndpointSlice per port set, as the EndpointSlice controller does; its
 * name carries a hash of the set, so the same input always yields the same names. Pure.
 *
 * Only namespaces that joined the import's slice in this cluster get it: pods elsewhere cannot
 * reach slice addresses.
 */
import { createHash } from 'node:crypto';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { SLICE_LABEL } from '../api/names.ts';
import type { ExportEndpoint, ServiceImportSpec, ServicePort, WorkerSlice } from '../api/types.ts';
import { canonical } from '../hub/rollup.ts';
import { MCS_API_VERSION } from './exports.ts';
import { WORKER_MANAGED } from './nads.ts';

export const SERVICE_NAME_LABEL = 'multicluster.kubernetes.io/service-name';
export const SOURCE_CLUSTER_LABEL = 'multicluster.kubernetes.io/source-cluster';
export const EPS_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** Keeps the cluster's EndpointSlice controller (and anything else) off our slices. */
export const EPS_MANAGER = 'slicenet-worker.slicenet.dev';

export interface ServiceImportObject {
  apiVersion: typeof MCS_API_VERSION;
  kind: 'ServiceImport';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: { type: ServiceImportSpec['type']; ports: ServicePort[] };
  status: { clusters: { cluster: string }[] };
}

export type ImportedEndpointSlice = V1EndpointSlice & {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
};

export interface DesiredImports {
  serviceImports: ServiceImportObject[];
  endpointSlices: ImportedEndpointSlice[];
  /** Services imported by more than one slice into one namespace: the first slice by name keeps it. */
  duplicates: string[];
}

/** `joined(namespace, slice)`: whether the namespace has joined that slice in this cluster. */
export function desiredImports(
  workerSlices: readonly WorkerSlice[],
  joined: (namespace: string, slice: string) => boolean,
): DesiredImports {
  const out: DesiredImports = { serviceImports: [], endpointSlices: [], duplicates: [] };
  const seen = new Set<string>();
  const sorted = [...workerSlices].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  for (const ws of sorted) {
    const slice = ws.metadata.name;
    for (const imp of ws.spec.imports ?? []) {
      if (!joined(imp.namespace, slice)) continue;
      const key = `${imp.namespace}/${imp.name}`;
      if (seen.has(key)) {
        out.duplicates.push(`${key} (slice ${slice})`);
        continue;
      }
      seen.add(key);
      const labels = { ...WORKER_MANAGED, [SLICE_LABEL]: slice };
      out.serviceImports.push({
        apiVersion: MCS_API_VERSION,
        kind: 'ServiceImport',
        metadata: { name: imp.name, namespace: imp.namespace, labels },
        spec: { type: imp.type, ports: imp.ports },
        status: { clusters: imp.clusters.map((c) => ({ cluster: c.cluster })) },
      });
      for (const c of imp.clusters)
        out.endpointSlices.push(...clusterSlices(imp, c.cluster, c.endpoints, labels));
    }
  }
  return out;
}

function clusterSlices(
  imp: ServiceImportSpec,
  cluster: string,
  endpoints: readonly ExportEndpoint[],
  labels: Record<string, string>,
): ImportedEndpointSlice[] {
  const byPorts = new Map<string, { ports: ServicePort[]; endpoints: ExportEndpoint[] }>();
  for (const ep of endpoints) {
    const ports = ep.ports ?? imp.ports;
    const key = canonical(ports);
    const group = byPorts.get(key) ?? { ports, endpoints: [] };
    group.endpoints.push(ep);
    byPorts.set(key, group);
  }
  return [...byPorts.entries()].map(([key, g]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${imp.name}-${cluster}-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`,
      namespace: imp.namespace,
      labels: {
        ...labels,
        [SERVICE_NAME_LABEL]: imp.name,
        [SOURCE_CLUSTER_LABEL]: cluster,
        [EPS_MANAGED_BY_LABEL]: EPS_MANAGER,
      },
    },
    addressType: 'IPv4',
    endpoints: g.endpoints.map((ep) => ({
      addresses: [ep.ip],
      ...(ep.hostname ? { hostname: ep.hostname } : {}),
      conditions: { ready: ep.ready, serving: ep.ready, terminating: false },
    })),
    ports: g.ports.map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      protocol: p.protocol ?? 'TCP',
      port: p.port,
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    })),
  }));
}
