/**
 * The lab demo: in every cluster, two pods on different nodes, each with a second NIC from a
 * bridge + host-local NetworkAttachmentDefinition through Multus; they ping each other over
 * the primary network, and the report says what the cluster did.
 */
import { join } from 'node:path';
import type { Lab } from './lab.ts';
import { waitFor } from './controlplane.ts';

export const DEMO_NAMESPACE = 'lab-demo';

export interface BridgeNet {
  name: string;
  /** The bridge on each node. */
  bridge: string;
  subnet: string;
}

const LAB_NET1: BridgeNet = { name: 'lab-net1', bridge: 'labnet1', subnet: '192.168.77.0/24' };

/**
 * A bridge + host-local secondary network, local to each node. host-local keeps its leases in
 * the lab's directory (one for all nodes: they share a filesystem), so `lab down` frees them;
 * in /var/lib/cni, which every lab on the machine shares, a lab torn down without its pods'
 * DELs leaked them, and after enough labs the range was full and pods never started.
 */
export function bridgeNad(lab: Lab, namespace: string, net: BridgeNet = LAB_NET1): object {
  return {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { name: net.name, namespace },
    spec: {
      config: JSON.stringify({
        cniVersion: '1.0.0',
        name: net.name,
        type: 'bridge',
        bridge: net.bridge,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: net.subnet }]],
          dataDir: join(lab.paths.dir, `ipam-${net.name}`),
        },
      }),
    },
  };
}

export function sleeperPod(namespace: string, name: string, node: string, networks?: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      ...(networks ? { annotations: { 'k8s.v1.cni.cncf.io/networks': networks } } : {}),
    },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node },
      containers: [{ name: 'main', image: 'lab/none', command: ['sleep', 'infinity'] }],
    },
  };
}

export interface PodView {
  phase: string;
  podIP?: string;
  networkStatus: { name: string; interface?: string; ips?: string[] }[];
}

export async function podView(lab: Lab, cluster: string, namespace: string, pod: string): Promise<PodView> {
  const p = JSON.parse(await lab.kubectl(cluster, ['get', 'pod', '-n', namespace, pod, '-o', 'json'])) as {
    metadata: { annotations?: Record<string, string> };
    status: { phase: string; podIP?: string };
  };
  const ns = p.metadata.annotations?.['k8s.v1.cni.cncf.io/network-status'];
  return {
    phase: p.status.phase,
    podIP: p.status.podIP,
    networkStatus: ns ? (JSON.parse(ns) as PodView['networkStatus']) : [],
  };
}

export async function waitRunning(
  lab: Lab,
  cluster: string,
  namespace: string,
  pod: string,
  timeoutMs = 60_000,
): Promise<PodView> {
  let view: PodView | undefined;
  await waitFor(
    async () => {
      view = await podView(lab, cluster, namespace, pod).catch(() => undefined);
      return view?.phase === 'Running' && Boolean(view.podIP);
    },
    timeoutMs,
    `pod ${namespace}/${pod} in ${cluster} to be Running`,
  );
  return view!;
}

/** The pod's slice0 address (no prefix), once it is Running and Multus has reported the NIC. */
export async function waitSliceIp(
  lab: Lab,
  cluster: string,
  namespace: string,
  pod: string,
  timeoutMs = 120_000,
): Promise<string> {
  let ip: string | undefined;
  await waitFor(
    async () => {
      const v = await podView(lab, cluster, namespace, pod).catch(() => undefined);
      ip =
        v?.phase === 'Running' ? v.networkStatus.find((s) => s.interface === 'slice0')?.ips?.[0] : undefined;
      return ip !== undefined;
    },
    timeoutMs,
    `${cluster}/${namespace}/${pod} Running with slice0`,
  );
  return ip!;
}

/** Three pings from a pod to `ip`; the average RTT in ms as ping printed it. */
export async function pingFromPod(
  lab: Lab,
  cluster: string,
  namespace: string,
  pod: string,
  ip: string,
): Promise<{ ok: boolean; rttMs?: string }> {
  const r = await lab.exec(cluster, namespace, pod, ['ping', '-c', '3', '-i', '0.2', '-W', '2', ip]);
  return { ok: r.exitCode === 0, rttMs: /= [\d.]+\/([\d.]+)\//.exec(r.stdout)?.[1] };
}

export async function runDemo(lab: Lab, print: (line: string) => void): Promise<boolean> {
  let ok = true;
  print('');
  print(
    'demo: two pods per cluster on different nodes, eth0 from bridge+host-local, net1 from a NAD through Multus',
  );
  for (const c of lab.plan.clusters) {
    const nodes = c.nodes.map((n) => n.name);
    await lab.kubectl(c.name, ['create', 'namespace', DEMO_NAMESPACE]).catch(() => '');
    await lab.kubectl(c.name, ['apply', '-f', '-'], JSON.stringify(bridgeNad(lab, DEMO_NAMESPACE)));
    const pods = ['a', 'b'].map((s, i) => ({ name: `demo-${s}`, node: nodes[i % nodes.length]! }));
    for (const p of pods) {
      await lab.kubectl(
        c.name,
        ['apply', '-f', '-'],
        JSON.stringify(sleeperPod(DEMO_NAMESPACE, p.name, p.node, 'lab-net1')),
      );
    }
    const views = await Promise.all(
      pods.map((p) => waitRunning(lab, c.name, DEMO_NAMESPACE, p.name, 180_000)),
    );
    for (const [i, p] of pods.entries()) {
      const nics = views[i]!.networkStatus.map(
        (s) => `${s.interface ?? '?'}=${(s.ips ?? []).join(',')}`,
      ).join(' ');
      print(`  ${c.name}/${p.name} on ${p.node}: Running, ${nics}`);
    }
    const ping = await pingFromPod(lab, c.name, DEMO_NAMESPACE, pods[0]!.name, views[1]!.podIP!);
    ok &&= ping.ok;
    print(
      `  ${c.name}: ${pods[0]!.name} → ${pods[1]!.name} (${views[1]!.podIP}) across nodes: ${ping.ok ? `ok, avg rtt ${ping.rttMs} ms` : 'FAILED'}`,
    );
  }
  print(ok ? 'demo: every cluster works' : 'demo: some checks FAILED');
  return ok;
}
