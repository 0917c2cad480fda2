/**
 * Multi-Cluster Services end to end (issue 8): a ServiceExport in c1 → c1's worker reports the
 * slice addresses of the Service's ready pods → the hub merges → c2's worker makes the
 * ServiceImport and EndpointSlices that slicenet-dns reads (checked through dns/import.ts, as
 * it reads them). Readiness follows within 2 s; a missing Service and conflicting ports are
 * said in the ServiceExport's conditions; unexporting removes the import.
 *
 * A pod is made unready the way the lab allows: its second container waits for a file and
 * exits (restartPolicy Never), so the pod keeps running, and keeps its slice0, but is no longer
 * Ready; the EndpointSlice controller marks its endpoint not ready.
 */
import anyTest, { type TestFn } from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api } from '@kubernetes/client-node';
import { importedService, type ServiceImportLike } from '../../dns/import.ts';
import type { ImportedService } from '../../dns/records.ts';
import type { Lab } from '../../lab/lab.ts';
import { isNotFound } from '../../lib/kube/client.ts';
import type { Condition } from '../../lib/kube/conditions.ts';
import { waitFor } from '../../lib/wait.ts';
import { apply, NS, sliceNic, slicePod, upSliceLab } from './slice-lab.ts';

const test = anyTest as TestFn<{ lab: Lab; gates: string }>;
const MCS = { group: 'multicluster.x-k8s.io', version: 'v1alpha1' };

test.before(async (t) => {
  t.timeout(600_000);
  const gates = mkdtempSync(join(tmpdir(), 'ctl-mcs-'));
  t.context = { lab: await upSliceLab('mc'), gates };
});

test.after.always(async (t) => {
  await (t.context.lab as Lab | undefined)?.down();
  if (t.context.gates) rmSync(t.context.gates, { recursive: true, force: true });
});

const service = (name: string, port: number): object => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS },
  spec: { selector: { app: name }, ports: [{ name: 'http', protocol: 'TCP', port, targetPort: 8080 }] },
});

const serviceExport = (name: string): object => ({
  apiVersion: `${MCS.group}/${MCS.version}`,
  kind: 'ServiceExport',
  metadata: { name, namespace: NS },
});

/** A pod of `app` that is Ready until its gate file appears. */
function gatedPod(lab: Lab, gates: string, cluster: string, app: string, name: string): object {
  const gate = join(gates, name);
  return slicePod(lab, cluster, name, {
    labels: { app },
    containers: [
      {
        name: 'gate',
        image: 'lab/none',
        command: ['sh', '-c', `while [ ! -e '${gate}' ]; do sleep 0.05; done`],
      },
    ],
  });
}

/** The imported service as slicenet-dns in `cluster` would see it, or undefined without a ServiceImport. */
async function imported(lab: Lab, cluster: string, name: string): Promise<ImportedService | undefined> {
  const kc = lab.kubeConfig(cluster);
  let si: ServiceImportLike;
  try {
    si = (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      ...MCS,
      plural: 'serviceimports',
      namespace: NS,
      name,
    })) as ServiceImportLike;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const slices = await kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({
    namespace: NS,
    labelSelector: `multicluster.kubernetes.io/service-name=${name}`,
  });
  return importedService(si, slices.items);
}

async function exportConditions(lab: Lab, cluster: string, name: string): Promise<Condition[]> {
  const se = (await lab
    .kubeConfig(cluster)
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ ...MCS, plural: 'serviceexports', namespace: NS, name })) as {
    status?: { conditions?: Condition[] };
  };
  return se.status?.conditions ?? [];
}

const cond = (cs: Condition[], type: string): Condition | undefined => cs.find((c) => c.type === type);

test.serial('an exported Service with two ready pods in c1: c2 imports both slice addresses', async (t) => {
  t.timeout(300_000);
  const { lab, gates } = t.context;
  await apply(lab, 'c1', service('web', 80));
  for (const p of ['web-1', 'web-2']) await apply(lab, 'c1', gatedPod(lab, gates, 'c1', 'web', p));
  const ips = [(await sliceNic(lab, 'c1', 'web-1')).ip, (await sliceNic(lab, 'c1', 'web-2')).ip];
  await apply(lab, 'c1', serviceExport('web'));
  const exported = Date.now();
  let seen: ImportedService | undefined;
  await waitFor(
    async () => {
      seen = await imported(lab, 'c2', 'web');
      return ips.every((ip) => seen?.endpoints.some((e) => e.ip === ip && e.ready));
    },
    60_000,
    `c2's import of shop/web with ${ips.join(', ')} ready`,
  );
  t.log(`ServiceExport created → both endpoints ready in c2's import: ${Date.now() - exported} ms`);
  t.like(seen, { namespace: NS, name: 'web', type: 'ClusterSetIP', ports: [{ name: 'http', port: 80 }] });
  t.deepEqual(
    seen!.endpoints.map((e) => [e.ip, e.cluster, e.hostname, e.ports?.[0]?.port]).sort(),
    [
      [ips[0], 'c1', 'web-1', 8080],
      [ips[1], 'c1', 'web-2', 8080],
    ].sort(),
  );
  t.truthy(await imported(lab, 'c1', 'web'), 'the exporting cluster imports it too');
  await waitFor(
    async () => cond(await exportConditions(lab, 'c1', 'web'), 'Ready')?.status === 'True',
    30_000,
    'the export Ready',
  );
  const cs = await exportConditions(lab, 'c1', 'web');
  t.like(cond(cs, 'Valid'), { status: 'True' });
  t.like(cond(cs, 'Conflict'), { status: 'False' });
  t.regex(cond(cs, 'Ready')!.message, /2 of 2 endpoints ready/);
});

