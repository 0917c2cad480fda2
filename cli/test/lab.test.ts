/**
 * The CLI against a real API server (SLICENET_TEST_KUBECONFIG, the shared lab's; without it
 * these tests are skipped), run as a subprocess like a user runs it. The CRDs are applied
 * first (idempotent, left installed); everything else carries a test-unique name and is
 * deleted afterwards, so other tests on the shared lab are not disturbed.
 */
import anyTest, { type TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
  loadAllYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { SLICE_LABEL, clusterNamespace } from '../../controller/api/names.ts';
import { GROUP, VERSION, type SliceConfig } from '../../controller/api/types.ts';
import { Applier } from '../../lib/kube/apply.ts';
import { loadKubeConfig } from '../../lib/kube/client.ts';
import { runRaw } from '../../lib/exec.ts';
import { cli as run, type CliResult } from './run.ts';

const kubeconfigPath = process.env.SLICENET_TEST_KUBECONFIG;
const KUBECTL = '/root/.cache/slicenet/bin/kubectl';
const id = randomUUID().slice(0, 6);
const hub = `cli-hub-${id}`;
const test = anyTest as TestFn<{ core: CoreV1Api }>;
const lab = kubeconfigPath ? test.serial : test.serial.skip;

/** The CLI with the lab's kubeconfig and the test's hub namespace. */
const cli = (...args: string[]): Promise<CliResult> =>
  run([...args, '--kubeconfig', kubeconfigPath!, '--hub-namespace', hub], { KUBECONFIG: '/nonexistent' });

const namespaces = [hub, `cli-join-${id}`, clusterNamespace(`cli${id}`)];

if (kubeconfigPath) {
  test.before(async (t) => {
    const kc = loadKubeConfig(kubeconfigPath);
    const applier = new Applier(kc, 'slicenet-test');
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const dir = join(import.meta.dirname, '..', '..', 'crds');
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      for (const crd of loadAllYaml(readFileSync(join(dir, f), 'utf8')) as V1CustomResourceDefinition[]) {
        await applier.apply(crd);
        await established(ext, crd.metadata!.name!);
      }
    }
    const core = kc.makeApiClient(CoreV1Api);
    for (const name of namespaces.slice(0, 2)) await core.createNamespace({ body: { metadata: { name } } });
    t.context = { core };
  });
  test.after.always(async (t) => {
    for (const name of namespaces) await t.context.core?.deleteNamespace({ name }).catch(() => undefined);
  });
}

async function established(ext: ApiextensionsV1Api, name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const crd = await ext.readCustomResourceDefinition({ name });
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await sleep(100);
  }
  throw new Error(`CRD ${name} not established`);
}

lab('lab: create, get, describe, delete a slice', async (t) => {
  const slice = `demo-${id}`;
  const create = ['create', slice, '--subnet', '10.90.0.0/16', '--clusters', 'c1,c2', '--namespaces', 'shop'];
  const dry = await cli(...create, '--dry-run');
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /subnet: 10\.90\.0\.0\/16/);
  t.is((await cli('get', slice)).code, 3, 'a dry run stores nothing');

  const made = await cli(...create, '--guaranteed-kbps', '1000', '--ceiling-kbps', '5000', '--dscp', 'AF41');
  t.is(made.code, 0, made.stderr);
  t.regex(made.stdout, new RegExp(`slice/${slice} created`));
  const again = await cli(...create);
  t.is(again.code, 1);
  t.regex(again.stderr, /already exists/);

  const table = await cli('get');
  t.is(table.code, 0, table.stderr);
  t.regex(table.stdout, /^NAME\s+SUBNET\s+CLUSTERS\s+READY\s+AGE$/m);
  t.regex(table.stdout, new RegExp(`^${slice}\\s+10\\.90\\.0\\.0/16\\s+c1,c2\\s+Unknown\\s+\\d+s$`, 'm'));
  const wide = await cli('get', slice, '-o', 'wide');
  t.regex(wide.stdout, /MAX-CLUSTERS\s+NAMESPACES/);
  t.regex(wide.stdout, /\s16\s+shop\s+chacha20-poly1305/);

  const one = JSON.parse((await cli('get', slice, '-o', 'json')).stdout) as SliceConfig;
  t.like(one, { kind: 'SliceConfig', metadata: { name: slice, namespace: hub } });
  t.like(one.spec, {
    subnet: '10.90.0.0/16',
    clusters: ['c1', 'c2'],
    qos: { guaranteedKbps: 1000, dscp: 'AF41' },
  });
  t.is(one.metadata.managedFields, undefined);
  const all = JSON.parse((await cli('get', '-o', 'json')).stdout) as { kind: string; items: unknown[] };
  t.is(all.kind, 'List');
  t.is(all.items.length, 1);
  t.regex((await cli('get', slice, '-o', 'yaml')).stdout, /kind: SliceConfig/);

  await t.context.core.createNamespacedEvent({
    namespace: hub,
    body: {
      metadata: { name: `${slice}.test`, namespace: hub },
      involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: 'SliceConfig', name: slice, namespace: hub },
      reason: 'BlocksAssigned',
      message: 'assigned 2 blocks',
      type: 'Normal',
      source: { component: 'slicenet-controller' },
      lastTimestamp: new Date(),
    },
  });
  const d = await cli('describe', slice);
  t.is(d.code, 0, d.stderr);
  t.regex(d.stdout, /Subnet:\s+10\.90\.0\.0\/16/);
  t.regex(d.stdout, /QoS:\s+guaranteed 1000 kbps, ceiling 5000 kbps, priority 3, DSCP AF41/);
  t.regex(d.stdout, /Cluster status:\s+<none reported yet>/);
  t.regex(d.stdout, /Normal\s+BlocksAssigned\s+\S+\s+slicenet-controller\s+assigned 2 blocks/);

  const del = await cli('delete', slice);
  t.is(del.code, 0, del.stderr);
  for (const cmd of ['get', 'describe', 'delete']) {
    const r = await cli(cmd, slice);
    t.is(r.code, 3, `${cmd}: ${r.stderr}`);
    t.regex(r.stderr, new RegExp(`slice '${slice}' \\(SliceConfig in namespace ${hub}\\) not found`));
  }
});

