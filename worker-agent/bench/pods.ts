/**
 * One batch of pods as a user would make it: create them back to back through the API, then
 * wait until every one is Running with its second NIC in Multus's network-status. A pod's
 * latency runs from just before its create call to the watch event that shows it so, on
 * this process's clock: the API's own timestamps have one-second resolution.
 */
import { CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { sleeperPod } from '../../lab/demo.ts';
import type { Lab } from '../../lab/lab.ts';
import { CLUSTER, NAMESPACE } from './slice-lab.ts';

const NETWORK_STATUS = 'k8s.v1.cni.cncf.io/network-status';
const BATCH_TIMEOUT_MS = 180_000;

/** A second NIC to attach: the NetworkAttachmentDefinition and the interface it becomes. */
export interface Nic {
  nad: string;
  iface: string;
}

export const networksAnnotation = (nic: Nic): string =>
  JSON.stringify([{ name: nic.nad, interface: nic.iface }]);

function hasNic(pod: V1Pod, iface: string): boolean {
  const raw = pod.metadata?.annotations?.[NETWORK_STATUS];
  if (pod.status?.phase !== 'Running' || !raw) return false;
  return (JSON.parse(raw) as { interface?: string }[]).some((s) => s.interface === iface);
}

/** Creates `count` pods named `<prefix>-<i>` spread over the cluster's nodes; their latencies in ms. */
export async function podBatch(lab: Lab, prefix: string, count: number, nic: Nic): Promise<number[]> {
  const kc = lab.kubeConfig(CLUSTER);
  const created = new Map<string, number>();
  const latencies = new Map<string, number>();
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const watch = await new Watch(kc).watch(
    `/api/v1/namespaces/${NAMESPACE}/pods`,
    {},
    (_type, pod: V1Pod) => {
      const name = pod.metadata?.name ?? '';
      const t0 = created.get(name);
      if (t0 !== undefined && !latencies.has(name) && hasNic(pod, nic.iface)) {
        latencies.set(name, performance.now() - t0);
        if (latencies.size === count) resolveDone();
      }
    },
    () => resolveDone(),
  );
  const timeout = setTimeout(resolveDone, BATCH_TIMEOUT_MS);
  try {
    const api = kc.makeApiClient(CoreV1Api);
    const nodes = lab.cluster(CLUSTER).nodes.map((n) => n.name);
    for (let i = 0; i < count; i++) {
      const name = `${prefix}-${i}`;
      const body = sleeperPod(NAMESPACE, name, nodes[i % nodes.length]!, networksAnnotation(nic));
      created.set(name, performance.now());
      await api.createNamespacedPod({ namespace: NAMESPACE, body });
    }
    await done;
  } finally {
    clearTimeout(timeout);
    watch.abort();
  }
  if (latencies.size < count) {
    const missing = [...created.keys()].filter((n) => !latencies.has(n));
    throw new Error(
      `${prefix}: only ${latencies.size} of ${count} pods were Running with ${nic.iface} ` +
        `within ${BATCH_TIMEOUT_MS / 1000} s (or the watch ended); missing: ${missing.slice(0, 5).join(' ')}…`,
    );
  }
  return [...latencies.values()];
}

/** Deletes every pod of the bench namespace and waits until they are gone (CNI DEL done). */
export async function deleteAllPods(lab: Lab): Promise<void> {
  await lab.kubectl(CLUSTER, ['delete', 'pod', '-n', NAMESPACE, '--all', '--wait=true', '--timeout=180s']);
}
