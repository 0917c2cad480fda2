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
/** The MCS API's group and version (crds/multicluster.x-k8s.io_*.yaml). */
export const MCS_GROUP = 'multicluster.x-k8s.io';
export const MCS_VERSION = 'v1alpha1';

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

/**
 * Every ServiceImport with its endpoints: the whole zone input from two informers' caches.
 * EndpointSlices are grouped once by namespace and service name, so a rebuild costs one pass
 * over each list, not imports × slices.
 */
export function importedServices(
  imports: readonly ServiceImportLike[],
  slices: readonly V1EndpointSlice[],
): ImportedService[] {
  const byService = new Map<string, V1EndpointSlice[]>();
  for (const slice of slices) {
    const key = `${slice.metadata?.namespace ?? ''}/${slice.metadata?.labels?.[SERVICE_NAME_LABEL] ?? ''}`;
    const group = byService.get(key);
    if (group) group.push(slice);
    else byService.set(key, [slice]);
  }
  return imports.map((si) =>
    importedService(si, byService.get(`${si.metadata?.namespace ?? ''}/${si.metadata?.name ?? ''}`) ?? []),
  );
}
