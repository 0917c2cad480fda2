/** The policy compiler, table-driven: each row a slice, its policies, and packets with their verdicts. */
import test from 'ava';
import { disjointBoxes, type Box } from '../policy/boxes.ts';
import { compile, enforces, sliceView, type SliceEndpoint, type SliceView } from '../policy/compile.ts';
import { renderRuleset } from '../policy/render.ts';
import { policyTargets, type MultiNetworkPolicy, type MultiNetworkPolicySpec } from '../policy/types.ts';
import type { Slice } from '../../controller/api/types.ts';
import { verdict } from './helpers/verdict.ts';

const EP: SliceEndpoint[] = [
  { ip: '10.1.0.1', cluster: 'east', namespace: 'shop', pod: 'web', labels: { app: 'web', tier: 'front' } },
  { ip: '10.1.0.2', cluster: 'east', namespace: 'shop', pod: 'db', labels: { app: 'db' } },
  { ip: '10.1.0.3', cluster: 'east', namespace: 'ops', pod: 'tool', labels: { app: 'tool' } },
  { ip: '10.1.128.1', cluster: 'west', namespace: 'shop', pod: 'web-w', labels: { app: 'web' } },
  { ip: '10.1.128.2', cluster: 'west', namespace: 'shop', pod: 'db-w', labels: { app: 'db' } },
];
const NS: Record<string, Record<string, string>> = {
  shop: { team: 'shop' },
  ops: { team: 'ops', env: 'prod' },
};
const [WEB, DB, TOOL, WEB_W, DB_W] = EP.map((e) => e.ip) as [string, string, string, string, string];
const TCP = 6;
const UDP = 17;
const ICMP = 1;

const mnp = (spec: MultiNetworkPolicySpec, name = 'p', namespace = 'shop'): MultiNetworkPolicy => ({
  apiVersion: 'k8s.cni.cncf.io/v1beta1',
  kind: 'MultiNetworkPolicy',
  metadata: { name, namespace },
  spec,
});

const view = (policies: MultiNetworkPolicy[], isolation?: string[]): SliceView => ({
  slice: 's',
  cluster: 'east',
  subnet: '10.1.0.0/16',
  endpoints: EP,
  namespaceLabels: (ns) => NS[ns],
  isolation: { enabled: !!isolation, allowed: (_c, ns) => !!isolation?.includes(ns) },
  policies,
});

type Packet = [src: string, dst: string, proto: number, port: number, verdict: 'accept' | 'drop'];
interface Row {
  name: string;
  policies: MultiNetworkPolicy[];
  isolation?: string[];
  packets: Packet[];
}

const db = { matchLabels: { app: 'db' } };
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

function disjoint(boxes: Box[]): boolean {
  const meet = (a: readonly [number, number], b: readonly [number, number]): boolean =>
    a[0] <= b[1] && b[0] <= a[1];
  return boxes.every((a, i) =>
    boxes
      .slice(i + 1)
      .every((b) => !(meet(a.addr, b.addr) && meet(a.proto, b.proto) && meet(a.port, b.port))),
  );
}

test('boxes: overlapping boxes become disjoint and cover the same points', (t) => {
  const boxes: Box[] = [
    { addr: [0, 100], proto: [6, 6], port: [0, 65535] },
    { addr: [50, 60], proto: [0, 255], port: [0, 65535] },
    { addr: [55, 55], proto: [6, 6], port: [80, 80] },
    { addr: [101, 200], proto: [6, 6], port: [0, 65535] },
  ];
  const out = disjointBoxes(boxes);
  t.true(disjoint(out));
  const covers = (bs: Box[], a: number, p: number, q: number): boolean =>
    bs.some(
      (b) =>
        b.addr[0] <= a &&
        a <= b.addr[1] &&
        b.proto[0] <= p &&
        p <= b.proto[1] &&
        b.port[0] <= q &&
        q <= b.port[1],
    );
  for (const a of [0, 49, 50, 55, 60, 61, 100, 101, 200, 201])
    for (const p of [1, 6, 17])
      for (const q of [0, 80, 65535]) t.is(covers(out, a, p, q), covers(boxes, a, p, q));
  t.true(
    out.some((b) => b.addr[0] === 0 && b.addr[1] === 49 && b.proto[0] === 6),
    'neighbours merged',
  );
  t.true(
    out.some((b) => b.addr[0] === 61 && b.addr[1] === 200),
    'adjacent equal segments merged',
  );
});

