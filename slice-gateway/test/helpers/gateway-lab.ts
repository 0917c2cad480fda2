/**
 * The lab of gateway.e2e: two clusters (c1 is also the hub), the real controller, both workers,
 * an agent per node, and the slice `gw` with gateways as the worker deploys them — two replicas
 * per cluster on the nodes labelled slicenet.dev/gateway=true. Pod `a` in c1 and `b` (an iperf3
 * server) in c2, both in namespace `shop`; and what the tests ask of the gateways.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLabController, startLabWorker } from '../../../controller/lab.ts';
import { registerCluster } from '../../../controller/registration.ts';
import type { GatewayStatus, Slice } from '../../../controller/api/types.ts';
import { waitSliceIp } from '../../../lab/demo.ts';
import type { Lab } from '../../../lab/lab.ts';
import { waitFor } from '../../../lib/wait.ts';
import { startLabAgent, waitLabAgentReady } from '../../../worker-agent/lab.ts';
import { gatewayLog, gatewayPods, labelGatewayNodes, type LabGatewayPod } from '../../lab.ts';

const repo = join(import.meta.dirname, '..', '..', '..');
export const HUB_NS = 'slicenet-system';
export const NS = 'shop';
export const SLICE = 'gw';
export const CLUSTERS = ['c1', 'c2'];
const NETWORKS = JSON.stringify([{ name: `slicenet-${SLICE}`, interface: 'slice0' }]);

/** Installs Slicenet and the slice on a two-cluster lab; the slice0 addresses of pods a and b. */
export async function setUpGatewaySlice(lab: Lab): Promise<{ a: string; b: string }> {
  await lab.kubectl('c1', ['create', 'namespace', HUB_NS]);
  for (const c of CLUSTERS) {
    await lab.kubectl(c, ['apply', '-f', join(repo, 'crds')]);
    await lab.kubectl(c, ['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);
  }
  startLabController(lab, { hubCluster: 'c1' });
  for (const c of CLUSTERS) {
    const { kubeconfig } = await registerCluster(lab.kubeConfig('c1'), c, {
      server: lab.lanServer('c1'),
      caFile: join(lab.paths.cluster('c1'), 'pki', 'ca.crt'),
    });
    const hubKubeconfig = join(lab.paths.cluster(c), 'hub.kubeconfig');
    writeFileSync(hubKubeconfig, kubeconfig);
    startLabWorker(lab, { cluster: c, hubKubeconfig });
    for (const n of lab.cluster(c).nodes) startLabAgent(lab, n.name);
    await labelGatewayNodes(lab, c);
  }
  await lab.kubectl(
    'c1',
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'slicenet.dev/v1alpha1',
      kind: 'SliceConfig',
      metadata: { name: SLICE, namespace: HUB_NS },
      spec: { subnet: '10.91.0.0/16', maxClusters: 4, clusters: CLUSTERS, gateway: { replicas: 2 } },
    }),
  );
  for (const c of CLUSTERS) {
    await lab.kubectl(c, ['create', 'namespace', NS]);
    await lab.kubectl(c, ['label', 'namespace', NS, `slicenet.dev/slice=${SLICE}`]);
  }
  for (const c of CLUSTERS) {
    await waitFor(
      async () => (await lab.kubectl(c, ['get', 'net-attach-def', '-n', NS, '-o', 'name'])).includes(SLICE),
      90_000,
      `the slice NAD in ${c}`,
    );
    for (const n of lab.cluster(c).nodes) await waitLabAgentReady(lab, n.name);
  }
  await createPod(lab, 'c1', 'a', ['sleep', 'infinity']);
  await createPod(lab, 'c2', 'b', ['iperf3', '-s']);
  const ips = { a: await waitSliceIp(lab, 'c1', NS, 'a'), b: await waitSliceIp(lab, 'c2', NS, 'b') };
  await waitConnected(lab, 180_000);
  return ips;
}