lab('lab: the API server’s refusal is shown with the field it names', async (t) => {
  const r = await cli('create', `bad-${id}`, '--subnet', '8.8.0.0/16', '--clusters', 'c1');
  t.is(r.code, 1);
  t.regex(r.stderr, /the API server refused slice 'bad-\w+'/);
  t.regex(r.stderr, /spec\.subnet.*private range/);
  const q = await cli(
    'create',
    `bad-${id}`,
    '--subnet',
    '10.1.0.0/16',
    '--clusters',
    'c1',
    '--guaranteed-kbps',
    '9',
    '--ceiling-kbps',
    '1',
  );
  t.is(q.code, 1);
  t.regex(q.stderr, /spec\.qos\.guaranteedKbps must not exceed spec\.qos\.ceilingKbps/);
});

lab('lab: join and leave label the namespace', async (t) => {
  const ns = `cli-join-${id}`;
  const label = async (): Promise<string | undefined> =>
    (await t.context.core.readNamespace({ name: ns })).metadata?.labels?.[SLICE_LABEL];
  const j = await cli('join', ns, '--slice', 'pay');
  t.is(j.code, 0, j.stderr);
  t.is(await label(), 'pay');
  t.is((await cli('join', ns, '--slice', 'pay')).code, 0, 'joining again is fine');
  const other = await cli('join', ns, '--slice', 'other');
  t.is(other.code, 1);
  t.regex(other.stderr, /is on slice pay: run 'kubectl slice leave/);
  const l = await cli('leave', ns);
  t.is(l.code, 0, l.stderr);
  t.regex(l.stdout, /left slice pay/);
  t.is(await label(), undefined);
  t.is((await cli('leave', ns)).code, 0, 'leaving again is fine');
  const missing = await cli('join', `nope-${id}`, '--slice', 'pay');
  t.is(missing.code, 3);
  t.regex(missing.stderr, /namespace 'nope-\w+' not found/);
});

lab('lab: register creates the cluster’s namespace and a credential that reaches it alone', async (t) => {
  const cluster = `cli${id}`;
  const ns = clusterNamespace(cluster);
  const file = join(mkdtempSync(join(tmpdir(), 'kubectl-slice-')), 'worker.kubeconfig');
  for (let i = 0; i < 2; i++) {
    const r = await cli('register', cluster, '--output-kubeconfig', file);
    t.is(r.code, 0, `registering twice is fine: ${r.stderr}`);
  }
  const kc = loadKubeConfig(kubeconfigPath!);
  await t.context.core.readNamespace({ name: ns });
  await t.context.core.readNamespacedServiceAccount({ name: 'slicenet-worker', namespace: ns });
  await kc
    .makeApiClient(RbacAuthorizationV1Api)
    .readNamespacedRole({ name: 'slicenet-worker', namespace: ns });
  const custom = kc.makeApiClient(CustomObjectsApi);
  await custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: hub,
    plural: 'clusters',
    name: cluster,
  });
  t.is(loadKubeConfig(file).getContextObject(loadKubeConfig(file).currentContext)?.namespace, ns);

  const kubectl = (...args: string[]) => runRaw([KUBECTL, '--kubeconfig', file, ...args]);
  const own = await kubectl('get', 'workerslices.slicenet.dev', '-n', ns);
  t.is(own.exitCode, 0, own.stderr);
  const forbidden: string[][] = [
    ['get', 'workerslices.slicenet.dev', '-n', hub],
    ['get', 'sliceconfigs.slicenet.dev', '-n', hub],
    ['get', 'namespaces'],
    ['get', 'secrets', '-n', ns],
    ['create', 'configmap', 'x', '-n', ns],
  ];
  for (const args of forbidden) {
    const r = await kubectl(...args);
    t.not(r.exitCode, 0, args.join(' '));
    t.regex(r.stderr, /forbidden/i, args.join(' '));
  }
  const ws = JSON.stringify({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'WorkerSlice',
    metadata: { name: 'x', namespace: ns },
    spec: {},
  });
  const write = await runRaw([KUBECTL, '--kubeconfig', file, 'create', '-f', '-'], { input: ws });
  t.regex(write.stderr, /forbidden/i, 'the worker cannot write a WorkerSlice spec');
  await custom
    .deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: hub,
      plural: 'clusters',
      name: cluster,
    })
    .catch(() => undefined);
});
