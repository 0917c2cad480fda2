/**
 * slicenet-webhook behind a real API server: a one-node lab, the webhook started as a process
 * in the control-plane network namespace (the API server dials it at the cluster-LAN address,
 * `--client-config url`, as there is no kube-proxy), and everything checked through kubectl.
 *
 * Test pods are bound to a node that does not exist, so no kubelet tries to run them: only
 * what admission did to them matters here.
 */
import anyTest, { type TestFn } from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runRaw } from '../../lib/exec.ts';
import { waitFor } from '../../lab/controlplane.ts';
import { Lab } from '../../lab/lab.ts';
import { startLabWebhook, waitLabWebhookReady, webhookProcessId } from '../lab.ts';
import { leftovers, NOTHING, testLabName } from '../../lab/test/leftovers.ts';

const test = anyTest as TestFn<{ lab: Lab; ip: string; netns: string }>;
const repo = join(import.meta.dirname, '..', '..');
const NS = 'slicenet-system';
const NET = 'k8s.v1.cni.cncf.io/networks';
const PORT = 9443;
const PROBE_PORT = 8081;
const RESYNC_SECONDS = 5;

interface PodJson {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

test.before(async (t) => {
  const lab = await Lab.up({ name: testLabName('wh'), clusters: 1, nodes: 1 });
  const c = lab.plan.clusters[0]!;
  t.context = { lab, ip: c.controlPlane.ip, netns: c.controlPlane.netns };
  await lab.kubectl(c.name, ['create', 'namespace', NS]);
  if (existsSync(join(repo, 'crds'))) {
    await lab.kubectl(c.name, ['apply', '-f', join(repo, 'crds')]);
    await lab.kubectl(c.name, ['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);
  }
  await startLabWebhook(lab, c.name, {
    namespace: NS,
    port: PORT,
    probePort: PROBE_PORT,
    resyncSeconds: RESYNC_SECONDS,
  });
  await kubectl(lab, ['create', 'namespace', 'shop']);
  await kubectl(lab, ['label', 'namespace', 'shop', 'slicenet.dev/slice=payments']);
  // Ready means the configurations are written; the API server picks them up a moment later.
  await waitFor(
    async () => {
      const out = await kubectl(
        lab,
        ['create', '--dry-run=server', '-o', 'json', '-f', '-'],
        JSON.stringify(pod('probe')),
      );
      return (JSON.parse(out) as PodJson).metadata.labels?.['slicenet.dev/slice'] === 'payments';
    },
    30_000,
    'the API server to call the webhook',
  );
});

test.after.always(async (t) => {
  const lab = t.context.lab as Lab | undefined;
  if (!lab) return;
  await lab.down();
  t.deepEqual(leftovers(lab.plan.name), NOTHING, 'the webhook process went with the lab');
});

const kubectl = (lab: Lab, args: string[], input?: string): Promise<string> =>
  lab.kubectl(lab.plan.clusters[0]!.name, args, input);

function pod(
  name: string,
  opts: { annotations?: object; labels?: object; hostNetwork?: boolean } = {},
): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', annotations: opts.annotations, labels: opts.labels },
    spec: {
      nodeName: 'nowhere',
      hostNetwork: opts.hostNetwork,
      containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }],
    },
  };
}

async function createPod(lab: Lab, p: object): Promise<PodJson> {
  const created = JSON.parse(
    await kubectl(lab, ['create', '-o', 'json', '-f', '-'], JSON.stringify(p)),
  ) as PodJson;
  await kubectl(lab, [
    'delete',
    'pod',
    '-n',
    'shop',
    created.metadata.name,
    '--force',
    '--grace-period=0',
    '--wait=false',
  ]);
  return created;
}

test.serial('lab: a pod in a joined namespace gets the slice entry and keeps its own networks', async (t) => {
  const p = await createPod(
    t.context.lab,
    pod('web', { annotations: { [NET]: 'net-a, kube-system/net-b@eth2' } }),
  );
  t.deepEqual(JSON.parse(p.metadata.annotations?.[NET] ?? ''), [
    { name: 'net-a' },
    { name: 'net-b', namespace: 'kube-system', interface: 'eth2' },
    { name: 'slicenet-payments', interface: 'slice0' },
  ]);
  t.is(p.metadata.labels?.['slicenet.dev/slice'], 'payments');
});

test.serial('lab: host-network and excluded pods are untouched', async (t) => {
  const host = await createPod(t.context.lab, pod('host', { hostNetwork: true }));
  t.is(host.metadata.annotations?.[NET], undefined);
  t.is(host.metadata.labels?.['slicenet.dev/slice'], undefined);
  const excluded = await createPod(
    t.context.lab,
    pod('excluded', { labels: { 'slicenet.dev/exclude': 'true' } }),
  );
  t.is(excluded.metadata.annotations?.[NET], undefined);
  t.deepEqual(excluded.metadata.labels, { 'slicenet.dev/exclude': 'true' });
});

test.serial('lab: a pod with an unreadable networks annotation is refused with the reason', async (t) => {
  const err = await t.throwsAsync(
    createPod(t.context.lab, pod('bad', { annotations: { [NET]: '[{"name":' } })),
  );
  t.regex(
    err.message,
    /admission webhook "pods.slicenet.dev" denied the request: metadata.annotations\["k8s.v1.cni.cncf.io\/networks"\]: not valid JSON/,
  );
});

