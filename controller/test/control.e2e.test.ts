/**
 * The control plane end to end, on a lab of its own: c1 is the hub and a member, c2 a member.
 * The controller and both workers run as processes in node network namespaces, reaching the
 * API servers at their LAN addresses, the workers the hub with the credential registration
 * made. Everything is checked through the real API servers.
 */
import anyTest, { type TestFn } from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { waitFor } from '../../lab/controlplane.ts';
import { Lab } from '../../lab/lab.ts';
import { testLabName } from '../../lab/test/leftovers.ts';
import { run } from '../../lib/exec.ts';
import { apiStatus } from '../../lib/kube/client.ts';
import type { Cluster, Slice, SliceConfig, WorkerSlice } from '../api/types.ts';
import { labHostNetns, startLabController, startLabWorker } from '../lab.ts';
import { registerCluster } from '../registration.ts';

interface Ctx {
  lab: Lab;
  creds: Record<string, string>;
}
const test = anyTest as TestFn<Ctx>;
const repo = join(import.meta.dirname, '..', '..');
const HUB_NS = 'slicenet-system';
const MEMBER_CRDS = ['slicenet.dev_slices.yaml', 'slicenet.dev_sliceipblocks.yaml'];

test.before(async (t) => {
  const lab = await Lab.up({ name: testLabName('cp'), clusters: 2, nodes: 1 });
  t.context = { lab, creds: {} };
  await lab.kubectl('c1', ['create', 'namespace', HUB_NS]);
  await lab.kubectl('c1', ['apply', '-f', join(repo, 'crds')]);
  await lab.kubectl('c2', ['apply', ...MEMBER_CRDS.flatMap((f) => ['-f', join(repo, 'crds', f)])]);
  for (const c of ['c1', 'c2'])
    await lab.kubectl(c, ['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);
  for (const c of ['c1', 'c2']) {
    const { kubeconfig } = await registerCluster(lab.kubeConfig('c1'), c, {
      server: lab.lanServer('c1'),
      caFile: join(lab.paths.cluster('c1'), 'pki', 'ca.crt'),
    });
    t.context.creds[c] = kubeconfig;
    writeFileSync(join(lab.paths.cluster(c), 'hub.kubeconfig'), kubeconfig);
  }
  startController(t.context);
  for (const c of ['c1', 'c2']) startWorker(t.context, c);
});

test.after.always(async (t) => {
  await (t.context.lab as Lab | undefined)?.down();
});

function startController({ lab }: Ctx): void {
  startLabController(lab, { hubCluster: 'c1' });
}

function startWorker({ lab }: Ctx, cluster: string, hubKubeconfig = 'hub.kubeconfig'): void {
  startLabWorker(lab, { cluster, hubKubeconfig: join(lab.paths.cluster(cluster), hubKubeconfig) });
}

async function getJson<T>(lab: Lab, cluster: string, args: string[]): Promise<T | undefined> {
  try {
    return JSON.parse(await lab.kubectl(cluster, ['get', ...args, '-o', 'json'])) as T;
  } catch (err) {
    if (/NotFound|not found/.test(String(err))) return undefined;
    throw err;
  }
}

const sliceConfig = (name: string, clusters: string[], subnet: string): SliceConfig => ({
  apiVersion: 'slicenet.dev/v1alpha1',
  kind: 'SliceConfig',
  metadata: { name, namespace: HUB_NS },
  spec: { subnet, maxClusters: 4, clusters },
});

/** The Healthy condition's status of a Cluster, as the hub shows it. */
async function healthy(lab: Lab, cluster: string): Promise<string | undefined> {
  const c = await getJson<Cluster>(lab, 'c1', ['cluster.slicenet.dev', '-n', HUB_NS, cluster]);
  return c?.status?.conditions?.find((x) => x.type === 'Healthy')?.status;
}

async function slicesOf(lab: Lab, name: string): Promise<Record<string, Slice | undefined>> {
  return {
    c1: await getJson<Slice>(lab, 'c1', ['slice', name]),
    c2: await getJson<Slice>(lab, 'c2', ['slice', name]),
  };
}

test.serial(
  "a cluster's credential: 403 on another cluster's WorkerSlices, on specs, outside its namespace",
  async (t) => {
    const kc = new KubeConfig();
    // The credential names the LAN address; from here the hub is at the admin forwarder.
    kc.loadFromString(t.context.creds.c1!);
    const admin = t.context.lab.kubeConfig('c1').getCurrentCluster()!;
    kc.clusters = kc.clusters.map((c) => ({ ...c, server: admin.server }));
    const api = kc.makeApiClient(CustomObjectsApi);
    const ws = { group: 'slicenet.dev', version: 'v1alpha1', plural: 'workerslices' };
    // Right after start the API server may answer 429 while it sets up its priority levels.
    const status = async (call: () => Promise<unknown>): Promise<number | undefined> => {
      for (let i = 0; ; i++) {
        const code = await call().then(
          () => 200,
          (err: unknown) => apiStatus(err),
        );
        if (code !== 429 || i >= 60) return code;
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    t.is(
      await status(() => api.listNamespacedCustomObject({ ...ws, namespace: 'slicenet-cluster-c1' })),
      200,
    );
    t.is(
      await status(() => api.listNamespacedCustomObject({ ...ws, namespace: 'slicenet-cluster-c2' })),
      403,
    );
    t.is(
      await status(() =>
        api.getNamespacedCustomObject({ ...ws, namespace: 'slicenet-cluster-c2', name: 'x' }),
      ),
      403,
    );
    const body = {
      apiVersion: 'slicenet.dev/v1alpha1',
      kind: 'WorkerSlice',
      metadata: { name: 'x' },
      spec: {},
    };
    t.is(
      await status(() => api.createNamespacedCustomObject({ ...ws, namespace: 'slicenet-cluster-c1', body })),
      403,
    );
    t.is(
      await status(() =>
        api.listNamespacedCustomObject({
          group: 'slicenet.dev',
          version: 'v1alpha1',
          plural: 'sliceconfigs',
          namespace: HUB_NS,
        }),
      ),
      403,
    );
  },
);

test.serial('a SliceConfig gives each member a Slice with a distinct block, peers and keys', async (t) => {
  const { lab } = t.context;
  await lab.kubectl(
    'c1',
    ['apply', '-f', '-'],
    JSON.stringify(sliceConfig('demo', ['c1', 'c2'], '10.90.0.0/16')),
  );
  let slices: Record<string, Slice | undefined> = {};
  await waitFor(
    async () => {
      slices = await slicesOf(lab, 'demo');
      return Object.values(slices).every((s) => s?.spec.peers?.[0]?.publicKey);
    },
    60_000,
    'both Slices, with the peer public keys',
  );
  const [a, b] = [slices.c1!.spec, slices.c2!.spec];
  t.not(a.block, b.block);
  t.deepEqual([a.block, b.block].sort(), ['10.90.0.0/18', '10.90.64.0/18']);
  t.is(a.vni, b.vni);
  t.is(a.peers?.[0]?.block, b.block);
  t.is(b.peers?.[0]?.block, a.block);
  await waitFor(
    async () =>
      (
        await getJson<SliceConfig>(lab, 'c1', ['sliceconfig', '-n', HUB_NS, 'demo'])
      )?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    30_000,
    'SliceConfig demo Ready',
  );
  const sc = (await getJson<SliceConfig>(lab, 'c1', ['sliceconfig', '-n', HUB_NS, 'demo']))!;
  t.is(sc.status?.vni, a.vni);
  t.deepEqual(
    sc.status?.clusters?.map((c) => [c.name, c.subnet, c.phase]),
    [
      ['c1', a.block, 'Ready'],
      ['c2', b.block, 'Ready'],
    ],
  );
  const reasons = async (): Promise<string> =>
    lab.kubectl('c1', [
      ...['get', 'events', '-n', HUB_NS, '--field-selector', 'involvedObject.name=demo'],
      ...['-o', 'jsonpath={.items[*].reason}'],
    ]);
  await waitFor(
    async () => /WorkerSlicesCreated/.test(await reasons()),
    10_000,
    'an event for the WorkerSlices',
  );
  // The private key stays in the member cluster.
  const secret = await getJson<{ data: Record<string, string> }>(lab, 'c2', [
    'secret',
    '-n',
    HUB_NS,
    'slicenet-gateway-demo',
  ]);
  t.is(secret?.data.publicKey, a.peers?.[0]?.publicKey);
});

test.serial('a labelled namespace gets the NAD; removing the label removes it', async (t) => {
  const { lab } = t.context;
  await lab.kubectl('c2', ['create', 'namespace', 'shop']);
  await lab.kubectl('c2', ['label', 'namespace', 'shop', 'slicenet.dev/slice=demo']);
  let nad: { spec: { config: string } } | undefined;
  await waitFor(
    async () => !!(nad = await getJson(lab, 'c2', ['net-attach-def', '-n', 'shop', 'slicenet-demo'])),
    30_000,
    'the NAD',
  );
  t.deepEqual(JSON.parse(nad!.spec.config), { cniVersion: '1.0.0', type: 'slicenet', slice: 'demo' });
  await lab.kubectl('c2', ['label', 'namespace', 'shop', 'slicenet.dev/slice-']);
  await waitFor(
    async () => !(await getJson(lab, 'c2', ['net-attach-def', '-n', 'shop', 'slicenet-demo'])),
    30_000,
    'the NAD gone',
  );
  t.pass();
});

test.serial('heart-beating clusters are Healthy; one that stops shows unhealthy within 30 s', async (t) => {
  const { lab } = t.context;
  await waitFor(
    async () => (await healthy(lab, 'c1')) === 'True' && (await healthy(lab, 'c2')) === 'True',
    30_000,
    'both Healthy',
  );
  await lab.processes.stop('worker-c2');
  const stopped = Date.now();
  await waitFor(async () => (await healthy(lab, 'c2')) === 'False', 30_000, 'c2 unhealthy');
  t.true(Date.now() - stopped <= 30_000);
  startWorker(t.context, 'c2');
  await waitFor(async () => (await healthy(lab, 'c2')) === 'True', 30_000, 'c2 Healthy again');
});

test.serial('blocks and VNIs stay put across a controller restart and a reordered list', async (t) => {
  const { lab } = t.context;
  const before = await slicesOf(lab, 'demo');
  await lab.processes.stop('controller');
  await lab.kubectl(
    'c1',
    ['apply', '-f', '-'],
    JSON.stringify(sliceConfig('demo', ['c2', 'c1'], '10.90.0.0/16')),
  );
  await lab.kubectl(
    'c1',
    ['apply', '-f', '-'],
    JSON.stringify(sliceConfig('second', ['c2'], '10.91.0.0/16')),
  );
  startController(t.context);
  let second: Slice | undefined;
  await waitFor(
    async () => !!(second = await getJson<Slice>(lab, 'c2', ['slice', 'second'])),
    60_000,
    'Slice second in c2',
  );
  const after = await slicesOf(lab, 'demo');
  for (const c of ['c1', 'c2']) {
    t.is(after[c]?.spec.block, before[c]?.spec.block, `${c} block`);
    t.is(after[c]?.spec.vni, before[c]?.spec.vni, `${c} VNI`);
  }
  t.not(second!.spec.vni, after.c1!.spec.vni);
  t.is(second!.spec.block, '10.91.0.0/18');
});

test.serial(
  'a worker cut off from the hub keeps working from its local Slices, then catches up',
  async (t) => {
    const { lab, creds } = t.context;
    await lab.processes.stop('worker-c2');
    // Nothing listens on this port: every call to the hub is refused.
    const unreachable = creds.c2!.replace(/(server: https:\/\/[0-9.]+):6443/, '$1:6449');
    t.not(unreachable, creds.c2);
    writeFileSync(join(lab.paths.cluster('c2'), 'hub-down.kubeconfig'), unreachable);
    startWorker(t.context, 'c2', 'hub-down.kubeconfig');
    await lab.kubectl('c2', ['label', 'namespace', 'shop', 'slicenet.dev/slice=second']);
    await waitFor(
      async () => !!(await getJson(lab, 'c2', ['net-attach-def', '-n', 'shop', 'slicenet-second'])),
      30_000,
      'the NAD, from the local Slice alone',
    );
    await lab.kubectl(
      'c1',
      ['apply', '-f', '-'],
      JSON.stringify(sliceConfig('second', ['c2', 'c1'], '10.91.0.0/16')),
    );
    await waitFor(
      async () => !!(await getJson(lab, 'c1', ['slice', 'second'])),
      30_000,
      'Slice second in c1',
    );
    t.is(
      (await getJson<Slice>(lab, 'c2', ['slice', 'second']))?.spec.peers?.length ?? 0,
      0,
      'c2 has not heard yet',
    );
    await lab.processes.stop('worker-c2');
    startWorker(t.context, 'c2');
    await waitFor(
      async () => (await getJson<Slice>(lab, 'c2', ['slice', 'second']))?.spec.peers?.[0]?.cluster === 'c1',
      30_000,
      'c2 to catch up with its new peer',
    );
    t.truthy(await getJson(lab, 'c2', ['net-attach-def', '-n', 'shop', 'slicenet-second']), 'the NAD stayed');
  },
);

test.serial(
  'a 30 s hub outage: members keep serving, then everything converges with no duplicates or orphans',
  async (t) => {
    const { lab } = t.context;
    const outage = lab.restartApiserver('c1', 30_000);
    await sleep(2000);
    // During the outage the member's own API server is up: its worker still serves joins.
    await lab.kubectl('c2', ['create', 'namespace', 'outage']);
    await lab.kubectl('c2', ['label', 'namespace', 'outage', 'slicenet.dev/slice=second']);
    await waitFor(
      async () => !!(await getJson(lab, 'c2', ['net-attach-def', '-n', 'outage', 'slicenet-second'])),
      20_000,
      'the NAD in c2 while the hub is down',
    );
    await outage;
    await lab.kubectl(
      'c1',
      ['apply', '-f', '-'],
      JSON.stringify(sliceConfig('third', ['c1', 'c2'], '10.92.0.0/16')),
    );
    await waitFor(
      async () =>
        Object.values(await slicesOf(lab, 'third')).every((s) => s?.spec.peers?.[0]?.publicKey) &&
        (await healthy(lab, 'c1')) === 'True' &&
        (await healthy(lab, 'c2')) === 'True',
      90_000,
      'a new slice on both members and both clusters Healthy after the outage',
    );

    const configs = (await getJson<{ items: SliceConfig[] }>(lab, 'c1', ['sliceconfigs', '-n', HUB_NS]))!
      .items;
    const vnis = configs.map((c) => c.status?.vni);
    t.is(new Set(vnis).size, configs.length, `distinct VNIs: ${vnis.join(' ')}`);
    for (const c of configs) {
      const blocks = (c.status?.clusters ?? []).map((x) => x.subnet);
      t.is(new Set(blocks).size, blocks.length, `${c.metadata.name}: distinct blocks`);
    }
    const ws = (await getJson<{ items: WorkerSlice[] }>(lab, 'c1', ['workerslices', '-A']))!.items;
    const expected = configs.flatMap((c) => (c.spec.clusters ?? []).map((m) => `${m}/${c.metadata.name}`));
    t.deepEqual(
      ws
        .map(
          (w) =>
            `${w.metadata.namespace!.replace('slicenet-cluster-', '')}/${w.metadata.labels?.['slicenet.dev/slice']}`,
        )
        .sort(),
      expected.sort(),
      'one WorkerSlice per member and slice, none orphaned',
    );
    for (const c of ['c1', 'c2']) {
      const local = (await getJson<{ items: Slice[] }>(lab, c, ['slices']))!.items.map(
        (s) => s.metadata.name,
      );
      const want = configs.filter((x) => x.spec.clusters?.includes(c)).map((x) => x.metadata.name);
      t.deepEqual(local.sort(), want.sort(), `${c}: one Slice per slice it is a member of`);
    }
    await lab.kubectl('c1', ['delete', 'sliceconfig', '-n', HUB_NS, 'third', '--wait=true', '--timeout=60s']);
  },
);

test.serial('the controller and workers serve /readyz and reconcile metrics', async (t) => {
  const { lab } = t.context;
  // The hub controller and c1's worker share c1's node network namespace, on their own ports.
  const get = async (port: number, path: string): Promise<string> => {
    const script = `fetch('http://127.0.0.1:${port}${path}').then(async (r) => console.log(r.status, await r.text()))`;
    return (await run([process.execPath, '-e', script], { netns: labHostNetns(lab, 'c1') })).trim();
  };
  t.is(await get(8082, '/readyz'), '200 ok');
  t.is(await get(8083, '/healthz'), '200 ok');
  const hub = await get(8082, '/metrics');
  t.regex(hub, /slicenet_reconciles_total\{controller="sliceconfig",result="success"\} [1-9]/);
  t.regex(hub, /slicenet_reconciles_total\{controller="cluster",result="(success|requeue)"\} [1-9]/);
  t.regex(hub, /slicenet_workqueue_depth\{controller="sliceconfig"\} \d+/);
  t.regex(
    await get(8083, '/metrics'),
    /slicenet_reconcile_duration_seconds_count\{controller="worker"\} [1-9]/,
  );
});

test.serial('deleting a SliceConfig removes its WorkerSlices, Slices and NADs', async (t) => {
  const { lab } = t.context;
  await lab.kubectl('c1', ['create', 'namespace', 'shop']);
  await lab.kubectl('c1', ['label', 'namespace', 'shop', 'slicenet.dev/slice=demo']);
  await waitFor(
    async () => !!(await getJson(lab, 'c1', ['net-attach-def', '-n', 'shop', 'slicenet-demo'])),
    30_000,
    'the NAD in c1',
  );
  await lab.kubectl('c1', ['delete', 'sliceconfig', '-n', HUB_NS, 'demo', '--wait=true', '--timeout=60s']);
  const ws = await lab.kubectl('c1', [
    'get',
    'workerslices',
    '-A',
    '-l',
    'slicenet.dev/slice=demo',
    '-o',
    'name',
  ]);
  t.is(ws.trim(), '', 'no WorkerSlice left on the hub');
  await waitFor(
    async () =>
      Object.values(await slicesOf(lab, 'demo')).every((s) => !s) &&
      !(await getJson(lab, 'c1', ['net-attach-def', '-n', 'shop', 'slicenet-demo'])),
    30_000,
    'Slices and NADs gone',
  );
  t.truthy(await getJson(lab, 'c2', ['slice', 'second']), 'the other slice stays');
});
