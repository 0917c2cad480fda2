/**
 * What diagnose looks at, read once: from the hub, the SliceConfig, its WorkerSlices, the
 * Cluster objects and each worker's heartbeat Lease; from each member cluster it can reach
 * (members.ts), the local Slice, nodes, slice pods, gateway pods, SliceIPBlocks,
 * MultiNetworkPolicies and policy events. Each API server's clock is sampled from its `Date`
 * header. The checks then judge this snapshot; only the probes and pings act again.
 */
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  VersionApi,
  type V1Lease,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  GATEWAY_APP,
  HEARTBEAT_LEASE,
  SLICE_LABEL,
  SYSTEM_NAMESPACE,
  clusterNamespace,
  nadName,
} from '../../controller/api/names.ts';
import {
  GROUP,
  VERSION,
  resources,
  type Cluster,
  type Slice,
  type SliceConfig,
  type SliceIPBlock,
  type WorkerSlice,
} from '../../controller/api/types.ts';
import { apiStatus } from '../../lib/kube/client.ts';
import { MNP_PLURAL, policyTargets, type MultiNetworkPolicy } from '../../netop/policy/types.ts';
import type { Kube } from '../kube.ts';
import { SliceConfigs } from '../sliceconfigs.ts';
import type { Members } from './members.ts';
import { slicePods, type SlicePod } from './slicepods.ts';

/** An API server's clock: its Date header, and this machine's clock halfway through the call. */
export interface ClockSample {
  server: Date;
  localMs: number;
  /** The call's round trip, ms: the sample is good to ± half of it, plus the header's 1 s. */
  rttMs: number;
}

export interface HubView {
  config: SliceConfig;
  workerSlices: WorkerSlice[];
  clusters: Map<string, Cluster>;
  leases: Map<string, V1Lease>;
  /** This machine's clock when the leases were read, to judge their age by. */
  leasesReadAtMs: number;
  clock?: ClockSample;
}

export interface MemberView {
  cluster: string;
  kube?: Kube;
  /** Why the member cluster could not be read; the other fields are then empty. */
  unreachable?: string;
  slice?: Slice;
  nodes: V1Node[];
  pods?: SlicePod[];
  gatewayPods: V1Pod[];
  blocks: SliceIPBlock[];
  /** MultiNetworkPolicies that name the slice; undefined when the CRD is not served. */
  policies?: string[];
  /** Messages of PolicyRejected events in the slice's namespaces. */
  rejected: string[];
  clock?: ClockSample;
}

export async function clockOf(kube: Kube): Promise<ClockSample | undefined> {
  const t0 = Date.now();
  try {
    const r = await kube.kc.makeApiClient(VersionApi).getCodeWithHttpInfo();
    const t1 = Date.now();
    const date = r.headers['date'];
    return date ? { server: new Date(date), localMs: (t0 + t1) / 2, rttMs: t1 - t0 } : undefined;
  } catch {
    return undefined;
  }
}

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
}

export async function gatherHub(hub: Kube, namespace: string, slice: string): Promise<HubView> {
  const slices = new SliceConfigs(hub, namespace);
  const config = await slices.get(slice);
  const custom = hub.kc.makeApiClient(CustomObjectsApi);
  const coordination = hub.kc.makeApiClient(CoordinationV1Api);
  const [workerSlices, clusterList, clock] = await Promise.all([
    slices.workerSlices(slice),
    hub.call(`Clusters in namespace ${namespace}`, async () => {
      const r = (await custom.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: resources.Cluster.plural,
      })) as { items: Cluster[] };
      return r.items;
    }),
    clockOf(hub),
  ]);
  const leases = new Map<string, V1Lease>();
  await Promise.all(
    (config.spec.clusters ?? []).map(async (c) => {
      const lease = await orUndefined(
        coordination.readNamespacedLease({ name: HEARTBEAT_LEASE, namespace: clusterNamespace(c) }),
      ).catch(() => undefined);
      if (lease) leases.set(c, lease);
    }),
  );
  return {
    config,
    workerSlices,
    clusters: new Map(clusterList.map((c) => [c.metadata.name, c])),
    leases,
    leasesReadAtMs: Date.now(),
    clock,
  };
}

export async function gatherMember(members: Members, cluster: string, slice: string): Promise<MemberView> {
  const empty: MemberView = { cluster, nodes: [], gatewayPods: [], blocks: [], rejected: [] };
  const kube = members(cluster);
  if (!kube) return { ...empty, unreachable: `the kubeconfig has no context named '${cluster}'` };
  const core = kube.kc.makeApiClient(CoreV1Api);
  const custom = kube.kc.makeApiClient(CustomObjectsApi);
  try {
    const [sliceObj, nodes, pods, gatewayPods, blocks, policies, clock] = await Promise.all([
      kube.call(`Slice ${slice} in ${cluster}`, () =>
        orUndefined(
          custom.getClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: resources.Slice.plural,
            name: slice,
          }) as Promise<Slice>,
        ),
      ),
      kube.call(`nodes of ${cluster}`, async () => (await core.listNode()).items),
      slicePods(kube, cluster, slice),
      kube.call(
        `gateway pods of ${cluster}`,
        async () =>
          (
            await core.listNamespacedPod({
              namespace: SYSTEM_NAMESPACE,
              labelSelector: `app.kubernetes.io/name=${GATEWAY_APP},${SLICE_LABEL}=${slice}`,
            })
          ).items,
      ),
      kube.call(`SliceIPBlocks of ${cluster}`, async () => {
        const r = (await custom.listClusterCustomObject({
          group: GROUP,
          version: VERSION,
          plural: resources.SliceIPBlock.plural,
        })) as { items: SliceIPBlock[] };
        return r.items.filter((b) => b.spec.slice === slice);
      }),
      orUndefined(
        custom.listClusterCustomObject({
          group: 'k8s.cni.cncf.io',
          version: 'v1beta1',
          plural: MNP_PLURAL,
        }) as Promise<{ items: MultiNetworkPolicy[] }>,
      ).then((r) =>
        r?.items
          .filter((p) => policyTargets(p, nadName(slice)))
          .map((p) => `${p.metadata.namespace ?? ''}/${p.metadata.name}`),
      ),
      clockOf(kube),
    ]);
    const events = await core.listEventForAllNamespaces({ fieldSelector: 'reason=PolicyRejected' }).then(
      (r) => r.items,
      () => [],
    );
    const rejected = events
      .filter((e) => (e.message ?? '').includes(`slice ${slice} `))
      .map((e) => `${e.involvedObject.namespace}/${e.involvedObject.name}: ${e.message ?? ''}`);
    return { cluster, kube, slice: sliceObj, nodes, pods, gatewayPods, blocks, policies, rejected, clock };
  } catch (err) {
    return { ...empty, kube, unreachable: (err as Error).message };
  }
}
