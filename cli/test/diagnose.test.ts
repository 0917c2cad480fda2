/**
 * The diagnose checks' judgements, one table row per situation: the verdict, and that a
 * problem's cause and fix name the thing to act on. No cluster needed: the checks judge
 * snapshots (cli/diagnose/*.ts), which is what these rows build.
 */
import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import type { GatewayStatus, SliceIPBlock } from '../../controller/api/types.ts';
import { judgeAgents } from '../diagnose/agents.ts';
import { judgeBlocks } from '../diagnose/blocks.ts';
import { judgeClock, skewSeconds } from '../diagnose/clock.ts';
import { judgeGateways, type GatewayView } from '../diagnose/gateways.ts';
import { parsePing } from '../diagnose/ping.ts';
import { judgePolicy } from '../diagnose/policy.ts';
import { proxyReason } from '../diagnose/probe.ts';
import { sliceAddress } from '../diagnose/slicepods.ts';
import { parseIperf } from '../diagnose/bench.ts';
import { worst } from '../diagnose/types.ts';
import { render } from '../commands/diagnose.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const ago = (s: number): string => new Date(NOW - s * 1000).toISOString();

function gw(name: string, o: Partial<GatewayStatus> = {}): GatewayStatus {
  return {
    name,
    node: `${name}-node`,
    address: '198.18.1.11:51820',
    active: true,
    lastUpdateTime: ago(3),
    ...o,
  };
}
const up = (cluster: string): NonNullable<GatewayStatus['peers']>[number] => ({
  cluster,
  connected: true,
  handshakeAgeSeconds: 12,
  rttMs: 0.4,
});
const view = (cluster: string, gateways: GatewayStatus[], pods?: V1Pod[]): GatewayView => ({
  cluster,
  gateways,
  nowMs: NOW,
  ...(pods ? { pods } : {}),
});

test('gateways: both tunnels up is ok on each side', (t) => {
  const f = judgeGateways(
    [view('c1', [gw('g1', { peers: [up('c2')] })]), view('c2', [gw('g2', { peers: [up('c1')] })])],
    ['c1', 'c2'],
  );
  t.deepEqual(
    f.map((x) => [x.scope, x.verdict]),
    [
      ['c1 → c2', 'ok'],
      ['c2 → c1', 'ok'],
    ],
  );
  t.regex(f[0]!.detail, /RTT 0\.40 ms/);
});