test('compile: cost stays flat — 1000 rules over 1000 remote endpoints make one group and one lookup each way', (t) => {
  const endpoints: SliceEndpoint[] = Array.from({ length: 1000 }, (_, i) => ({
    ip: `10.2.${i >> 8}.${i & 255}`,
    cluster: i < 10 ? 'east' : 'west',
    namespace: 'shop',
    pod: `p${i}`,
    labels: { app: `a${i % 50}` },
  }));
  const rules = Array.from({ length: 1000 }, (_, i) => ({
    from: [{ podSelector: { matchLabels: { app: `a${i % 50}` } } }],
    ports: [{ port: 1000 + i }],
  }));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const r = compile({
    ...view([mnp({ podSelector: {}, ingress: rules })]),
    endpoints,
    subnet: '10.2.0.0/16',
  });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  t.is(r.ingress.length, 1);
  t.is(r.ingress[0]!.members.length, 10);
  t.true(disjoint(r.ingress[0]!.allow.slice(0, 300)));
  const cpuMs = (cpu.user + cpu.system) / 1000;
  t.log(
    `compiled in ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU: ${r.ingress[0]!.allow.length} set elements`,
  );
  const script = renderRuleset(r, { chains: [], sets: [], maps: [] });
  t.is(script.match(/@in0/g)?.length, 1, 'one set lookup for the whole group');
});

test('render: replaces existing objects but keeps counters and flow sets', (t) => {
  const r = compile(view([mnp({ podSelector: db, policyTypes: ['Ingress'] })]));
  const script = renderRuleset(r, {
    chains: ['filter', 'in0'],
    sets: ['in0', 'flows', 'pings', 'members'],
    maps: ['ingress_groups'],
  });
  t.regex(script, /flush table bridge slicenet-policy-s\n/);
  t.regex(script, /delete map bridge slicenet-policy-s ingress_groups/);
  t.regex(script, /delete set bridge slicenet-policy-s members/);
  t.notRegex(script, /delete set \S+ \S+ (flows|pings)/);
  t.notRegex(script, /delete counter/);
  t.regex(script, /hook forward priority 0/);
  // Slices are IPv4: on Slicenet's ports anything but IPv4 and ARP (IPv6 above all) is dropped.
  t.regex(
    script,
    /iifname != "sn\*" oifname != "sn\*" accept\n\s+ether type arp accept\n\s+ether type != ip counter name policy_drops drop/,
  );
  const off = renderRuleset(compile(view([])), { chains: ['filter'], sets: [], maps: [] });
  t.notRegex(off, /hook forward/, 'nothing to enforce: no chain, no per-packet cost');
});

test('sliceView: endpoints of every cluster, isolation from the slice namespaces', (t) => {
  const slice = {
    apiVersion: 'slicenet.dev/v1alpha1',
    kind: 'Slice',
    metadata: { name: 'pay' },
    spec: {
      cluster: 'east',
      subnet: '10.1.0.0/16',
      block: '10.1.0.0/17',
      vni: 7,
      mtu: 1400,
      namespaces: [{ namespace: 'shop' }],
      isolation: { enabled: true, allowedNamespaces: [{ namespace: 'ops', clusters: ['west'] }] },
      gateway: { cipher: 'chacha20-poly1305', replicas: 1, port: 7000 },
      peers: [
        {
          cluster: 'west',
          block: '10.1.128.0/17',
          endpoints: [{ ip: '10.1.128.3', namespace: 'ops', pod: 'x' }],
        },
      ],
    },
    status: {
      endpoints: [
        { ip: '10.1.0.1', namespace: 'shop', pod: 'a' },
        { ip: '10.1.0.3', namespace: 'ops', pod: 'b' },
      ],
    },
  } as Slice;
  const v = sliceView(slice, [], () => undefined);
  t.deepEqual(
    v.endpoints.map((e) => `${e.cluster}/${e.ip}`),
    ['east/10.1.0.1', 'east/10.1.0.3', 'west/10.1.128.3'],
  );
  t.deepEqual(compile(v).members, ['10.1.0.1', '10.1.128.3']);
});

test('policy-for: names the slice network, with or without namespace', (t) => {
  const p = (v: string): MultiNetworkPolicy => ({
    ...mnp({ podSelector: {} }),
    metadata: { name: 'x', annotations: { 'k8s.v1.cni.cncf.io/policy-for': v } },
  });
  t.true(policyTargets(p('slicenet-pay'), 'slicenet-pay'));
  t.true(policyTargets(p('other, shop/slicenet-pay'), 'slicenet-pay'));
  t.false(policyTargets(p('slicenet-payments'), 'slicenet-pay'));
  t.false(policyTargets(mnp({ podSelector: {} }), 'slicenet-pay'));
});
