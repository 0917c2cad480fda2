/**
 * `kubectl slice install` without a cluster: what it renders (every process with requests,
 * limits and probes on its probe port; RBAC without wildcards; every ServiceAccount and role
 * referenced exists), that the built-in renderer agrees with `kubectl kustomize` on deploy/, the
 * overlay flags, and each bad command line exiting 2 with a message naming the flag.
 */
import test from 'ava';
import { loadAll } from 'js-yaml';
import { join } from 'node:path';
import { EXIT } from '../errors.ts';
import { manifests, IMAGE, type Component } from '../../deploy/manifests.ts';
import { renderKustomization, type Obj } from '../../deploy/render.ts';
import { runRaw } from '../../lib/exec.ts';
import { runInstall } from './install-helpers.ts';
import { cli, tokenKubeconfig } from './run.ts';

const repo = join(import.meta.dirname, '..', '..');

type Probe = { httpGet?: { path?: string; port?: string | number } };
type Container = {
  name: string;
  image: string;
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: Probe;
  livenessProbe?: Probe;
};
type PodSpec = { serviceAccountName?: string; containers: Container[] };

const workloads = (objs: Obj[]): Obj[] =>
  objs.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
const podSpec = (o: Obj): PodSpec => (o.spec as { template: { spec: PodSpec } }).template.spec;

/** The probe port of each process (SPEC: webhook 8081, hub 8082, worker 8083, agent 8084, netop 8086). */
const PROBE_PORTS: Record<string, number> = {
  'slicenet-webhook': 8081,
  'slicenet-controller': 8082,
  'slicenet-worker': 8083,
  'slicenet-agent': 8084,
  'slicenet-netop': 8086,
  'slicenet-dns': 8087,
};

const run = runInstall;

for (const component of ['hub', 'worker'] as Component[]) {
  const objs = manifests(component, { cluster: 'east' });

  test(`${component}: every container has requests, limits and both probes on its probe port`, (t) => {
    t.true(workloads(objs).length >= (component === 'hub' ? 2 : 5));
    for (const w of workloads(objs)) {
      const name = w.metadata.name;
      for (const c of podSpec(w).containers) {
        for (const kind of ['requests', 'limits'] as const)
          t.truthy(c.resources?.[kind]?.cpu && c.resources[kind].memory, `${name}: ${kind}`);
        const port = c.ports?.find((p) => p.name === 'probes')?.containerPort;
        t.is(port, PROBE_PORTS[name], `${name}: probe port`);
        t.is(c.readinessProbe?.httpGet?.path, '/readyz', `${name}: readiness`);
        t.is(c.livenessProbe?.httpGet?.path, '/healthz', `${name}: liveness`);
        t.is(c.readinessProbe?.httpGet?.port, 'probes');
        t.is(c.image, `${IMAGE}:0.1.0`);
      }
    }
  });

  test(`${component}: RBAC has no wildcard, and every account and role referenced exists`, (t) => {
    const has = (kind: string, name: string, ns?: string): boolean =>
      objs.some(
        (o) =>
          o.kind === kind && o.metadata.name === name && (ns === undefined || o.metadata.namespace === ns),
      );
    for (const o of objs.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
      const rules = o.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
      t.true(rules.length > 0);
      for (const r of rules)
        for (const v of [...r.apiGroups, ...r.resources, ...r.verbs])
          t.false(v.includes('*'), `${o.kind} ${o.metadata.name}: '${v}'`);
    }
    for (const b of objs.filter((x) => x.kind === 'ClusterRoleBinding' || x.kind === 'RoleBinding')) {
      const ref = b.roleRef as { kind: string; name: string };
      t.true(
        has(ref.kind, ref.name, ref.kind === 'Role' ? b.metadata.namespace : undefined),
        `${b.metadata.name}`,
      );
      for (const s of b.subjects as { name: string; namespace: string }[])
        if (s.name !== 'default') t.true(has('ServiceAccount', s.name, s.namespace), `subject ${s.name}`);
    }
    for (const w of workloads(objs))
      t.true(has('ServiceAccount', podSpec(w).serviceAccountName ?? '', 'slicenet-system'));
  });
}

test('the built-in renderer and kubectl kustomize agree on deploy/hub and deploy/worker', async (t) => {
  const probe = await runRaw(['kubectl', 'kustomize', '--help']).catch(() => undefined);
  if (probe?.exitCode !== 0) return t.pass('kubectl with kustomize is not on the PATH');
  const key = (o: Obj): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  for (const dir of ['hub', 'worker']) {
    const r = await runRaw(['kubectl', 'kustomize', join(repo, 'deploy', dir)]);
    t.is(r.exitCode, 0, r.stderr);
    const theirs = new Map((loadAll(r.stdout) as Obj[]).map((o) => [key(o), o]));
    const ours = renderKustomization(join(repo, 'deploy', dir));
    t.deepEqual(ours.map(key).sort(), [...theirs.keys()].sort(), dir);
    for (const o of ours) t.deepEqual(o, theirs.get(key(o)), key(o));
  }
});

