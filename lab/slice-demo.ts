/**
 * The slice demo (`npm run lab`): on a lab with Slicenet installed, a slice across every
 * cluster, a namespace joined in each by its label alone, two pods per cluster on different
 * nodes that get `slice0` from the webhook and the agent, then a report of what the slice
 * does: each pod's slice address, pings from the first pod to every other pod (same node,
 * other node, other clusters), one iperf3 run across clusters, and per cluster the slice's QoS
 * class as netop enforces it on the active gateway's uplink, with what it carried.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { bytes } from '../cli/commands/status.ts';
import { SLICE_LABEL, SYSTEM_NAMESPACE } from '../controller/api/names.ts';
import { API_VERSION, type QoS, type Slice } from '../controller/api/types.ts';
import { labNetopGet } from '../netop/lab.ts';
import { waitFor } from '../lib/wait.ts';
import { pingFromPod, sleeperPod, waitSliceIp } from './demo.ts';
import type { Lab } from './lab.ts';
import { LAB_NODE_UPLINK } from './slicenet.ts';

export const SLICE_DEMO = { slice: 'demo', namespace: 'slice-demo', subnet: '10.100.0.0/16' } as const;

/**
 * The demo slice's QoS: a guarantee, and a ceiling above what a lab gateway moves, so iperf3
 * measures the path rather than the cap; priority and DSCP class to see them applied.
 */
export const DEMO_QOS: Required<QoS> = {
  guaranteedKbps: 100_000,
  ceilingKbps: 4_000_000,
  priority: 2,
  dscp: 'AF41',
};

/** How long netop may take to shape a new gateway's port (it follows the Slice's status). */
const QOS_UP_MS = 60_000;

/** How long a path may take to come up before the demo calls it failed. */
const PATH_UP_MS = 90_000;

interface DemoPod {
  cluster: string;
  name: string;
  node: string;
  ip?: string;
}

export async function runSliceDemo(lab: Lab, hub: string, print: (line: string) => void): Promise<boolean> {
  const { slice, namespace, subnet } = SLICE_DEMO;
  const clusters = lab.plan.clusters.map((c) => c.name);
  print('');
  print(
    `slice demo: slice "${slice}" (${subnet}) across ${clusters.join(', ')}; namespace ${namespace} joined in each`,
  );
  await lab.kubectl(
    hub,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: API_VERSION,
      kind: 'SliceConfig',
      metadata: { name: slice, namespace: SYSTEM_NAMESPACE },
      spec: { subnet, clusters, qos: DEMO_QOS },
    }),
  );
  const pods: DemoPod[] = [];
  for (const c of lab.plan.clusters) {
    await lab.kubectl(c.name, ['create', 'namespace', namespace]).catch(() => '');
    await lab.kubectl(c.name, ['label', 'namespace', namespace, `${SLICE_LABEL}=${slice}`, '--overwrite']);
    for (const [i, suffix] of ['a', 'b'].entries())
      pods.push({ cluster: c.name, name: `demo-${suffix}`, node: c.nodes[i % c.nodes.length]!.name });
  }
  // The worker makes the slice's NetworkAttachmentDefinition once the namespace has joined;
  // pods created before it would wait in ContainerCreating until it appears.
  await Promise.all(
    clusters.map((c) =>
      waitFor(
        async () =>
          (await lab.kubectl(c, ['get', 'net-attach-def', '-n', namespace, '-o', 'name'])).includes(
            `slicenet-${slice}`,
          ),
        120_000,
        `the slice's NetworkAttachmentDefinition in ${c}/${namespace}`,
      ),
    ),
  );
  for (const p of pods)
    await lab.kubectl(p.cluster, ['apply', '-f', '-'], JSON.stringify(sleeperPod(namespace, p.name, p.node)));
  await Promise.all(pods.map(async (p) => (p.ip = await waitSliceIp(lab, p.cluster, namespace, p.name))));
  for (const p of pods) print(`  ${p.cluster}/${p.name} on ${p.node}: slice0 ${p.ip}`);

  let ok = true;
  const from = pods[0]!;
  // Cross-cluster paths need the gateway pods started and their handshakes done.
  for (const to of pods.slice(1)) {
    const where =
      to.cluster !== from.cluster ? 'other cluster' : to.node !== from.node ? 'other node' : 'same node';
    let r = await pingFromPod(lab, from.cluster, namespace, from.name, to.ip!);
    for (const deadline = Date.now() + PATH_UP_MS; !r.ok && Date.now() < deadline;) {
      await sleep(1000);
      r = await pingFromPod(lab, from.cluster, namespace, from.name, to.ip!);
    }
    ok &&= r.ok;
    print(
      `  ping ${from.cluster}/${from.name} → ${to.cluster}/${to.name} (${where}): ${r.ok ? `ok, avg rtt ${r.rttMs} ms` : 'FAILED'}`,
    );
  }
  const remote = pods.find((p) => p.cluster !== from.cluster);
  if (remote && ok) {
    const server = lab.exec(remote.cluster, namespace, remote.name, ['iperf3', '-s', '-1'], 30_000);
    await sleep(500);
    const r = await lab.exec(
      from.cluster,
      namespace,
      from.name,
      ['iperf3', '-c', remote.ip!, '-t', '3', '-J'],
      20_000,
    );
    await server;
    const bps = (JSON.parse(r.stdout || '{}') as { end?: { sum_received?: { bits_per_second?: number } } })
      .end?.sum_received?.bits_per_second;
    ok &&= r.exitCode === 0 && bps !== undefined;
    print(
      `  iperf3 ${from.cluster}/${from.name} → ${remote.cluster}/${remote.name} over slice0, 3 s: ` +
        (bps !== undefined ? `${(bps / 1e9).toFixed(2)} Gbit/s` : `FAILED ${r.stderr.trim()}`),
    );
  }
  for (const c of clusters) {
    const q = await qosReport(lab, c, slice);
    ok &&= q.ok;
    print(`  ${q.line}`);
  }
  print(ok ? 'slice demo: every pod reaches every other over slice0' : 'slice demo: some checks FAILED');
  return ok;
}

