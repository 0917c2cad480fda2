/**
 * The gateways' ServiceAccount on a real API server (a one-node lab): the account and its RBAC
 * from the worker install apply; the gateway Deployment the worker renders, and a pod of its
 * template, pass a server-side dry run (ServiceAccount admission finds the account); and the
 * account can make exactly the calls the gateway makes (kubectl auth can-i --as).
 */
import anyTest, { type TestFn } from 'ava';
import { dump } from 'js-yaml';
import { join } from 'node:path';
import { Lab } from '../../lab/lab.ts';
import { binPath } from '../../lab/paths.ts';
import { testLabName } from '../../lab/test/leftovers.ts';
import { runRaw } from '../../lib/exec.ts';
import { GATEWAY_SERVICE_ACCOUNT } from '../../controller/worker/gateways.ts';
import { accountObjects, deployment, NS, RIGHTS } from './gateway-account.ts';

const test = anyTest as TestFn<{ lab: Lab }>;

test.before(async (t) => {
  t.timeout(600_000);
  const lab = await Lab.up({ name: testLabName('cx'), clusters: 1, nodes: 1 });
  t.context = { lab };
  await lab.kubectl('c1', ['create', 'namespace', NS]);
  // can-i resolves resource names through discovery: Slices must be served.
  await lab.kubectl('c1', ['apply', '--server-side', '-f', join(import.meta.dirname, '..', '..', 'crds')]);
  await lab.kubectl('c1', ['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);
});

test.after.always(async (t) => {
  await (t.context.lab as Lab | undefined)?.down();
});

const yaml = (objs: object[]): string => objs.map((o) => dump(o, { noRefs: true })).join('---\n');

test.serial(
  'the account applies; the gateway Deployment and its pod pass a server-side dry run',
  async (t) => {
    t.timeout(300_000);
    const { lab } = t.context;
    const applied = await lab.kubectl('c1', ['apply', '--server-side', '-f', '-'], yaml(accountObjects()));
    t.regex(applied, /serviceaccount\/slicenet-gateway serverside-applied/);
    const d = deployment();
    const dry = await lab.kubectl('c1', ['apply', '--server-side', '--dry-run=server', '-f', '-'], yaml([d]));
    t.regex(dry, /deployment\.apps\/slicenet-gateway-gw serverside-applied \(server dry run\)/);
    // What the ReplicaSet controller will create: admission refuses a pod whose account is missing.
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'slicenet-gateway-gw-dry', namespace: NS, labels: d.spec!.template.metadata!.labels },
      spec: d.spec!.template.spec,
    };
    const out = await lab.kubectl(
      'c1',
      ['create', '--dry-run=server', '-o', 'json', '-f', '-'],
      JSON.stringify(pod),
    );
    t.is(
      (JSON.parse(out) as { spec: { serviceAccountName: string } }).spec.serviceAccountName,
      GATEWAY_SERVICE_ACCOUNT,
    );
    const missing = { ...pod, spec: { ...pod.spec, serviceAccountName: 'slicenet-nobody' } };
    const refused = await runRaw(
      [binPath('kubectl'), '--kubeconfig', lab.kubeconfig('c1'), 'create', '--dry-run=server', '-f', '-'],
      { input: JSON.stringify(missing) },
    );
    t.not(refused.exitCode, 0, 'a pod naming an account that does not exist is refused');
  },
);

test.serial('the account has the rights the gateway uses and not others', async (t) => {
  t.timeout(300_000);
  const { lab } = t.context;
  const wrong: string[] = [];
  for (const [verb, resource, namespace, want] of RIGHTS) {
    const r = await runRaw([
      binPath('kubectl'),
      '--kubeconfig',
      lab.kubeconfig('c1'),
      'auth',
      'can-i',
      `--as=system:serviceaccount:${NS}:${GATEWAY_SERVICE_ACCOUNT}`,
      verb,
      // `resource/status` would ask about an object named status: a subresource is a flag.
      ...resource.replace(/\/(\w+)$/, ' --subresource=$1').split(' '),
      ...(namespace ? ['-n', namespace] : []),
    ]);
    const row = `${verb} ${resource}${namespace ? ` -n ${namespace}` : ''}`;
    if (r.stdout.trim() !== (want ? 'yes' : 'no'))
      wrong.push(`${row}: ${r.stdout.trim()} ${r.stderr.trim()}`);
  }
  t.deepEqual(wrong, []);
});
