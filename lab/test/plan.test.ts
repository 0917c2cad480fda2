import test from 'ava';
import { planLab, LabRequestError, type LabRequest } from '../plan.ts';

const refused: [string, LabRequest, RegExp][] = [
  ['zero clusters', { clusters: 0 }, /clusters: 0 clusters is not allowed; allowed: 1 to 16/],
  ['too many clusters', { clusters: 17 }, /allowed: 1 to 16/],
  ['fractional clusters', { clusters: 1.5 }, /clusters: 1.5 clusters is not allowed/],
  ['empty cluster list', { clusters: [] }, /give 1 to 16 cluster names/],
  ['bad cluster name', { clusters: ['East'] }, /cluster name "East" must be 1-8 lowercase/],
  ['long cluster name', { clusters: ['abcdefghi'] }, /must be 1-8 lowercase/],
  ['duplicate cluster names', { clusters: ['a', 'a'] }, /unique/],
  [
    'zero nodes',
    { nodes: 0 },
    /nodes: 0 nodes per cluster is outside what the lab can hold; allowed: 1 to 40/,
  ],
  ['nodes past the address plan', { nodes: 41 }, /allowed: 1 to 40/],
  ['bad lab name', { name: 'My Lab' }, /name: "My Lab" must be 1-8 lowercase/],
  [
    'bad pod CIDR mode',
    { podCidrs: 'mixed' as 'overlap' },
    /podCidrs: "mixed" is not allowed; use overlap or distinct/,
  ],
  [
    'unknown option',
    { gpus: 2 } as LabRequest,
    /gpus: unknown option; allowed: name, clusters, nodes, podCidrs/,
  ],
];

for (const [title, req, message] of refused) {
  test(`refuses ${title}`, (t) => {
    const err = t.throws(() => planLab(req), { instanceOf: LabRequestError });
    t.regex(err.message, message);
    t.is(err.code, 'LAB_BAD_REQUEST');
  });
}

test('plans names and addresses for 2 clusters × 3 nodes', (t) => {
  const plan = planLab({ name: 'x', clusters: ['east', 'west'], nodes: 3 });
  t.is(plan.wanNetns, 'x-wan');
  const [east, west] = plan.clusters;
  t.deepEqual(
    east!.nodes.map((n) => [n.name, n.netns, n.ip, n.wanLink]),
    [
      ['east-n1', 'x-east-n1', '198.18.1.11', 'v-east-n1'],
      ['east-n2', 'x-east-n2', '198.18.1.12', 'v-east-n2'],
      ['east-n3', 'x-east-n3', '198.18.1.13', 'v-east-n3'],
    ],
  );
  t.is(west!.controlPlane.ip, '198.18.2.2');
  t.is(west!.lanGateway, '198.18.2.1');
  t.is(east!.podCidr, west!.podCidr, 'pod CIDRs overlap by default');
});

test('every interface name fits the kernel limit of 15 characters', (t) => {
  const plan = planLab({ clusters: ['abcdefgh', 'b'], nodes: 40 });
  for (const c of plan.clusters) {
    for (const link of [c.bridge, c.controlPlane.wanLink, ...c.nodes.map((n) => n.wanLink)]) {
      t.true(link.length <= 15, link);
    }
  }
});

test('distinct pod CIDRs differ per cluster', (t) => {
  const plan = planLab({ clusters: 3, podCidrs: 'distinct' });
  t.deepEqual(
    plan.clusters.map((c) => c.podCidr),
    ['10.101.0.0/16', '10.102.0.0/16', '10.103.0.0/16'],
  );
});
