/**
 * Server-side apply and finalizers against a real API server: SLICENET_TEST_KUBECONFIG names
 * its kubeconfig (the lab's); without it these tests are skipped. ConfigMaps in a namespace of
 * their own, deleted afterwards. applyStatus is tested with the CRDs, in controller/api/test.
 */
import anyTest, { type TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { apiStatus, loadKubeConfig } from '../client.ts';
import { Applier } from '../apply.ts';

const kubeconfigPath = process.env.SLICENET_TEST_KUBECONFIG;
const test = anyTest as TestFn<{ core: CoreV1Api; a: Applier; b: Applier; ns: string }>;
const lab = kubeconfigPath ? test.serial : test.serial.skip;

if (kubeconfigPath) {
  test.before(async (t) => {
    const kc = loadKubeConfig(kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const ns = `apply-test-${randomUUID().slice(0, 8)}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    t.context = { core, ns, a: new Applier(kc, 'slicenet-a'), b: new Applier(kc, 'slicenet-b') };
  });
  test.after.always(async (t) => {
    await t.context.core?.deleteNamespace({ name: t.context.ns }).catch(() => undefined);
  });
}

const cm = (ns: string, name: string, data: Record<string, string>): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns },
  data,
});

lab('lab: apply creates, updates, and drops only the fields its manager stopped sending', async (t) => {
  const { core, a, b, ns } = t.context;
  const created = await a.apply(cm(ns, 'one', { x: '1', y: '2' }));
  t.deepEqual(created.data, { x: '1', y: '2' });
  await b.apply(cm(ns, 'one', { z: '3' }));
  await a.apply(cm(ns, 'one', { x: '10' }));
  const now = await core.readNamespacedConfigMap({ name: 'one', namespace: ns });
  t.deepEqual(now.data, { x: '10', z: '3' }, "y is gone (a dropped it), z stays (b's)");
  const managers = now.metadata?.managedFields?.map((f) => f.manager).sort();
  t.deepEqual(managers, ['slicenet-a', 'slicenet-b']);
});

lab('lab: apply conflicts on another manager’s field unless forced', async (t) => {
  const { core, a, b, ns } = t.context;
  await a.apply(cm(ns, 'two', { x: '1' }));
  const err = await t.throwsAsync(b.apply(cm(ns, 'two', { x: '2' }), { force: false }));
  t.is(apiStatus(err), 409);
  await b.apply(cm(ns, 'two', { x: '2' }));
  const now = await core.readNamespacedConfigMap({ name: 'two', namespace: ns });
  t.is(now.data?.x, '2');
});

lab('lab: a dry-run apply persists nothing', async (t) => {
  const { core, a, ns } = t.context;
  const r = await a.apply(cm(ns, 'dry', { x: '1' }), { dryRun: true });
  t.is(r.data?.x, '1');
  const err = await t.throwsAsync(core.readNamespacedConfigMap({ name: 'dry', namespace: ns }));
  t.is(apiStatus(err), 404);
});

lab('lab: finalizers are added once, guarded by resourceVersion, and removed', async (t) => {
  const { core, a, ns } = t.context;
  const f = 'slicenet.dev/test';
  const read = () => core.readNamespacedConfigMap({ name: 'fin', namespace: ns });
  await a.apply(cm(ns, 'fin', { x: '1' }));
  const first = await read();
  const added = await a.addFinalizer(first, f);
  t.deepEqual(added.metadata?.finalizers, [f]);
  const again = await a.addFinalizer(added, f);
  t.is(again.metadata?.resourceVersion, added.metadata?.resourceVersion, 'no write when already there');

  const stale = await t.throwsAsync(a.addFinalizer(first, 'slicenet.dev/other'));
  t.is(apiStatus(stale), 409, 'a stale object is refused, not merged');
  t.deepEqual((await read()).metadata?.finalizers, [f]);

  await core.deleteNamespacedConfigMap({ name: 'fin', namespace: ns });
  const deleting = await read();
  t.truthy(deleting.metadata?.deletionTimestamp, 'held by the finalizer');
  await a.removeFinalizer(deleting, f);
  const gone = await t.throwsAsync(read());
  t.is(apiStatus(gone), 404, 'removing the last finalizer let it go');
  t.is(await a.removeFinalizer(deleting, f), undefined, 'removing from a gone object is done');
});
