/**
 * From the Kubernetes objects of a member cluster to the zone's input: a ServiceImport and the
 * EndpointSlices that carry its slice endpoints, one per exporting cluster, labelled as the MCS
 * API has it (multicluster.kubernetes.io/service-name, .../source-cluster). Pure: the worker's
 * informers call it and hand the list to RecordStore.replace.
 */
import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { ImportedService, SliceEndpoint, SlicePort } from './records.ts';

export const SERVICE_NAME_LABEL = 'multicluster.kubernetes.io/service-name';
export const SOURCE_CLUSTER_LABEL = 'multicluster.kubernetes.io/source-cluster';

/** The fields of a ServiceImport (crds/multicluster.x-k8s.io_serviceimports.yaml) the zone uses. */
export interface ServiceImportLike {
  metadata?: { name?: string; namespace?: string };
  spec?: { type?: 'ClusterSetIP' | 'Headless'; ports?: SlicePort[] };
}

/**
 * The EndpointSlices of `si`'s namespace whose service-name label is `si`'s name make up its
 * endpoints, each from the cluster its source-cluster label names. An endpoint without a ready
 * condition counts as ready, as Kubernetes reads it; one without an address is skipped.
 */
export function importedService(si: ServiceImportLike, slices: readonly V1EndpointSlice[]): ImportedService {
  const name = si.metadata?.name ?? '';
  const namespace = si.metadata?.namespace ?? '';
  const endpoints: SliceEndpoint[] = [];
  for (const slice of slices) {
    const labels = slice.metadata?.labels ?? {};
    if (slice.metadata?.namespace !== namespace || labels[SERVICE_NAME_LABEL] !== name) continue;
    if (slice.addressType !== 'IPv4') continue;
    const cluster = labels[SOURCE_CLUSTER_LABEL] ?? '';
    const ports: SlicePort[] = (slice.ports ?? [])
      .filter((p) => p.port !== undefined)
      .map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        ...(p.protocol ? { protocol: p.protocol as SlicePort['protocol'] } : {}),
        port: p.port!,
      }));
    for (const ep of slice.endpoints) {
      const ip = ep.addresses[0];
      if (!ip) continue;
      endpoints.push({
        ip,
        cluster,
        ...(ep.hostname ? { hostname: ep.hostname } : {}),
        ready: ep.conditions?.ready !== false,
        ...(slice.ports ? { ports } : {}),
      });
    }
  }
  return {
    namespace,
    name,
    ...(si.spec?.type ? { type: si.spec.type } : {}),
    ports: si.spec?.ports ?? [],
    endpoints,
  };
}