test('--image replaces every image and the gateways the worker starts', (t) => {
  const objs = manifests('worker', { cluster: 'east', image: 'registry.example/sn:1.2' });
  for (const w of workloads(objs))
    for (const c of podSpec(w).containers) t.is(c.image, 'registry.example/sn:1.2');
  const worker = podSpec(objs.find((o) => o.metadata.name === 'slicenet-worker' && o.kind === 'Deployment')!);
  t.is(
    worker.containers[0]!.env?.find((e) => e.name === 'SLICENET_GATEWAY_IMAGE')?.value,
    'registry.example/sn:1.2',
  );
});

test('install hub -n moves the hub, its RBAC subjects and the webhook Service', (t) => {
  const objs = manifests('hub', { namespace: 'hubns' });
  t.false(JSON.stringify(objs).includes('slicenet-system'));
  t.true(objs.some((o) => o.kind === 'Namespace' && o.metadata.name === 'hubns'));
});

test('install worker: cluster name from the hub kubeconfig, its Secret, CRDs first', async (t) => {
  const file = tokenKubeconfig('https://127.0.0.1:1', { context: 'c', namespace: 'slicenet-cluster-west' });
  const r = await run(['worker', '--hub-kubeconfig', file]);
  t.is(r.code, 0, r.err);
  const objs = loadAll(r.out) as Obj[];
  t.is(objs[0]!.kind, 'CustomResourceDefinition');
  t.deepEqual(objs.find((o) => o.kind === 'ConfigMap')!.data, { cluster: 'west' });
  const secret = objs.find((o) => o.kind === 'Secret' && o.metadata.name === 'slicenet-hub-kubeconfig');
  t.regex(
    Buffer.from((secret!.data as { kubeconfig: string }).kubeconfig, 'base64').toString(),
    /slicenet-cluster-west/,
  );
  t.is(objs.at(-1)!.kind, 'ValidatingWebhookConfiguration');
  const mismatch = await run(['worker', '--hub-kubeconfig', file, '--cluster', 'east']);
  t.is(mismatch.code, EXIT.usage);
  t.regex(mismatch.err, /--cluster east does not match --hub-kubeconfig, which was made for cluster 'west'/);
  const json = await run(['hub', '-o', 'json']);
  t.is((JSON.parse(json.out) as { kind: string }).kind, 'List');
});

const usage: [string, string[], RegExp][] = [
  ['no component', [], /missing the component name/],
  ['unknown component', ['member'], /unknown component 'member': kubectl slice install hub .* or worker/],
  ['worker without a cluster', ['worker'], /install worker needs --cluster NAME/],
  ['bad cluster name', ['worker', '--cluster', 'East'], /--cluster 'East' is not valid/],
  ['--cluster on the hub', ['hub', '--cluster', 'east'], /--cluster is for install worker/],
  [
    'worker in another namespace',
    ['worker', '--cluster', 'a', '-n', 'x'],
    /install worker runs in slicenet-system/,
  ],
  ['client dry run', ['hub', '--dry-run=client'], /--dry-run: expected one of server, none, got 'client'/],
  ['table output', ['hub', '-o', 'table'], /--output: expected one of yaml, json/],
  ['bad image', ['hub', '--image', 'not an image'], /--image: expected an image reference/],
  [
    'unreadable hub kubeconfig',
    ['worker', '--hub-kubeconfig', '/nonexistent'],
    /--hub-kubeconfig: cannot use '\/nonexistent'/,
  ],
];

for (const [what, argv, message] of usage)
  test(`usage: ${what} exits 2`, async (t) => {
    const r = await run(argv);
    t.is(r.code, EXIT.usage, r.err);
    t.regex(r.err, message);
  });

test('through the shim: a usage error exits 2, an unreachable cluster 1, both with a message', async (t) => {
  t.timeout(400_000);
  const bad = await cli(['install', 'hub', '--apply', '--bogus']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /unknown flag --bogus for 'install'/);
  const kubeconfig = tokenKubeconfig('https://127.0.0.1:9', { context: 'c' });
  const down = await cli(['install', 'hub', '--apply', '--kubeconfig', kubeconfig]);
  t.is(down.code, 1);
  t.regex(down.stderr, /cannot reach the API server at https:\/\/127\.0\.0\.1:9/);
});