test.serial('lab: invalid SliceConfigs are refused by the webhook, naming the field', async (t) => {
  const { lab } = t.context;
  if (!existsSync(join(repo, 'crds'))) return t.pass('no CRDs yet');
  const apply = (obj: object): Promise<string> => kubectl(lab, ['create', '-f', '-'], JSON.stringify(obj));
  const sc = (name: string, spec: object): object => ({
    apiVersion: 'slicenet.dev/v1alpha1',
    kind: 'SliceConfig',
    metadata: { name, namespace: NS },
    spec,
  });
  await apply({
    apiVersion: 'slicenet.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'c1', namespace: NS },
    spec: {},
  });
  await apply(sc('payments', { subnet: '10.90.0.0/16', clusters: ['c1'] }));
  const overlap = await t.throwsAsync(apply(sc('orders', { subnet: '10.90.128.0/17', clusters: ['c1'] })));
  t.regex(
    overlap.message,
    /admission webhook "sliceconfigs.slicenet.dev" denied the request: spec.subnet: 10.90.128.0\/17 overlaps 10.90.0.0\/16 of SliceConfig slicenet-system\/payments/,
  );
  const ghost = await t.throwsAsync(apply(sc('ghost', { subnet: '10.91.0.0/16', clusters: ['c1', 'nope'] })));
  t.regex(ghost.message, /spec.clusters\[1\]: cluster "nope" is not registered/);
});

test.serial('lab: the Secret and caBundle agree, and a restart reuses the certificate', async (t) => {
  const { lab } = t.context;
  const secret = async (): Promise<Record<string, string>> =>
    (
      JSON.parse(await kubectl(lab, ['get', 'secret', '-n', NS, 'slicenet-webhook-tls', '-o', 'json'])) as {
        data: Record<string, string>;
      }
    ).data;
  const before = await secret();
  for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
    const bundle = await kubectl(lab, [
      'get',
      kind,
      'slicenet',
      '-o',
      'jsonpath={.webhooks[0].clientConfig.caBundle}',
    ]);
    t.is(bundle, before['ca.crt'] ?? 'missing', `${kind} caBundle is the Secret's CA`);
  }
  const id = webhookProcessId(lab.plan.clusters[0]!.name);
  const { argv } = lab.processes.get(id)!;
  await lab.processes.stop(id);
  lab.processes.start({ id, argv, cwd: repo });
  await waitLabWebhookReady(lab, lab.plan.clusters[0]!.name, PROBE_PORT);
  t.deepEqual(await secret(), before, 'the certificate is reused');
  const p = await createPod(lab, pod('after-restart'));
  t.is(p.metadata.labels?.['slicenet.dev/slice'], 'payments');
});

test.serial('lab: garbage sent to the webhook gets a 400 and it keeps serving the API server', async (t) => {
  const { lab, netns, ip } = t.context;
  const url = `https://${ip}:${PORT}/mutate-pods`;
  const curl = [
    'curl',
    '-sk',
    '-w',
    '\n%{http_code}',
    '-H',
    'Content-Type: application/json',
    '--data',
    '{not json',
  ];
  const r = await runRaw([...curl, url], { netns });
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines.at(-1), '400');
  t.regex(lines.slice(0, -1).join('\n'), /^body is not JSON/);
  const p = await createPod(lab, pod('after-garbage'));
  t.is(p.metadata.labels?.['slicenet.dev/slice'], 'payments');
});

const tlsSecret = async (lab: Lab): Promise<Record<string, string>> =>
  (
    JSON.parse(await kubectl(lab, ['get', 'secret', '-n', NS, 'slicenet-webhook-tls', '-o', 'json'])) as {
      data: Record<string, string>;
    }
  ).data;

const caBundle = (lab: Lab, kind: string): Promise<string> =>
  kubectl(lab, ['get', kind, 'slicenet', '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}']);

test.serial('lab: a caBundle overwritten by hand is restored at the next resync', async (t) => {
  const { lab } = t.context;
  const want = (await tlsSecret(lab))['ca.crt'];
  const junk = Buffer.from('not a CA').toString('base64');
  const patch = [{ op: 'replace', path: '/webhooks/0/clientConfig/caBundle', value: junk }];
  await kubectl(lab, [
    'patch',
    'mutatingwebhookconfiguration',
    'slicenet',
    '--type=json',
    '-p',
    JSON.stringify(patch),
  ]);
  await waitFor(
    async () => (await caBundle(lab, 'mutatingwebhookconfiguration')) === want,
    RESYNC_SECONDS * 5000,
    'caBundle restored',
  );
  t.pass();
});

test.serial(
  'lab: a deleted Secret is regenerated, caBundle follows, and pods are still admitted',
  async (t) => {
    const { lab } = t.context;
    const oldCa = Buffer.from((await tlsSecret(lab))['ca.crt']!, 'base64').toString();
    await kubectl(lab, ['delete', 'secret', '-n', NS, 'slicenet-webhook-tls']);
    let fresh: Record<string, string> = {};
    await waitFor(
      async () => {
        fresh = await tlsSecret(lab).catch(() => ({}));
        return fresh['ca.crt'] !== undefined;
      },
      RESYNC_SECONDS * 5000,
      'the Secret to be made again',
    );
    const bundle = Buffer.from(fresh['ca.crt']!, 'base64').toString();
    t.not(
      bundle.split('-----END CERTIFICATE-----')[0],
      oldCa.split('-----END CERTIFICATE-----')[0],
      'a new CA',
    );
    t.true(bundle.endsWith(oldCa), 'the CA still being served stays trusted');
    await waitFor(
      async () => (await caBundle(lab, 'validatingwebhookconfiguration')) === fresh['ca.crt'],
      RESYNC_SECONDS * 5000,
      'caBundle updated',
    );
    const p = await createPod(lab, pod('after-rotation'));
    t.is(p.metadata.labels?.['slicenet.dev/slice'], 'payments');
  },
);
