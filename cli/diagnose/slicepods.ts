/**
 * The slice's pods in one member cluster, with their slice0 address as Multus recorded it in
 * the pod's network-status annotation. Gateway pods carry the slice label too but run on the
 * host network without slice0, so they drop out here.
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { SLICE_LABEL } from '../../controller/api/names.ts';
import type { Kube } from '../kube.ts';

const NETWORK_STATUS = 'k8s.v1.cni.cncf.io/network-status';
export const SLICE_IFACE = 'slice0';

export interface SlicePod {
  cluster: string;
  namespace: string;
  name: string;
  uid: string;
  node: string;
  /** The pod's slice0 address. */
  ip: string;
}

/** slice0's first address in a pod's network-status, or undefined (none, or unreadable). */
export function sliceAddress(pod: V1Pod): string | undefined {
  const raw = pod.metadata?.annotations?.[NETWORK_STATUS];
  if (!raw) return undefined;
  try {
    const list = JSON.parse(raw) as { interface?: string; ips?: string[] }[];
    return Array.isArray(list) ? list.find((s) => s.interface === SLICE_IFACE)?.ips?.[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Running, not deleting pods of `slice` in the cluster that have slice0, sorted by namespace/name. */
export async function slicePods(kube: Kube, cluster: string, slice: string): Promise<SlicePod[]> {
  const core = kube.kc.makeApiClient(CoreV1Api);
  const list = await kube.call(`the pods of slice ${slice} in cluster ${cluster}`, () =>
    core.listPodForAllNamespaces({ labelSelector: `${SLICE_LABEL}=${slice}` }),
  );
  return list.items
    .flatMap((p): SlicePod[] => {
      const ip = sliceAddress(p);
      if (!ip || p.status?.phase !== 'Running' || p.metadata?.deletionTimestamp) return [];
      return [
        {
          cluster,
          namespace: p.metadata?.namespace ?? '',
          name: p.metadata?.name ?? '',
          uid: p.metadata?.uid ?? '',
          node: p.spec?.nodeName ?? '',
          ip,
        },
      ];
    })
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

export const podName = (p: SlicePod): string => `${p.cluster}/${p.namespace}/${p.name}`;