const rate = (kbps: number): string =>
  kbps >= 1_000_000 ? `${kbps / 1_000_000} Gbit/s` : `${kbps / 1000} Mbit/s`;

type QosCounters = Map<string, { bytes?: number; drops?: number }>;

/** netop's slicenet_qos_{bytes,drops}_total series of one slice, by direction. */
export function qosCounters(metrics: string, slice: string): QosCounters {
  const out: QosCounters = new Map();
  const line = /^slicenet_qos_(bytes|drops)_total\{([^}]*)\} (\S+)$/gm;
  for (const [, field, labels, value] of metrics.matchAll(line)) {
    const l: Record<string, string | undefined> = Object.fromEntries(
      [...labels!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (l.slice !== slice || !l.direction) continue;
    const entry = out.get(l.direction) ?? {};
    entry[field as 'bytes' | 'drops'] = Number(value);
    out.set(l.direction, entry);
  }
  return out;
}

/**
 * The slice's QoS in `cluster` as enforced: the class netop keeps on the active gateway node's
 * uplink, and the bytes and drops it counted each way. Not ok when no class appears.
 */
async function qosReport(lab: Lab, cluster: string, slice: string): Promise<{ ok: boolean; line: string }> {
  const q = DEMO_QOS;
  const head = `QoS ${cluster}: guarantee ${rate(q.guaranteedKbps)}, ceiling ${rate(q.ceilingKbps)}, priority ${q.priority}, DSCP ${q.dscp}`;
  let node: string | undefined;
  let counters: QosCounters = new Map();
  try {
    await waitFor(
      async () => {
        const s = JSON.parse(
          await lab.kubectl(cluster, ['get', 'slices.slicenet.dev', slice, '-o', 'json']),
        ) as Slice;
        node = s.status?.gateways?.find((g) => g.active)?.node;
        counters = node ? qosCounters((await labNetopGet(lab, node, '/metrics')) ?? '', slice) : counters;
        return counters.size > 0;
      },
      QOS_UP_MS,
      `the QoS class of ${slice} in ${cluster}`,
    );
  } catch {
    const where = node ? `on ${node}'s ${LAB_NODE_UPLINK}` : 'anywhere: no active gateway';
    return { ok: false, line: `${head}: FAILED, no class ${where}` };
  }
  const each = [...counters]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([dir, c]) => `${dir} ${bytes(c.bytes)}, ${c.drops ?? 0} dropped`);
  return { ok: true, line: `${head}: shaped on ${node} ${LAB_NODE_UPLINK} (${each.join('; ')})` };
}