test('gateways: a stopped gateway is named on its side and as the cause on the peer side', (t) => {
  const f = judgeGateways(
    [
      view('c1', [gw('g1', { peers: [{ cluster: 'c2', connected: false, handshakeAgeSeconds: 50 }] })]),
      view('c2', [gw('g2', { lastUpdateTime: ago(60), peers: [up('c1')] })]),
    ],
    ['c1', 'c2'],
  );
  t.is(worst(f), 'fail');
  const own = f.find((x) => x.scope === 'c2')!;
  t.regex(own.detail, /active gateway g2 on g2-node last reported 60 s ago/);
  t.regex(own.cause!, /stopped or hung/);
  t.regex(own.fix!, /kubectl --context c2 -n slicenet-system delete pod g2/);
  const peer = f.find((x) => x.scope === 'c1 → c2')!;
  t.regex(peer.detail, /DOWN/);
  t.regex(peer.cause!, /c2's gateway is not working/);
  t.false(
    f.some((x) => x.scope === 'c2 → c1'),
    'no tunnel verdict from a stale status',
  );
});

test('gateways: an idle tunnel still called up towards a stopped gateway fails all the same', (t) => {
  const f = judgeGateways(
    [view('c1', [gw('g1', { peers: [up('c2')] })]), view('c2', [gw('g2', { lastUpdateTime: ago(40) })])],
    ['c1', 'c2'],
  );
  const peer = f.find((x) => x.scope === 'c1 → c2')!;
  t.is(peer.verdict, 'fail');
  t.regex(peer.detail, /still reported up, but c2's gateway is gone/);
});

test('gateways: a tunnel down while both gateways report points at UDP or keys', (t) => {
  const f = judgeGateways(
    [
      view('c1', [gw('g1', { peers: [{ cluster: 'c2', connected: false, endpoint: '198.18.2.11:51820' }] })]),
      view('c2', [gw('g2', { peers: [up('c1')] })]),
    ],
    ['c1', 'c2'],
  );
  const down = f.find((x) => x.verdict === 'fail')!;
  t.regex(down.cause!, /UDP port is blocked/);
  t.regex(down.fix!, /198\.18\.2\.11:51820/);
});

test('gateways: no gateway pod, a pending pod, a missing peer', (t) => {
  const none = judgeGateways([view('c1', [], [])], ['c1']);
  t.regex(none[0]!.cause!, /no node carries slicenet\.dev\/gateway=true/);
  const pending = judgeGateways(
    [view('c1', [], [{ metadata: { name: 'gw-x' }, status: { phase: 'Pending' } }])],
    ['c1'],
  );
  t.regex(pending[0]!.cause!, /gw-x is Pending/);
  const missing = judgeGateways([view('c1', [gw('g1', { peers: [] })])], ['c1', 'c2']);
  t.regex(missing[0]!.detail, /has no tunnel to c2/);
});

test('gateways: a stale standby is a warning, not a failure', (t) => {
  const f = judgeGateways(
    [view('c1', [gw('g1', { peers: [up('c2')] }), gw('g1b', { active: false, lastUpdateTime: ago(300) })])],
    ['c1', 'c2'],
  );
  t.is(worst(f), 'warn');
  t.regex(f.find((x) => x.verdict === 'warn')!.cause!, /no failover/);
});

test('agents: a node whose agent is down fails with the node named; all ready is ok', (t) => {
  const f = judgeAgents('c2', [
    { node: 'c2-n1', result: { ready: true } },
    {
      node: 'c2-n2',
      result: { ready: false, reason: proxyReason(503, 'dial tcp: connect: connection refused') },
    },
  ]);
  t.is(f.length, 1);
  t.is(f[0]!.scope, 'c2/c2-n2');
  t.regex(f[0]!.cause!, /agent is stopped on c2-n2/);
  t.regex(f[0]!.fix!, /spec\.nodeName=c2-n2/);
  t.deepEqual(
    judgeAgents('c1', [{ node: 'n', result: { ready: true } }]).map((x) => [x.verdict, x.detail]),
    [['ok', '1/1 agents ready']],
  );
});

test('agents: the hub Cluster reporting a shortfall fails too', (t) => {
  const f = judgeAgents('c1', [{ node: 'n', result: { ready: true } }], {
    apiVersion: 'slicenet.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'c1' },
    spec: {},
    status: { agentsReady: '1/2' },
  });
  t.regex(f[0]!.detail, /reports 1\/2 agents ready/);
});

test('probe reasons: refused, timeout, forbidden, the process own answer', (t) => {
  t.regex(
    proxyReason(503, '{"message":"dial tcp 1.2.3.4:8084: connect: connection refused"}'),
    /not running/,
  );
  t.regex(proxyReason(503, 'dial tcp: i/o timeout'), /does not answer/);
  t.regex(proxyReason(403, '{"message":"nodes/proxy is forbidden"}'), /may not get nodes\/proxy/);
  t.is(proxyReason(503, 'not ready: informers syncing\n'), 'HTTP 503: not ready: informers syncing');
});

const block = (cidr: string, node: string, allocated?: number): SliceIPBlock => ({
  apiVersion: 'slicenet.dev/v1alpha1',
  kind: 'SliceIPBlock',
  metadata: { name: `demo-${cidr.replace(/[./]/g, '-')}` },
  spec: { slice: 'demo', node, cidr },
  ...(allocated !== undefined ? { status: { allocated } } : {}),
});

test('blocks: usage ok, nearly full, used up, orphaned and outside the share', (t) => {
  const ok = judgeBlocks({
    cluster: 'c1',
    share: '10.100.0.0/24',
    blocks: [block('10.100.0.0/26', 'n1')],
    addresses: ['10.100.0.1', '10.100.0.2'],
    nodes: ['n1'],
  });
  t.deepEqual(
    ok.map((f) => [f.verdict, f.detail]),
    [['ok', '1/4 blocks of 10.100.0.0/24 leased, 2/64 addresses in them used (2/256 of the share)']],
  );
  const quarters = ['0', '64', '128', '192'].map((o, i) => block(`10.100.0.${o}/26`, 'n1', i < 3 ? 64 : 40));
  const nearly = judgeBlocks({
    cluster: 'c1',
    share: '10.100.0.0/24',
    blocks: quarters,
    addresses: [],
    nodes: ['n1'],
  });
  t.is(worst(nearly), 'warn');
  const full = quarters.map((b) => ({ ...b, status: { allocated: 64 } }));
  const used = judgeBlocks({
    cluster: 'c1',
    share: '10.100.0.0/24',
    blocks: full,
    addresses: [],
    nodes: ['n1'],
  });
  t.is(worst(used), 'fail');
  t.regex(used[0]!.cause!, /used up/);
  const odd = judgeBlocks({
    cluster: 'c1',
    share: '10.100.0.0/24',
    blocks: [block('10.100.0.0/26', 'gone'), block('10.100.16.0/26', 'n1')],
    addresses: [],
    nodes: ['n1'],
  });
  t.deepEqual(
    odd.map((f) => f.verdict),
    ['fail', 'warn'],
  );
  t.regex(odd[0]!.detail, /outside the cluster's share/);
  t.regex(odd[1]!.fix!, /delete sliceipblock demo-10-100-0-0-26/);
});

const sample = (serverIso: string, localMs: number): { server: Date; localMs: number; rttMs: number } => ({
  server: new Date(serverIso),
  localMs,
  rttMs: 2,
});
const lease = (renew: string): { spec: { renewTime: Date } } => ({ spec: { renewTime: new Date(renew) } });

test('clock: same clocks and a fresh heartbeat are ok; skew and stale heartbeats are not', (t) => {
  const hub = sample('2026-01-01T12:00:00Z', NOW);
  t.is(skewSeconds(hub, sample('2026-01-01T12:00:45Z', NOW)), 45);
  const fine = judgeClock('c2', hub, sample('2026-01-01T12:00:00Z', NOW), lease(ago(4)), NOW);
  t.deepEqual(
    fine.map((f) => f.verdict),
    ['ok'],
  );
  const ahead = judgeClock('c2', hub, sample('2026-01-01T12:00:45Z', NOW), lease(ago(4)), NOW);
  t.is(ahead[0]!.verdict, 'fail');
  t.regex(ahead[0]!.detail, /45 s ahead of the hub's/);
  t.regex(ahead[0]!.fix!, /NTP/);
  const slight = judgeClock('c2', hub, sample('2026-01-01T11:59:55Z', NOW), lease(ago(4)), NOW);
  t.is(slight[0]!.verdict, 'warn');
  const stale = judgeClock('c2', hub, sample('2026-01-01T12:00:00Z', NOW), lease(ago(90)), NOW);
  t.regex(stale[0]!.detail, /last heartbeat is 90 s old/);
  t.regex(stale[0]!.fix!, /logs deploy\/slicenet-worker/);
  const never = judgeClock('c2', hub, undefined, undefined, NOW);
  t.regex(never[0]!.cause!, /never reached the hub/);
});

test('policy: netop down where isolation is on fails; off only warns; a refused policy fails', (t) => {
  const down = { node: 'n1', result: { ready: false, reason: 'not running' } };
  t.is(
    worst(judgePolicy({ cluster: 'c1', isolation: true, policies: [], rejected: [], netop: [down] })),
    'fail',
  );
  t.is(
    worst(judgePolicy({ cluster: 'c1', isolation: false, policies: [], rejected: [], netop: [down] })),
    'warn',
  );
  const refused = judgePolicy({
    cluster: 'c1',
    isolation: false,
    policies: ['shop/deny'],
    rejected: ['shop/deny: spec.ingress[0].ports[0].port: bad'],
    netop: [{ node: 'n1', result: { ready: true } }],
  });
  t.is(worst(refused), 'fail');
  t.regex(refused[0]!.detail, /shop\/deny/);
  const fine = judgePolicy({ cluster: 'c1', isolation: false, rejected: [], netop: [] });
  t.regex(fine[0]!.detail, /isolation off, MultiNetworkPolicy CRD not installed/);
});

test('ping and iperf3 output parsing', (t) => {
  const out =
    '3 packets transmitted, 3 received, 0% packet loss, time 404ms\nrtt min/avg/max/mdev = 0.311/0.402/0.512/0.081 ms\n';
  t.deepEqual(parsePing(out), { sent: 3, received: 3, rttMs: { min: 0.311, avg: 0.402, max: 0.512 } });
  const tooBig = parsePing(
    '3 packets transmitted, 0 received, +3 errors, 100% packet loss\n',
    'ping: local error: message too long, mtu=1300\n',
  );
  t.is(tooBig.received, 0);
  t.is(tooBig.error, 'message too long, mtu=1300');
  t.deepEqual(
    parseIperf(
      JSON.stringify({
        end: { sum_received: { seconds: 5, bits_per_second: 1.5e9 }, sum_sent: { retransmits: 4 } },
      }),
    ),
    { seconds: 5, bitsPerSecond: 1.5e9, retransmits: 4 },
  );
  t.is(parseIperf('{"error":"unable to connect"}'), undefined);
  t.is(parseIperf('garbage'), undefined);
});

test('slice0 address from network-status; bad annotations give none', (t) => {
  const pod = (ns?: string): V1Pod => ({
    metadata: ns === undefined ? {} : { annotations: { 'k8s.v1.cni.cncf.io/network-status': ns } },
  });
  t.is(
    sliceAddress(
      pod(
        '[{"name":"default","interface":"eth0","ips":["10.244.0.5"]},{"interface":"slice0","ips":["10.100.0.3"]}]',
      ),
    ),
    '10.100.0.3',
  );
  t.is(sliceAddress(pod('{not json')), undefined);
  t.is(sliceAddress(pod('{"interface":"slice0"}')), undefined);
  t.is(sliceAddress(pod()), undefined);
});

test('the table shows every verdict and, under it, each problem with cause and fix', (t) => {
  const text = render('demo', [
    { check: 'agents', scope: 'c1', verdict: 'ok', detail: '2/2 agents ready' },
    {
      check: 'mtu',
      scope: 'c1 → c2',
      verdict: 'fail',
      detail: 'lost',
      cause: 'narrow link',
      fix: 'raise it',
    },
  ]);
  t.regex(text, /^CHECK\s+SCOPE\s+VERDICT\s+DETAIL$/m);
  t.regex(text, /^mtu\s+c1 → c2\s+FAIL\s+lost$/m);
  t.regex(text, /FAIL mtu c1 → c2: lost\n {2}cause: narrow link\n {2}fix: {3}raise it/);
  t.regex(text, /slice demo: 1 ok, 0 warning\(s\), 1 failed/);
});
