/** The policy compiler, table-driven: each row a slice, its policies, and packets with their verdicts. */
import test from 'ava';
import { compile, enforces } from '../policy/compile.ts';
import type { MultiNetworkPolicy } from '../policy/types.ts';
import { db, disjoint, EP, mnp, view } from './helpers/policy-fixtures.ts';
import { verdict } from './helpers/verdict.ts';

const [WEB, DB, TOOL, WEB_W, DB_W] = EP.map((e) => e.ip) as [string, string, string, string, string];
const TCP = 6;
const UDP = 17;
const ICMP = 1;

type Packet = [src: string, dst: string, proto: number, port: number, verdict: 'accept' | 'drop'];
interface Row {
  name: string;
  policies: MultiNetworkPolicy[];
  isolation?: string[];
  packets: Packet[];
}

const ROWS: Row[] = [
  {
    name: 'no policy = allow',
    policies: [],
    packets: [
      [WEB, DB, TCP, 5432, 'accept'],
      [TOOL, DB_W, ICMP, 0, 'accept'],
    ],
  },
  {
    name: 'default deny ingress',
    policies: [mnp({ podSelector: db, policyTypes: ['Ingress'] })],
    packets: [
      [WEB, DB, TCP, 5432, 'drop'],
      [DB, WEB, TCP, 80, 'accept'],
      [WEB, TOOL, TCP, 80, 'accept'],
    ],
  },
  {
    name: 'default deny applies to this cluster’s pods only',
    policies: [mnp({ podSelector: db, policyTypes: ['Ingress'] })],
    packets: [[WEB, DB_W, TCP, 5432, 'accept']],
  },
  {
    name: 'empty podSelector isolates the whole namespace, not others',
    policies: [mnp({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] })],
    packets: [
      [WEB, DB, ICMP, 0, 'drop'],
      [TOOL, WEB, ICMP, 0, 'drop'],
      [TOOL, WEB_W, ICMP, 0, 'accept'],
    ],
  },
  {
    name: 'allow by pod label, peers in every cluster, own namespace only',
    policies: [
      mnp({ podSelector: db, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] }),
    ],
    packets: [
      [WEB, DB, TCP, 5432, 'accept'],
      [WEB_W, DB, UDP, 53, 'accept'],
      [TOOL, DB, TCP, 5432, 'drop'],
    ],
  },
  {
    name: 'allow by namespace label (matchExpressions)',
    policies: [
      mnp({
        podSelector: db,
        ingress: [
          { from: [{ namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Exists' }] } }] },
        ],
      }),
    ],
    packets: [
      [TOOL, DB, TCP, 1, 'accept'],
      [WEB, DB, TCP, 1, 'drop'],
    ],
  },
  {
    name: 'namespaceSelector and podSelector together',
    policies: [
      mnp({
        podSelector: db,
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { team: 'shop' } },
                podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] },
              },
            ],
          },
        ],
      }),
    ],
    packets: [
      [WEB_W, DB, TCP, 1, 'accept'],
      [WEB, DB, TCP, 1, 'drop'],
      [TOOL, DB, TCP, 1, 'drop'],
    ],
  },
  {
    name: 'namespaceSelector by kubernetes.io/metadata.name, DoesNotExist',
    policies: [
      mnp({
        podSelector: db,
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ops' } },
                podSelector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] },
              },
            ],
          },
        ],
      }),
    ],
    packets: [
      [TOOL, DB, TCP, 1, 'accept'],
      [WEB, DB, TCP, 1, 'drop'],
    ],
  },
  {
    name: 'ipBlock with except',
    policies: [
      mnp({
        podSelector: db,
        ingress: [{ from: [{ ipBlock: { cidr: '10.1.0.0/16', except: ['10.1.0.0/31', '10.1.128.0/24'] } }] }],
      }),
    ],
    packets: [
      [TOOL, DB, TCP, 1, 'accept'],
      [WEB, DB, TCP, 1, 'drop'],
      [WEB_W, DB, TCP, 1, 'drop'],
      ['10.1.200.9', DB, TCP, 1, 'accept'],
    ],
  },
  {
    name: 'port range, protocols',
    policies: [
      mnp({
        podSelector: db,
        ingress: [
          {
            ports: [
              { protocol: 'TCP', port: 5000, endPort: 5500 },
              { protocol: 'UDP', port: 53 },
              { protocol: 'SCTP' },
            ],
          },
        ],
      }),
    ],
    packets: [
      [WEB, DB, TCP, 5000, 'accept'],
      [WEB, DB, TCP, 5500, 'accept'],
      [WEB, DB, TCP, 5501, 'drop'],
      [WEB, DB, UDP, 53, 'accept'],
      [WEB, DB, UDP, 5432, 'drop'],
      [WEB, DB, 132, 9, 'accept'],
      [WEB, DB, ICMP, 0, 'drop'],
    ],
  },
  {
    name: 'default protocol is TCP',
    policies: [mnp({ podSelector: db, ingress: [{ ports: [{ port: 5432 }] }] })],
    packets: [
      [WEB, DB, TCP, 5432, 'accept'],
      [WEB, DB, UDP, 5432, 'drop'],
    ],
  },
  {
    name: 'egress only',
    policies: [
      mnp({
        podSelector: { matchLabels: { app: 'web' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: db }], ports: [{ protocol: 'UDP', port: 53 }] }],
      }),
    ],
    packets: [
      [WEB, DB, UDP, 53, 'accept'],
      [WEB, DB_W, UDP, 53, 'accept'],
      [WEB, DB, TCP, 53, 'drop'],
      [DB, WEB, TCP, 80, 'accept'],
      [WEB_W, TOOL, ICMP, 0, 'accept'],
    ],
  },
  {
    name: 'egress listed without policyTypes makes both directions',
    policies: [mnp({ podSelector: db, egress: [] })],
    packets: [
      [DB, WEB, ICMP, 0, 'drop'],
      [WEB, DB, ICMP, 0, 'drop'],
    ],
  },
  {
    name: 'union of two policies',
    policies: [
      mnp(
        {
          podSelector: db,
          ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 5432 }] }],
        },
        'a',
      ),
      mnp(
        { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] }] },
        'b',
      ),
    ],
    packets: [
      [WEB, DB, TCP, 5432, 'accept'],
      [WEB, DB, TCP, 80, 'drop'],
      [TOOL, DB, UDP, 9, 'accept'],
      [TOOL, WEB, UDP, 9, 'accept'],
      [DB, WEB, UDP, 9, 'drop'],
    ],
  },
  {
    name: 'a policy in another namespace does not select these pods',
    policies: [mnp({ podSelector: {}, policyTypes: ['Ingress'] }, 'p', 'ops')],
    packets: [
      [WEB, DB, TCP, 1, 'accept'],
      [WEB, TOOL, TCP, 1, 'drop'],
    ],
  },
  {
    name: 'isolation on: other namespaces and unknown addresses dropped',
    policies: [],
    isolation: ['shop'],
    packets: [
      [WEB, DB_W, TCP, 1, 'accept'],
      [TOOL, DB, ICMP, 0, 'drop'],
      [DB, TOOL, ICMP, 0, 'drop'],
      ['10.1.9.9', DB, ICMP, 0, 'drop'],
    ],
  },
  {
    name: 'isolation on with an allowed namespace',
    policies: [],
    isolation: ['shop', 'ops'],
    packets: [[TOOL, DB, ICMP, 0, 'accept']],
  },
  {
    name: 'isolation off',
    policies: [],
    packets: [
      [TOOL, DB, ICMP, 0, 'accept'],
      ['10.1.9.9', DB, ICMP, 0, 'accept'],
    ],
  },
];

for (const row of ROWS)
  test(`compile: ${row.name}`, (t) => {
    const r = compile(view(row.policies, row.isolation));
    for (const [src, dst, proto, port, want] of row.packets)
      t.is(verdict(r, src, dst, proto, port), want, `${src} → ${dst} proto ${proto} port ${port}`);
    for (const g of [...r.egress, ...r.ingress]) t.true(disjoint(g.allow), 'set elements never overlap');
    t.is(enforces(r), row.policies.length > 0 || !!row.isolation);
  });