test.serial("a pod turning unready is not ready in c2's import within 2 s", async (t) => {
  t.timeout(120_000);
  const { lab, gates } = t.context;
  const ip = (await sliceNic(lab, 'c1', 'web-2')).ip;
  const pods = lab.kubeConfig('c1').makeApiClient(CoreV1Api);
  writeFileSync(join(gates, 'web-2'), '');
  const touched = Date.now();
  // Both sides polled in parallel, so each time is when that side was first seen changed.
  let unreadyAt = 0;
  let goneAt = 0;
  const deadline = touched + 30_000;
  await Promise.all([
    (async () => {
      while (!unreadyAt && Date.now() < deadline) {
        const p = await pods.readNamespacedPod({ namespace: NS, name: 'web-2' });
        if (p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False') unreadyAt = Date.now();
        else await sleep(25);
      }
    })(),
    (async () => {
      while (!goneAt && Date.now() < deadline) {
        const seen = await imported(lab, 'c2', 'web');
        if (!seen?.endpoints.some((e) => e.ip === ip && e.ready)) goneAt = Date.now();
        else await sleep(25);
      }
    })(),
  ]);
  t.true(unreadyAt > 0 && goneAt > 0, 'both changes seen within 30 s');
  const flow = goneAt - unreadyAt;
  t.log(
    `pod Ready=False → not ready in c2's import: ${flow} ms (gate file → pod unready: ${unreadyAt - touched} ms)`,
  );
  t.true(flow <= 2_000, `${flow} ms within the 2 s budget`);
  const seen = await imported(lab, 'c2', 'web');
  t.true(
    seen?.endpoints.some((e) => e.ip !== ip && e.ready),
    'the other pod stays ready',
  );
  await waitFor(
    async () => cond(await exportConditions(lab, 'c1', 'web'), 'Ready')?.message.includes('1 of 2') ?? false,
    10_000,
    'the export counting one ready endpoint',
  );
  t.pass();
});

test.serial('an export of a missing Service: Valid=False, ServiceNotFound, nothing imported', async (t) => {
  t.timeout(60_000);
  const { lab } = t.context;
  await apply(lab, 'c1', serviceExport('nosvc'));
  await waitFor(
    async () => cond(await exportConditions(lab, 'c1', 'nosvc'), 'Valid')?.status === 'False',
    30_000,
    'Valid=False on shop/nosvc',
  );
  const cs = await exportConditions(lab, 'c1', 'nosvc');
  t.like(cond(cs, 'Valid'), { reason: 'ServiceNotFound' });
  t.regex(cond(cs, 'Valid')!.message, /Service shop\/nosvc not found/);
  t.like(cond(cs, 'Ready'), { status: 'False', reason: 'ServiceNotFound' });
  t.is(await imported(lab, 'c2', 'nosvc'), undefined);
});

test.serial(
  'the same service exported with conflicting ports: Conflict on both, the oldest wins',
  async (t) => {
    t.timeout(120_000);
    const { lab } = t.context;
    await apply(lab, 'c1', service('api', 80));
    await apply(lab, 'c2', service('api', 81));
    await apply(lab, 'c1', serviceExport('api'));
    // creationTimestamp has whole seconds: c1's export must be the older one.
    await sleep(1_100);
    await apply(lab, 'c2', serviceExport('api'));
    for (const c of ['c1', 'c2'])
      await waitFor(
        async () => cond(await exportConditions(lab, c, 'api'), 'Conflict')?.status === 'True',
        30_000,
        `Conflict=True on ${c}'s export of shop/api`,
      );
    const mine = cond(await exportConditions(lab, 'c2', 'api'), 'Conflict')!;
    t.is(mine.reason, 'PortConflict');
    t.regex(mine.message, /port "http" is TCP\/81 in c2, TCP\/80 in c1.*not imported/);
    const seen = await imported(lab, 'c2', 'api');
    t.deepEqual(
      seen?.ports.map((p) => p.port),
      [80],
      "c1's, the oldest export's, port",
    );
  },
);

test.serial('unexporting removes the ServiceImport and its EndpointSlices everywhere', async (t) => {
  t.timeout(60_000);
  const { lab } = t.context;
  await lab.kubectl('c1', ['delete', 'serviceexport', '-n', NS, 'web']);
  for (const c of ['c1', 'c2'])
    await waitFor(
      async () => (await imported(lab, c, 'web')) === undefined,
      30_000,
      `no import of web in ${c}`,
    );
  const left = await lab.kubectl('c2', [
    ...['get', 'endpointslices', '-n', NS, '-l', 'multicluster.kubernetes.io/service-name=web'],
    ...['-o', 'name'],
  ]);
  t.is(left.trim(), '');
});
