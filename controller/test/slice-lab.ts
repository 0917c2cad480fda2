/**
 * The lab the worker's data-facing e2e tests share the shape of: two clusters of one node each,
 * Slicenet installed as an operator would (lab/slicenet.ts: c1 hub and member, webhook, agents,
 * netop, workers), one slice across both, and one namespace joined to it in each cluster. Pods
 * created there get slice0 from the webhook, Multus and the agent, as users' pods do.
 */
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { Lab } from '../../lab/lab.ts';
import { installSlicenet } from '../../lab/slicenet.ts';
import { testLabName } from '../../lab/test/leftovers.ts';
import { isNotFound } from '../../lib/kube/client.ts';
import { waitFor } from '../../lib/wait.ts';
import { SLICE_LABEL, SYSTEM_NAMESPACE } from '../api/names.ts';
import { API_VERSION, GROUP, VERSION, type Slice } from '../api/types.ts';

export const SLICE = 'demo';
export const NS = 'shop';
export const SUBNET = '10.90.0.0/16';
export const CLUSTERS = ['c1', 'c2'] as const;

export async function upSliceLab(prefix: string): Promise<Lab> {
  const lab = await Lab.up({ name: testLabName(prefix), clusters: CLUSTERS.length, nodes: 1 });
  try {
    await installSlicenet(lab, { hub: 'c1' });
    await lab.kubectl(
      'c1',
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: API_VERSION,
        kind: 'SliceConfig',
        metadata: { name: SLICE, namespace: SYSTEM_NAMESPACE },
        spec: { subnet: SUBNET, maxClusters: 4, clusters: [...CLUSTERS] },
      }),
    );
    for (const c of CLUSTERS) {
      await lab.kubectl(c, ['create', 'namespace', NS]);
      await lab.kubectl(c, ['label', 'namespace', NS, `${SLICE_LABEL}=${SLICE}`]);
    }
    await Promise.all(
      CLUSTERS.map((c) =>
        waitFor(
          async () =>
            (await lab.kubectl(c, ['get', 'net-attach-def', '-n', NS, '-o', 'name'])).includes(SLICE),
          120_000,
          `the slice NAD in ${c}/${NS}`,
        ),
      ),
    );
    return lab;
  } catch (err) {
    await lab.down();
    throw err;
  }
}

/** A pod that sleeps on the cluster's first node; extra containers and labels as given. */
export function slicePod(
  lab: Lab,
  cluster: string,
  name: string,
  o: { labels?: Record<string, string>; containers?: object[] } = {},
): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: o.labels ?? {} },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': lab.cluster(cluster).nodes[0]!.name },
      restartPolicy: 'Never',
      containers: [
        { name: 'main', image: 'lab/none', command: ['sleep', 'infinity'] },
        ...(o.containers ?? []),
      ],
    },
  };
}

export async function apply(lab: Lab, cluster: string, obj: object): Promise<void> {
  await lab.kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(obj));
}

/** The pod's slice0 address and MAC once it runs with one (Multus's network-status). */
export async function sliceNic(
  lab: Lab,
  cluster: string,
  name: string,
  timeoutMs = 120_000,
): Promise<{ ip: string; mac: string }> {
  const api = lab.kubeConfig(cluster).makeApiClient(CoreV1Api);
  let nic: { ip: string; mac: string } | undefined;
  await waitFor(
    async () => {
      const p: V1Pod | undefined = await api
        .readNamespacedPod({ namespace: NS, name })
        .catch(() => undefined);
      const raw = p?.metadata?.annotations?.['k8s.v1.cni.cncf.io/network-status'];
      if (p?.status?.phase !== 'Running' || !raw) return false;
      const e = (JSON.parse(raw) as { interface?: string; ips?: string[]; mac?: string }[]).find(
        (s) => s.interface === 'slice0',
      );
      if (e?.ips?.[0]) nic = { ip: e.ips[0], mac: e.mac ?? '' };
      return nic !== undefined;
    },
    timeoutMs,
    `${cluster}/${NS}/${name} Running with slice0`,
  );
  return nic!;
}

/** The member's Slice, read through the API (no kubectl process: tests poll it often). */
export async function readSlice(lab: Lab, cluster: string): Promise<Slice | undefined> {
  const api = lab.kubeConfig(cluster).makeApiClient(CustomObjectsApi);
  try {
    return (await api.getClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: 'slices',
      name: SLICE,
    })) as Slice;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
