/** Malformed MultiNetworkPolicies: refused whole, one row per error, each naming the field. */
import test from 'ava';
import { compile, type SliceView } from '../policy/compile.ts';
import type { MultiNetworkPolicy } from '../policy/types.ts';
import { PolicyError } from '../policy/validate.ts';

const policy = (spec: unknown): MultiNetworkPolicy =>
  ({
    apiVersion: 'k8s.cni.cncf.io/v1beta1',
    kind: 'MultiNetworkPolicy',
    metadata: { name: 'bad', namespace: 'shop' },
    spec,
  }) as MultiNetworkPolicy;

const good = policy({ podSelector: {}, policyTypes: ['Ingress'] });
const view = (p: MultiNetworkPolicy): SliceView => ({
  slice: 's',
  cluster: 'east',
  subnet: '10.1.0.0/16',
  endpoints: [{ ip: '10.1.0.1', cluster: 'east', namespace: 'shop', pod: 'a', labels: {} }],
  namespaceLabels: () => ({}),
  isolation: { enabled: false, allowed: () => true },
  policies: [good, p],
});

const from = (peer: unknown): unknown => ({ podSelector: {}, ingress: [{ from: [peer] }] });
const ports = (port: unknown): unknown => ({ podSelector: {}, ingress: [{ ports: [port] }] });

const ROWS: [name: string, spec: unknown, field: string, says: RegExp][] = [
  ['no spec', undefined, 'spec', /is required/],
  ['no podSelector', { ingress: [] }, 'spec.podSelector', /is required/],
  [
    'unknown policy type',
    { podSelector: {}, policyTypes: ['Both'] },
    'spec.policyTypes[0]',
    /Ingress or Egress/,
  ],
  [
    'bad operator',
    { podSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] } },
    'spec.podSelector.matchExpressions[0].operator',
    /In, NotIn, Exists or DoesNotExist/,
  ],
  [
    'In without values',
    { podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } },
    'spec.podSelector.matchExpressions[0].values',
    /must not be empty/,
  ],
  [
    'Exists with values',
    from({ podSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } }),
    'spec.ingress[0].from[0].podSelector.matchExpressions[0].values',
    /must be empty/,
  ],
  [
    'bad label key',
    { podSelector: { matchLabels: { 'bad key!': 'x' } } },
    'spec.podSelector.matchLabels',
    /label key "bad key!"/,
  ],
  [
    'bad label value',
    from({ namespaceSelector: { matchLabels: { team: 'no spaces' } } }),
    'spec.ingress[0].from[0].namespaceSelector.matchLabels.team',
    /label value/,
  ],
  [
    'bad key prefix',
    { podSelector: { matchLabels: { 'Bad_Prefix/x': 'y' } } },
    'spec.podSelector.matchLabels',
    /invalid prefix/,
  ],
  ['empty peer', from({}), 'spec.ingress[0].from[0]', /needs podSelector, namespaceSelector or ipBlock/],
  [
    'ipBlock with a selector',
    from({ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }),
    'spec.ingress[0].from[0]',
    /cannot be combined/,
  ],
  [
    'bad CIDR prefix',
    from({ ipBlock: { cidr: '10.0.0.0/33' } }),
    'spec.ingress[0].from[0].ipBlock.cidr',
    /prefix length/,
  ],
  [
    'bad CIDR address',
    from({ ipBlock: { cidr: '10.0.300.0/24' } }),
    'spec.ingress[0].from[0].ipBlock.cidr',
    /invalid IPv4 address/,
  ],
  [
    'CIDR without prefix',
    from({ ipBlock: { cidr: '10.0.0.1' } }),
    'spec.ingress[0].from[0].ipBlock.cidr',
    /address\/prefix/,
  ],
  [
    'bad IPv6 CIDR',
    from({ ipBlock: { cidr: 'fd00::zz/64' } }),
    'spec.ingress[0].from[0].ipBlock.cidr',
    /not a CIDR/,
  ],
  [
    'except outside cidr',
    from({ ipBlock: { cidr: '10.1.0.0/16', except: ['10.2.0.0/24'] } }),
    'spec.ingress[0].from[0].ipBlock.except[0]',
    /strictly inside/,
  ],
  [
    'except equal to cidr',
    from({ ipBlock: { cidr: '10.1.0.0/16', except: ['10.1.0.0/16'] } }),
    'spec.ingress[0].from[0].ipBlock.except[0]',
    /strictly inside/,
  ],
  [
    'unknown protocol',
    ports({ protocol: 'ICMP', port: 1 }),
    'spec.ingress[0].ports[0].protocol',
    /TCP, UDP or SCTP/,
  ],
  [
    'lower-case protocol',
    ports({ protocol: 'tcp', port: 1 }),
    'spec.ingress[0].ports[0].protocol',
    /TCP, UDP or SCTP/,
  ],
  ['port out of range', ports({ port: 70000 }), 'spec.ingress[0].ports[0].port', /1 to 65535/],
  ['named port', ports({ port: 'http' }), 'spec.ingress[0].ports[0].port', /named port "http"/],
  [
    'endPort below port',
    ports({ port: 5000, endPort: 4000 }),
    'spec.ingress[0].ports[0].endPort',
    /from port \(5000\)/,
  ],
  ['endPort without port', ports({ endPort: 4000 }), 'spec.ingress[0].ports[0].endPort', /needs port/],
  ['egress not a list', { podSelector: {}, egress: { to: [] } }, 'spec.egress', /must be a list/],
];

for (const [name, spec, field, says] of ROWS)
  test(`malformed: ${name}`, (t) => {
    const err = t.throws(() => compile(view(policy(spec))), { instanceOf: PolicyError });
    t.is(err?.field, field);
    t.is(err?.policy, 'shop/bad');
    t.is(err?.code, 'POLICY_INVALID');
    t.regex(err?.message ?? '', says);
    t.true(err?.message.startsWith(`MultiNetworkPolicy shop/bad refused: ${field}: `));
  });

test('malformed: a valid policy alone compiles', (t) => {
  t.notThrows(() => compile({ ...view(good), policies: [good] }));
});
