/** The policy engine's parts beside the verdict table: boxes, cost at scale, rendering, the slice view, policy-for. */
import test from 'ava';
import { disjointBoxes, type Box } from '../policy/boxes.ts';
import { compile, sliceView, type SliceEndpoint } from '../policy/compile.ts';
import { renderChanges, renderRuleset } from '../policy/render.ts';
import { policyTargets, type MultiNetworkPolicy } from '../policy/types.ts';
import type { Slice } from '../../controller/api/types.ts';
import { db, disjoint, mnp, view } from './helpers/policy-fixtures.ts';
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
  t.deepEqual(
    script.match(/@in0r?\b/g),
    ['@in0', '@in0r'],
    'one hash and one interval lookup for the whole group',
  );
  t.regex(script, /set in0r \{ type [^}]*; flags interval; \}/, 'single elements only: no ranges to scan');
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

test('render: a change of the same shape is element deletions, then additions; a new shape is not', (t) => {
  const web = { podSelector: { matchLabels: { app: 'web' } } };
  const allow = (ports: number[]): MultiNetworkPolicy =>
    mnp({ podSelector: db, ingress: [{ from: [web], ports: ports.map((port) => ({ port })) }] });
  const before = compile(view([allow([80, 443])]));
  const after = compile(view([allow([80, 5432])]));
  const script = renderChanges(before, after)!;
  t.deepEqual(script.trim().split('\n'), [
    'delete element bridge slicenet-policy-s in0 { 10.1.0.1 . 6 . 443, 10.1.128.1 . 6 . 443 }',
    'add element bridge slicenet-policy-s in0 { 10.1.0.1 . 6 . 5432, 10.1.128.1 . 6 . 5432 }',
  ]);
  t.is(renderChanges(after, after), '', 'nothing changed: nothing to do');
  const moved = compile(view([allow([80]), mnp({ podSelector: db, policyTypes: ['Ingress'] }, 'deny')]));
  t.regex(
    renderChanges(before, moved)!,
    /^delete element bridge \S+ in0 \{ 10.1.0.1 . 6 . 443, 10.1.128.1 . 6 . 443 \}\n$/,
    'a second policy on the same pods keeps one group',
  );
  t.is(renderChanges(before, compile(view([]))), undefined, 'nothing left to enforce: the chain goes');
  t.is(renderChanges(before, compile(view([allow([80])], ['shop']))), undefined, 'isolation turned on');
  const two = compile(
    view([allow([80]), mnp({ podSelector: { matchLabels: { app: 'web' } }, ingress: [] }, 'w')]),
  );
  t.is(renderChanges(before, two), undefined, 'a second group');
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
