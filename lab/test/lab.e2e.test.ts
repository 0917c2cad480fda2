/**
 * The lab's acceptance, on a real 2-cluster × 2-node lab: real apiservers, scheduler and
 * controller-manager, Multus and the reference plugins called by the lab kubelet.
 */
import anyTest, { type TestFn } from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Lab } from '../lab.ts';
import { bridgeNad, podView, sleeperPod, waitRunning } from '../demo.ts';
import { waitFor } from '../controlplane.ts';
import { run } from '../../lib/exec.ts';
import { leftovers, NOTHING, testLabName } from './leftovers.ts';

const test = anyTest as TestFn<{ lab: Lab }>;
const NS = 'e2e';

test.before(async (t) => {
  t.context.lab = await Lab.up({ name: testLabName('e'), clusters: 2, nodes: 2 });
  for (const c of t.context.lab.plan.clusters) {
    await t.context.lab.kubectl(c.name, ['create', 'namespace', NS]);
    await t.context.lab.kubectl(c.name, ['apply', '-f', '-'], JSON.stringify(bridgeNad(t.context.lab, NS)));
  }
});

test.after.always(async (t) => {
  const lab = t.context.lab as Lab | undefined;
  if (lab) {
    await lab.down();
    t.deepEqual(leftovers(lab.plan.name), NOTHING, 'lab down leaves nothing behind');
  }
});

const apply = (lab: Lab, cluster: string, obj: object): Promise<string> =>
  lab.kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(obj));

test('every cluster has its nodes Ready, with pod CIDRs, and serves the NAD CRD', async (t) => {
  const { lab } = t.context;
  for (const c of lab.plan.clusters) {
    const nodes = JSON.parse(await lab.kubectl(c.name, ['get', 'nodes', '-o', 'json'])) as {
      items: {
        metadata: { name: string };
        spec: { podCIDR?: string };
        status: { conditions: { type: string; status: string }[] };
      }[];
    };
    t.deepEqual(
      nodes.items.map((n) => n.metadata.name).sort(),
      c.nodes.map((n) => n.name),
    );
    for (const n of nodes.items) {
      t.true(
        n.status.conditions.some((x) => x.type === 'Ready' && x.status === 'True'),
        `${n.metadata.name} Ready`,
      );
      t.truthy(n.spec.podCIDR);
    }
    const nads = await lab.kubectl(c.name, ['get', 'network-attachment-definitions', '-n', NS, '-o', 'name']);
    t.is(nads.trim(), 'networkattachmentdefinition.k8s.cni.cncf.io/lab-net1');
  }
});

test('a pod with a bridge NAD gets eth0 and net1, a correct network-status, and Running', async (t) => {
  const { lab } = t.context;
  const c = lab.plan.clusters[0]!;
  await apply(lab, c.name, sleeperPod(NS, 'multi', c.nodes[0]!.name, 'lab-net1'));
  const view = await waitRunning(lab, c.name, NS, 'multi');
  const addrs = await lab.exec(c.name, NS, 'multi', ['ip', '-o', '-4', 'addr', 'show']);
  const eth0 = /eth0\s+inet (\S+)\//.exec(addrs.stdout)?.[1];
  const net1 = /net1\s+inet (\S+)\//.exec(addrs.stdout)?.[1];
  t.is(eth0, view.podIP);
  t.regex(net1 ?? '', /^192\.168\.77\./);
  const status = view.networkStatus;
  t.is(status.length, 2);
  t.like(status[0], { name: 'lab-pod-network', interface: 'eth0', ips: [eth0] });
  t.like(status[1], { name: `${NS}/lab-net1`, interface: 'net1', ips: [net1] });
});

test('pods on different nodes of one cluster reach each other over eth0', async (t) => {
  const { lab } = t.context;
  for (const c of lab.plan.clusters) {
    await apply(lab, c.name, sleeperPod(NS, 'ping-a', c.nodes[0]!.name));
    await apply(lab, c.name, sleeperPod(NS, 'ping-b', c.nodes[1]!.name));
    await waitRunning(lab, c.name, NS, 'ping-a');
    const b = await waitRunning(lab, c.name, NS, 'ping-b');
    const r = await lab.exec(c.name, NS, 'ping-a', ['ping', '-c', '2', '-i', '0.2', '-W', '2', b.podIP!]);
    t.is(r.exitCode, 0, `${c.name}: ${r.stdout}${r.stderr}`);
  }
});

test('deleting a pod removes its namespace and frees its host-local address', async (t) => {
  const { lab } = t.context;
  const c = lab.plan.clusters[1]!;
  const node = c.nodes[0]!;
  await apply(lab, c.name, sleeperPod(NS, 'doomed', node.name));
  const view = await waitRunning(lab, c.name, NS, 'doomed');
  const netns = await lab.podNetns(c.name, NS, 'doomed');
  const ipamDir = join(lab.paths.node(c.name, node.name), 'cni-ipam', 'lab-pod-network');
  t.true(existsSync(`/run/netns/${netns}`));
  t.true(readdirSync(ipamDir).includes(view.podIP!));
  await lab.kubectl(c.name, ['delete', 'pod', '-n', NS, 'doomed', '--wait=true', '--timeout=60s']);
  t.false(existsSync(`/run/netns/${netns}`));
  t.false(readdirSync(ipamDir).includes(view.podIP!));
});

test('a Deployment of 3 replicas reaches 3 Running pods', async (t) => {
  const { lab } = t.context;
  const c = lab.plan.clusters[0]!;
  await apply(lab, c.name, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'lab/none', command: ['sleep', 'infinity'] }] },
      },
    },
  });
  await lab.kubectl(c.name, ['rollout', 'status', '-n', NS, 'deployment/web', '--timeout=90s']);
  const pods = JSON.parse(
    await lab.kubectl(c.name, ['get', 'pods', '-n', NS, '-l', 'app=web', '-o', 'json']),
  ) as {
    items: { status: { phase: string } }[];
  };
  t.is(pods.items.filter((p) => p.status.phase === 'Running').length, 3);
});

test('a SIGKILLed kubelet comes back without disturbing its pods; watchers survive an apiserver restart', async (t) => {
  const { lab } = t.context;
  const c = lab.plan.clusters[1]!;
  const node = c.nodes[1]!;
  await apply(lab, c.name, sleeperPod(NS, 'steady', node.name));
  const before = await waitRunning(lab, c.name, NS, 'steady');
  const netns = await lab.podNetns(c.name, NS, 'steady');
  const podPids = await run(['ip', 'netns', 'pids', netns]);

  lab.killKubelet(node.name);
  lab.startKubelet(node.name);
  await new Promise((r) => setTimeout(r, 3000));
  const after = await podView(lab, c.name, NS, 'steady');
  t.is(after.phase, 'Running');
  t.is(after.podIP, before.podIP);
  t.is(await run(['ip', 'netns', 'pids', netns]), podPids, 'same processes');
  const restarts = await lab.kubectl(c.name, [
    'get',
    'pod',
    '-n',
    NS,
    'steady',
    '-o',
    'jsonpath={.status.containerStatuses[0].restartCount}',
  ]);
  t.is(restarts, '0');

  await lab.restartApiserver(c.name);
  await apply(lab, c.name, sleeperPod(NS, 'after-restart', node.name));
  await waitRunning(lab, c.name, NS, 'after-restart', 90_000);
  await waitFor(
    async () =>
      (await lab.kubectl(c.name, ['get', 'nodes', '-o', 'name'])).split('\n').filter(Boolean).length ===
      c.nodes.length,
    30_000,
    'nodes listed',
  );
  await lab.waitNodesReady(60_000);
  t.pass();
});
