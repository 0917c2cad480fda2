/**
 * What the API server accepts and refuses once the CRDs are installed: one row per rule, each
 * refusal matched by the message a user sees. Runs against a real API server
 * (SLICENET_TEST_KUBECONFIG, the lab's); without it these tests are skipped.
 *
 * The CRDs are installed with Applier (server-side apply) and left installed: re-applying is
 * idempotent, and removing them would delete every object of the lab. Test objects live in a
 * namespace of their own, or carry a test-specific name, and are deleted afterwards.
 */
import anyTest, { type TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  loadAllYaml,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { Applier } from '../../../lib/kube/apply.ts';
import { loadKubeConfig } from '../../../lib/kube/client.ts';
import { setCondition } from '../../../lib/kube/conditions.ts';
import { ipBlockName } from '../names.ts';
import { API_VERSION, type SliceConfig } from '../types.ts';

const kubeconfigPath = process.env.SLICENET_TEST_KUBECONFIG;
const test = anyTest as TestFn<{ applier: Applier; objects: KubernetesObjectApi; ns: string; id: string }>;
const lab = kubeconfigPath ? test.serial : test.serial.skip;

if (kubeconfigPath) {
  test.before(async (t) => {
    const kc = loadKubeConfig(kubeconfigPath);
    const applier = new Applier(kc, 'slicenet-test');
    const dir = join(import.meta.dirname, '..', '..', '..', 'crds');
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      for (const crd of loadAllYaml(readFileSync(join(dir, f), 'utf8')) as V1CustomResourceDefinition[]) {
        await applier.apply(crd);
        await established(ext, crd.metadata!.name!);
      }
    }
    const ns = `crd-test-${randomUUID().slice(0, 8)}`;
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
    const objects = KubernetesObjectApi.makeApiClient(kc);
    t.context = { applier, objects, ns, id: randomUUID().slice(0, 6) };
  });
  test.after.always(async (t) => {
    const { objects, ns } = t.context;
    for (const o of created) await objects?.delete(o).catch(() => undefined);
    await objects
      ?.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
      .catch(() => undefined);
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

/** Cluster-scoped objects made by the tests, deleted afterwards. */
const created: KubernetesObject[] = [];

/** Creates or updates `obj` by apply; returns the API server's refusal message, or undefined. */
async function submit(applier: Applier, obj: KubernetesObject): Promise<string | undefined> {
  try {
    const stored = await applier.apply(obj);
    if (!stored.metadata?.namespace) created.push(obj);
    return undefined;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const raw: unknown = err.body;
    const body = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { message?: string } | undefined;
    return body?.message ?? String(raw);
  }
}

// Typed loosely on purpose: the rows hold specs that SliceConfigSpec would not allow.
const sliceConfig = (
  ns: string,
  name: string,
  spec: Record<string, unknown>,
): KubernetesObject & { spec: object } => ({
  apiVersion: API_VERSION,
  kind: 'SliceConfig',
  metadata: { name, namespace: ns },
  spec,
});

interface Row {
  name: string;
  spec: Record<string, unknown>;
  refused?: RegExp;
}

const sliceConfigRows: Row[] = [
  { name: 'a minimal slice', spec: { subnet: '10.90.0.0/16' } },
  {
    name: 'a full slice',
    spec: {
      subnet: '172.16.0.0/12',
      maxClusters: 4,
      clusters: ['east', 'west'],
      namespaces: [{ namespace: 'shop' }, { namespace: 'pay', clusters: ['east'] }],
      isolation: { enabled: true, allowedNamespaces: [{ namespace: 'monitoring', clusters: ['*'] }] },
      qos: { guaranteedKbps: 1000, ceilingKbps: 1000, priority: 0, dscp: 'AF41' },
      gateway: { cipher: 'aes-256-gcm', replicas: 2, port: 51820, mtu: 1420 },
    },
  },
  { name: 'prefix /22', spec: { subnet: '192.168.4.0/22' } },
  { name: 'not a CIDR', spec: { subnet: '10.90.0.0' }, refused: /spec\.subnet must be an IPv4 CIDR/ },
  { name: 'IPv6', spec: { subnet: 'fd00::/64' }, refused: /spec\.subnet must be an IPv4 CIDR/ },
  { name: 'prefix /23', spec: { subnet: '10.0.0.0/23' }, refused: /prefix length from \/8 to \/22/ },
  {
    name: 'host bits set',
    spec: { subnet: '10.90.1.0/16' },
    refused: /spec\.subnet must be a network address/,
  },
  {
    name: 'public range',
    spec: { subnet: '8.8.0.0/16' },
    refused: /spec\.subnet must lie in a private range/,
  },
  { name: 'next to 172.16/12', spec: { subnet: '172.32.0.0/16' }, refused: /private range/ },
  { name: 'maxClusters 1', spec: { subnet: '10.1.0.0/16', maxClusters: 1 }, refused: /spec\.maxClusters.*2/ },
  {
    name: 'maxClusters 65',
    spec: { subnet: '10.1.0.0/16', maxClusters: 65 },
    refused: /spec\.maxClusters.*64/,
  },
  {
    name: 'more clusters than maxClusters',
    spec: { subnet: '10.1.0.0/16', maxClusters: 2, clusters: ['a', 'b', 'c'] },
    refused: /at most spec\.maxClusters/,
  },
  { name: 'bad cluster name', spec: { subnet: '10.1.0.0/16', clusters: ['East_1'] }, refused: /DNS label/ },
  {
    name: 'duplicate cluster',
    spec: { subnet: '10.1.0.0/16', clusters: ['a', 'a'] },
    // Apply reports it while building the patch, before validation, in words of its own.
    refused: /spec\.clusters: duplicate entries/,
  },
  {
    name: 'namespace in an unknown cluster',
    spec: { subnet: '10.1.0.0/16', clusters: ['a'], namespaces: [{ namespace: 'x', clusters: ['b'] }] },
    refused: /must be in spec\.clusters/,
  },
  {
    name: '"*" with names',
    spec: { subnet: '10.1.0.0/16', clusters: ['a'], namespaces: [{ namespace: 'x', clusters: ['*', 'a'] }] },
    refused: /cannot be combined/,
  },
  {
    name: 'guaranteed above ceiling',
    spec: { subnet: '10.1.0.0/16', qos: { guaranteedKbps: 2000, ceilingKbps: 1000 } },
    refused: /guaranteedKbps must not exceed spec\.qos\.ceilingKbps/,
  },
  {
    name: 'priority 8',
    spec: { subnet: '10.1.0.0/16', qos: { guaranteedKbps: 1, ceilingKbps: 1, priority: 8 } },
    refused: /spec\.qos\.priority/,
  },
  {
    name: 'unknown DSCP',
    spec: { subnet: '10.1.0.0/16', qos: { guaranteedKbps: 1, ceilingKbps: 1, dscp: 'AF44' } },
    refused: /spec\.qos\.dscp: Unsupported value/,
  },
  {
    name: 'unknown cipher',
    spec: { subnet: '10.1.0.0/16', gateway: { cipher: 'aes-128-gcm' } },
    refused: /cipher/,
  },
  {
    name: '3 replicas',
    spec: { subnet: '10.1.0.0/16', gateway: { replicas: 3 } },
    refused: /spec\.gateway\.replicas/,
  },
  { name: 'port 0', spec: { subnet: '10.1.0.0/16', gateway: { port: 0 } }, refused: /spec\.gateway\.port/ },
  {
    name: 'port 65536',
    spec: { subnet: '10.1.0.0/16', gateway: { port: 65536 } },
    refused: /spec\.gateway\.port/,
  },
  {
    name: 'mtu 1000',
    spec: { subnet: '10.1.0.0/16', gateway: { mtu: 1000 } },
    refused: /spec\.gateway\.mtu/,
  },
];

sliceConfigRows.forEach((row, i) => {
  lab(`lab: SliceConfig ${row.refused ? 'refuses' : 'accepts'} ${row.name}`, async (t) => {
    const { applier, ns } = t.context;
    const message = await submit(applier, sliceConfig(ns, `s${i}`, row.spec));
    if (row.refused) t.regex(message ?? 'accepted', row.refused);
    else t.is(message, undefined);
  });
});

lab('lab: SliceConfig gets its defaults, and keeps subnet and maxClusters immutable', async (t) => {
  const { applier, ns } = t.context;
  const stored = (await applier.apply(
    sliceConfig(ns, 'immutable', { subnet: '10.90.0.0/16' }),
  )) as SliceConfig;
  t.is(stored.spec.maxClusters, 16);
  t.deepEqual(stored.spec.gateway, { cipher: 'chacha20-poly1305', replicas: 1 });
  const moved = await submit(applier, sliceConfig(ns, 'immutable', { subnet: '10.91.0.0/16' }));
  t.regex(moved ?? 'accepted', /spec\.subnet is immutable/);
  const resized = await submit(
    applier,
    sliceConfig(ns, 'immutable', { subnet: '10.90.0.0/16', maxClusters: 8 }),
  );
  t.regex(resized ?? 'accepted', /spec\.maxClusters is immutable/);
  const grown = await submit(
    applier,
    sliceConfig(ns, 'immutable', { subnet: '10.90.0.0/16', clusters: ['a'] }),
  );
  t.is(grown, undefined, 'other fields may change');
});

lab('lab: slice and cluster names are DNS labels short enough for the names derived from them', async (t) => {
  const { applier, ns } = t.context;
  t.regex((await submit(applier, sliceConfig(ns, 'a.b', { subnet: '10.1.0.0/16' }))) ?? '', /metadata\.name/);
  t.regex((await submit(applier, sliceConfig(ns, 'x'.repeat(41), { subnet: '10.1.0.0/16' }))) ?? '', /40/);
  const cluster = (name: string) => ({
    apiVersion: API_VERSION,
    kind: 'Cluster',
    metadata: { name, namespace: ns },
  });
  t.is(await submit(applier, cluster('x'.repeat(46))), undefined);
  t.regex((await submit(applier, cluster('x'.repeat(47)))) ?? '', /46/);
});

lab('lab: a SliceIPBlock is named after its block, and cannot be moved', async (t) => {
  const { applier, id } = t.context;
  const slice = `t${id}`;
  const block = (name: string, cidr: string, node: string) => ({
    apiVersion: API_VERSION,
    kind: 'SliceIPBlock',
    metadata: { name },
    spec: { slice, node, cidr },
  });
  const good = ipBlockName(slice, '10.90.0.64/26');
  t.is(await submit(applier, block(good, '10.90.0.64/26', 'node-a')), undefined);
  t.regex((await submit(applier, block(good, '10.90.0.64/26', 'node-b'))) ?? '', /immutable/);
  const wrong = await submit(applier, block(ipBlockName(slice, '10.90.0.0/26'), '10.90.0.64/26', 'node-a'));
  t.regex(wrong ?? '', /metadata\.name must be <spec\.slice>-<spec\.cidr/);
  const hostBits = await submit(
    applier,
    block(ipBlockName(slice, '10.90.0.65/26'), '10.90.0.65/26', 'node-a'),
  );
  t.regex(hostBits ?? '', /spec\.cidr must be an IPv4 network address/);
});

lab('lab: status is applied through the subresource, leaving spec and generation alone', async (t) => {
  const { applier, ns } = t.context;
  const before = (await applier.apply(sliceConfig(ns, 'status', { subnet: '10.70.0.0/16' }))) as SliceConfig;
  const { conditions } = setCondition(
    [],
    { type: 'Ready', status: 'False', reason: 'NoClusters', message: 'no member cluster yet' },
    before.metadata.generation,
  );
  const status = { conditions, clusters: [{ name: 'east', subnet: '10.70.0.0/20', phase: 'Pending' }] };
  const after = (await applier.applyStatus({ ...sliceConfig(ns, 'status', {}), status })) as SliceConfig;
  t.deepEqual(after.status, status);
  t.deepEqual(after.spec, before.spec);
  t.is(after.metadata.generation, before.metadata.generation);

  const slice = {
    apiVersion: API_VERSION,
    kind: 'Slice',
    metadata: { name: `status-${t.context.id}` },
    spec: {
      cluster: 'east',
      subnet: '10.70.0.0/16',
      block: '10.70.0.0/20',
      vni: 7000,
      mtu: 1420,
      gateway: { cipher: 'chacha20-poly1305', replicas: 2, port: 51820 },
    },
  };
  t.is(await submit(applier, slice), undefined);
  const gw = { name: 'gw-0', node: 'n1', address: '198.18.1.10:51820', active: true };
  const withStatus = await applier.applyStatus({ ...slice, status: { gateways: [gw] } });
  t.deepEqual(withStatus.status, { gateways: [gw] }, 'cluster-scoped status works too');
});