/** Keeps the gateways' logs where SLICENET_TEST_LOGS points (the lab's go with it). */
export async function keepGatewayLogs(lab: Lab): Promise<void> {
  const keep = process.env.SLICENET_TEST_LOGS;
  if (!keep) return;
  for (const c of CLUSTERS)
    for (const p of await gatewayPods(lab, c, SLICE).catch(() => []))
      writeFileSync(join(keep, `${c}-${p.node}-${p.name}.log`), gatewayLog(lab, c, p));
}

async function createPod(lab: Lab, cluster: string, name: string, command: string[]): Promise<void> {
  await lab.kubectl(
    cluster,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS, annotations: { 'k8s.v1.cni.cncf.io/networks': NETWORKS } },
      spec: { containers: [{ name: 'main', image: 'lab/none', command }] },
    }),
  );
}

export async function slice(lab: Lab, cluster: string): Promise<Slice> {
  return JSON.parse(await lab.kubectl(cluster, ['get', 'slice', SLICE, '-o', 'json'])) as Slice;
}

/** The entry of the replica holding the Lease, as it wrote it. */
export async function activeEntry(lab: Lab, cluster: string): Promise<GatewayStatus | undefined> {
  const holder = (
    await lab
      .kubectl(cluster, [
        ...['get', 'lease', '-n', HUB_NS, `slicenet-gateway-${SLICE}`],
        ...['-o', 'jsonpath={.spec.holderIdentity}'],
      ])
      .catch(() => '')
  ).trim();
  return (await slice(lab, cluster)).status?.gateways?.find((g) => g.name === holder && g.active);
}

export async function activePod(lab: Lab, cluster: string): Promise<LabGatewayPod> {
  const entry = await activeEntry(lab, cluster);
  const pod = (await gatewayPods(lab, cluster, SLICE)).find((p) => p.name === entry?.name);
  if (!pod) throw new Error(`no active gateway pod in ${cluster}`);
  return pod;
}

/** Both clusters' active gateways report the other cluster connected. */
export async function waitConnected(lab: Lab, timeoutMs: number): Promise<void> {
  try {
    await waitFor(
      async () => {
        for (const c of CLUSTERS) {
          const e = await activeEntry(lab, c);
          if (!e?.peers?.length || !e.peers.every((p) => p.connected)) return false;
        }
        return true;
      },
      timeoutMs,
      'both clusters to report their peer connected',
      500,
    );
  } catch (err) {
    const logs: string[] = [];
    for (const c of CLUSTERS)
      for (const p of await gatewayPods(lab, c, SLICE))
        logs.push(
          `--- ${c}/${p.name} (${p.node}, ${p.phase}):\n${gatewayLog(lab, c, p).split('\n').slice(-12).join('\n')}`,
        );
    throw new Error(`${(err as Error).message}\n${logs.join('\n')}`, { cause: err });
  }
}

/** ping -i 0.1 from a to b for `seconds`; the longest run of lost replies, in seconds. */
export async function pingGap(
  lab: Lab,
  to: string,
  seconds: number,
  during: () => unknown,
): Promise<{ gap: number; out: string }> {
  const count = seconds * 10;
  const argv = ['ping', '-n', '-i', '0.1', '-W', '1', '-c', String(count), to];
  const ping = lab.exec('c1', NS, 'a', argv, (seconds + 10) * 1000);
  await sleep(1500);
  await during();
  const r = await ping;
  const seqs = [...r.stdout.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
  let gap = seqs.length ? (seqs[0]! - 1) * 0.1 : seconds;
  for (let i = 1; i < seqs.length; i++) gap = Math.max(gap, (seqs[i]! - seqs[i - 1]!) * 0.1);
  gap = Math.max(gap, seqs.length ? (count - seqs[seqs.length - 1]!) * 0.1 : 0);
  return { gap: Math.round(gap * 10) / 10, out: r.stdout.split('\n').slice(-4).join('\n') };
}
