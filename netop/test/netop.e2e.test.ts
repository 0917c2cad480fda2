/**
 * slicenet-netop against a real API server (a 1 × 1 lab): it follows Slices and
 * MultiNetworkPolicies into the node's nftables, refuses a malformed policy with an event while
 * the rules in place stay, and removes a slice's table with the slice.
 */
import anyTest, { type TestFn } from 'ava';
import { join } from 'node:path';
import { Lab } from '../../lab/lab.ts';
import { testLabName } from '../../lab/test/leftovers.ts';
import { waitFor } from '../../lib/wait.ts';
import { labNetopGet, startLabNetop, waitLabNetopReady } from '../lab.ts';

interface Ctx {
  lab: Lab;
  node: string;
}
const test = anyTest as TestFn<Ctx>;
const repo = join(import.meta.dirname, '..', '..');

test.before(async (t) => {
  const lab = await Lab.up({ name: testLabName('qx'), clusters: 1, nodes: 1 });
  t.context = { lab, node: lab.plan.clusters[0]!.nodes[0]!.name };
  await lab.kubectl('c1', ['apply', '-f', join(repo, 'crds')]);
  await lab.kubectl('c1', ['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);
});

test.after.always(async (t) => {
  await (t.context.lab as Lab | undefined)?.down();
});

const mnp = (name: string, spec: object): string =>
  JSON.stringify({
    apiVersion: 'k8s.cni.cncf.io/v1beta1',
    kind: 'MultiNetworkPolicy',
    metadata: { name, namespace: 'shop', annotations: { 'k8s.v1.cni.cncf.io/policy-for': 'slicenet-pay' } },
    spec,
  });

test('netop follows Slices and MultiNetworkPolicies into nftables, and refuses a malformed one', async (t) => {
  t.timeout(240_000);
  const { lab, node } = t.context;
  const table = async (): Promise<string> =>
    (await lab.execOnNode(node, ['nft', 'list', 'table', 'bridge', 'slicenet-policy-pay'])).stdout;
  await lab.kubectl('c1', ['create', 'namespace', 'shop']);
  await lab.kubectl(
    'c1',
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'slicenet.dev/v1alpha1',
      kind: 'Slice',
      metadata: { name: 'pay' },
      spec: {
        cluster: 'c1',
        subnet: '10.90.0.0/16',
        block: '10.90.0.0/20',
        vni: 42,
        mtu: 1400,
        gateway: { cipher: 'chacha20-poly1305', replicas: 1, port: 7000 },
      },
    }),
  );
  await lab.kubectl('c1', [
    'patch',
    'slice',
    'pay',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
      status: { endpoints: [{ ip: '10.90.0.5', namespace: 'shop', pod: 'db', labels: { app: 'db' } }] },
    }),
  ]);
  startLabNetop(lab, node);
  await waitLabNetopReady(lab, node);
  await waitFor(async () => (await table()).includes('counter policy_drops'), 30_000, 'the slice table');
  t.notRegex(await table(), /hook forward/, 'no policy, isolation off: no chain');

  await lab.kubectl(
    'c1',
    ['apply', '-f', '-'],
    mnp('deny', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'] }),
  );
  await waitFor(
    async () => (await table()).includes('10.90.0.5 : jump in0'),
    10_000,
    'the deny policy in nftables',
  );

  await lab.kubectl(
    'c1',
    ['apply', '-f', '-'],
    mnp('bad', { podSelector: {}, ingress: [{ ports: [{ protocol: 'ICMP' }] }] }),
  );
  await waitFor(
    async () =>
      (
        await lab.kubectl('c1', [
          'get',
          'events',
          '-n',
          'shop',
          '--field-selector',
          'reason=PolicyRejected',
          '-o',
          'name',
        ])
      ).trim() !== '',
    30_000,
    'a PolicyRejected event',
  );
  const msg = await lab.kubectl('c1', [
    'get',
    'events',
    '-n',
    'shop',
    '--field-selector',
    'reason=PolicyRejected',
    '-o',
    'jsonpath={.items[0].message}',
  ]);
  t.regex(
    msg,
    /MultiNetworkPolicy shop\/bad refused: spec.ingress\[0\].ports\[0\].protocol: "ICMP" is not a protocol/,
  );
  t.true((await table()).includes('10.90.0.5 : jump in0'), 'the previous ruleset stays');
  t.regex(
    (await labNetopGet(lab, node, '/metrics')) ?? '',
    /slicenet_policy_rejected_total\{slice="pay"\} [1-9]/,
  );
  t.regex(
    (await labNetopGet(lab, node, '/metrics')) ?? '',
    /slicenet_policy_drops_total\{slice="pay",reason="policy"\} 0/,
  );

  await lab.kubectl('c1', ['delete', 'multi-networkpolicy', '-n', 'shop', 'bad', 'deny']);
  await waitFor(
    async () => !(await table()).includes('hook forward'),
    10_000,
    'the rules gone with the policies',
  );
  await lab.kubectl('c1', ['delete', 'slice', 'pay']);
  await waitFor(async () => (await table()) === '', 10_000, 'the table gone with the slice');
});
