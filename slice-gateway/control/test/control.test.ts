/**
 * The gateway process's pure parts: config, peers from the Slice, its status entry, the
 * silence judgement, events, what the worker forwards to the hub and the Deployment it makes.
 */
import test from 'ava';
import { Registry } from 'prom-client';
import type { Slice } from '../../../controller/api/types.ts';
import { rollup } from '../../../controller/hub/rollup.ts';
import { reportedGateways } from '../../../controller/worker/gateway-status.ts';
import { gatewayDeployment } from '../../../controller/worker/gateways.ts';
import { loadGatewayConfig } from '../config.ts';
import { PeerEvents } from '../events.ts';
import { PeerHealth, SILENCE_MS } from '../health.ts';
import { parseKey } from '../keys.ts';
import { GatewayMetrics } from '../metrics.ts';
import { connectedKey, gatewayEntry, tunnelPeers, tunnelSettingsKey } from '../peers.ts';
import type { TunnelPeerStatus } from '../tunnel.ts';

const KEY = 'A'.repeat(43) + '=';
const REQUIRED = ['--slice', 'gw', '--node', 'n1', '--node-ip', '198.18.1.11'];

function slice(peers: NonNullable<Slice['spec']['peers']> = []): Slice {
  return {
    apiVersion: 'slicenet.dev/v1alpha1',
    kind: 'Slice',
    metadata: { name: 'gw', uid: 'u-1' },
    spec: {
      cluster: 'c1',
      subnet: '10.91.0.0/16',
      block: '10.91.0.0/18',
      vni: 4096,
      mtu: 1420,
      gateway: { cipher: 'chacha20-poly1305', replicas: 2, port: 51820 },
      peers,
    },
  };
}

const peer = (p: Partial<TunnelPeerStatus> = {}): TunnelPeerStatus => ({
  cluster: 'c2',
  connected: true,
  txBytes: 0,
  rxBytes: 0,
  txPackets: 0,
  rxPackets: 0,
  handshakes: 1,
  ...p,
});

test('config: defaults, flags over variables, errors naming the setting', (t) => {
  t.like(loadGatewayConfig(REQUIRED, {}), {
    namespace: 'slicenet-system',
    leaseSeconds: 2,
    leaseRetryMs: 250,
    probePort: 8085,
  });
  t.like(
    loadGatewayConfig(['--probe-port', '9'], {
      SLICENET_GATEWAY_SLICE: 'x',
      SLICENET_GATEWAY_PROBE_PORT: '7',
      SLICENET_GATEWAY_NODE: 'n',
      SLICENET_GATEWAY_NODE_IP: '10.0.0.1',
    }),
    {
      slice: 'x',
      probePort: 9,
    },
  );
  for (const [argv, message] of [
    [['--node', 'n1', '--node-ip', '1.2.3.4'], /--slice \(SLICENET_GATEWAY_SLICE\)/],
    [['--slice', 'gw', '--node-ip', '1.2.3.4'], /--node \(SLICENET_GATEWAY_NODE\)/],
    [['--slice', 'gw', '--node', 'n1', '--node-ip', '1.2.3'], /--node-ip .* not "1.2.3"/],
    [[...REQUIRED, '--lease-seconds', '0'], /--lease-seconds .* from 1 to 60/],
    [[...REQUIRED, '--lease-seconds', '1', '--lease-retry-ms', '500'], /--lease-retry-ms .* 3\/8/],
    [[...REQUIRED, '--wan-mtu', '100'], /--wan-mtu .* from 576/],
  ] as const)
    t.throws(() => loadGatewayConfig([...argv], {}), { message }, argv.join(' '));
});

test('peers: those with a key, their addresses in order, ARP entries with MACs, sorted', (t) => {
  const s = slice([
    {
      cluster: 'c3',
      block: 'b',
      publicKey: KEY,
      gatewayAddresses: ['198.18.3.11:51820', '198.18.3.12:51820'],
    },
    {
      cluster: 'c2',
      block: 'b',
      publicKey: 'B'.repeat(43) + '=',
      endpoints: [
        { ip: '10.91.64.2', mac: '0a:58:0a:5b:40:02', namespace: 's', pod: 'p' },
        { ip: '10.91.64.3', namespace: 's', pod: 'q' },
      ],
    },
    { cluster: 'c4', block: 'b', gatewayAddresses: ['198.18.4.11:51820'] },
  ]);
  t.deepEqual(tunnelPeers(s), [
    {
      cluster: 'c2',
      publicKey: 'B'.repeat(43) + '=',
      endpoints: [],
      arp: [{ ip: '10.91.64.2', mac: '0a:58:0a:5b:40:02' }],
    },
    { cluster: 'c3', publicKey: KEY, endpoints: ['198.18.3.11:51820', '198.18.3.12:51820'] },
  ]);
  const moved = slice();
  moved.spec.gateway.port = 51821;
  t.not(tunnelSettingsKey(s), tunnelSettingsKey(moved), 'a new port restarts the data path');
});

test('status entry: address from the node IP and port; peers only when active', (t) => {
  const now = new Date('2026-01-01T00:00:10Z');
  const base = { pod: 'p1', node: 'n1', nodeIp: '198.18.1.11', port: 51820, publicKey: KEY, now };
  t.deepEqual(gatewayEntry({ ...base, active: false, peers: [peer()] }), {
    name: 'p1',
    node: 'n1',
    address: '198.18.1.11:51820',
    publicKey: KEY,
    active: false,
    lastUpdateTime: '2026-01-01T00:00:10Z',
  });
  const e = gatewayEntry({
    ...base,
    active: true,
    peers: [
      peer({
        handshakeAgeMs: 4500,
        rttMs: 0.31234,
        txBytes: 10.7,
        rxBytes: 5,
        endpoint: '198.18.2.11:51820',
      }),
    ],
  });
  t.deepEqual(e.peers, [
    {
      cluster: 'c2',
      connected: true,
      txBytes: 10,
      rxBytes: 5,
      endpoint: '198.18.2.11:51820',
      handshakeAgeSeconds: 4,
      lastHandshakeTime: '2026-01-01T00:00:05Z',
      rttMs: 0.312,
    },
  ]);
  t.is(connectedKey([peer({ cluster: 'b' }), peer({ cluster: 'a', connected: false })]), 'a=0,b=1');
});

test('a peer sent to but silent for 15 s counts as lost; an idle one never', (t) => {
  const h = new PeerHealth();
  t.true(h.judge([peer({ txBytes: 100, rxBytes: 100 })], 0)[0]!.connected);
  t.true(h.judge([peer({ txBytes: 200, rxBytes: 100 })], 1000)[0]!.connected, 'sending, silent 0 s');
  t.true(h.judge([peer({ txBytes: 300, rxBytes: 100 })], 1000 + SILENCE_MS - 1)[0]!.connected);
  t.false(h.judge([peer({ txBytes: 400, rxBytes: 100 })], 1000 + SILENCE_MS)[0]!.connected, 'silent 15 s');
  t.true(h.judge([peer({ txBytes: 500, rxBytes: 150 })], 20_000)[0]!.connected, 'an answer clears it');
  t.true(h.judge([peer({ txBytes: 500, rxBytes: 150 })], 90_000)[0]!.connected, 'idle is not lost');
  t.false(h.judge([peer({ connected: false })], 91_000)[0]!.connected);
});

test('events: one per change of connected, endpoint changes, failed handshakes at most once a minute', (t) => {
  const seen: string[] = [];
  let now = 0;
  const ev = new PeerEvents(
    (type, reason) => seen.push(`${type}/${reason}`),
    () => now,
  );
  ev.observe([peer({ connected: false })]);
  ev.observe([peer()]);
  ev.observe([peer()]);
  ev.observe([peer({ connected: false })]);
  ev.onTunnelEvent({ type: 'endpoint-changed', cluster: 'c2', endpoint: '1.2.3.4:5' });
  ev.onTunnelEvent({ type: 'handshake-failed', cluster: 'c2' });
  now = 59_000;
  ev.onTunnelEvent({ type: 'handshake-failed', cluster: 'c2' });
  now = 61_000;
  ev.onTunnelEvent({ type: 'handshake-failed', cluster: 'c2' });
  ev.emitActive('p1 on n1');
  t.deepEqual(seen, [
    'Normal/PeerConnected',
    'Warning/PeerLost',
    'Normal/PeerEndpointChanged',
    'Warning/HandshakeFailed',
    'Warning/HandshakeFailed',
    'Normal/GatewayActive',
  ]);
});

test('the key Secret: 32 bytes, and the public key must belong to it', (t) => {
  const priv = Buffer.alloc(32, 7).toString('base64');
  const k = parseKey('ns/s', { privateKey: priv });
  t.is(k.privateKey.length, 32);
  t.regex(k.publicKey, /^[A-Za-z0-9+/]{43}=$/);
  t.is(parseKey('ns/s', { privateKey: priv, publicKey: k.publicKey }).publicKey, k.publicKey);
  t.throws(() => parseKey('ns/s', { privateKey: priv, publicKey: KEY }), {
    message: /ns\/s: publicKey does not belong/,
  });
  t.throws(() => parseKey('ns/s', { privateKey: 'AAAA' }), { message: /privateKey must hold 32 bytes/ });
});

test('what the hub gets: the newest active entry first, no counters; a placeholder before any report', (t) => {
  const placeholder = { name: 'slicenet-gateway-gw', publicKey: KEY };
  t.deepEqual(reportedGateways(undefined, placeholder), [placeholder]);
  const local = [
    {
      name: 'a',
      node: 'n1',
      address: '198.18.1.11:1',
      publicKey: KEY,
      active: true,
      lastUpdateTime: '2026-01-01T00:00:01Z',
      peers: [{ cluster: 'c2', connected: true, txBytes: 5 }],
    },
    {
      name: 'b',
      node: 'n2',
      address: '198.18.1.12:1',
      publicKey: KEY,
      active: true,
      lastUpdateTime: '2026-01-01T00:00:02Z',
      peers: [{ cluster: 'c2', connected: false, txBytes: 9 }],
    },
    { name: 'c', address: '198.18.1.13:1', publicKey: KEY, active: false },
    { name: 'd', publicKey: KEY },
  ];
  t.deepEqual(reportedGateways(local, placeholder), [
    {
      name: 'b',
      node: 'n2',
      address: '198.18.1.12:1',
      publicKey: KEY,
      active: true,
      peers: [{ cluster: 'c2', connected: false }],
    },
    { name: 'a', node: 'n1', address: '198.18.1.11:1', publicKey: KEY, active: false },
    { name: 'c', address: '198.18.1.13:1', publicKey: KEY, active: false },
  ]);
});

test('the gateway Deployment: host network, gateway nodes, one per node, owned by the Slice', (t) => {
  const d = gatewayDeployment(slice(), { image: 'img', command: ['gw'], kubeconfig: '/k' });
  const spec = d.spec!.template.spec!;
  t.is(d.metadata!.name, 'slicenet-gateway-gw');
  t.is(d.spec!.replicas, 2);
  t.like(d.spec!.strategy, { rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  t.true(spec.hostNetwork);
  t.deepEqual(spec.nodeSelector, { 'slicenet.dev/gateway': 'true' });
  t.is(
    spec.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution![0]!.topologyKey,
    'kubernetes.io/hostname',
  );
  t.like(d.metadata!.ownerReferences![0], { kind: 'Slice', name: 'gw', uid: 'u-1', controller: true });
  const env = Object.fromEntries(
    spec.containers[0]!.env!.map((e) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]),
  );
  t.like(env, {
    SLICENET_GATEWAY_SLICE: 'gw',
    SLICENET_GATEWAY_POD: 'metadata.name',
    SLICENET_GATEWAY_NODE: 'spec.nodeName',
    SLICENET_GATEWAY_NODE_IP: 'status.hostIP',
    SLICENET_GATEWAY_PROBE_PORT: '51820',
    SLICENET_GATEWAY_KUBECONFIG: '/k',
  });
  t.deepEqual(
    spec.containers[0]!.ports!.map((p) => `${p.containerPort}/${p.protocol}`),
    ['51820/UDP', '51820/TCP'],
  );
});

test("the hub's roll-up counts the active gateway's connected peers", (t) => {
  const ws = {
    apiVersion: 'slicenet.dev/v1alpha1',
    kind: 'WorkerSlice',
    metadata: { name: 'gw', generation: 1 },
    spec: slice().spec,
    status: {
      observedGeneration: 1,
      gateways: reportedGateways(
        [
          {
            name: 'a',
            address: '198.18.1.11:1',
            publicKey: KEY,
            active: true,
            peers: [
              { cluster: 'c2', connected: true },
              { cluster: 'c3', connected: false },
            ],
          },
        ],
        { name: 'x', publicKey: KEY },
      ),
    },
  } as const;
  const r = rollup({
    sc: {
      apiVersion: 'slicenet.dev/v1alpha1',
      kind: 'SliceConfig',
      metadata: { name: 'gw', namespace: 'slicenet-system', generation: 1 },
      spec: { subnet: '10.91.0.0/16' },
    },
    vni: 4096,
    assignments: [{ name: 'c1', subnet: '10.91.0.0/18' }],
    missing: new Map(),
    workerSlices: new Map([['c1', ws]]),
  });
  t.is(r.status.clusters?.[0]?.gatewaysConnected, 1);
});

test('metrics: one RTT sample per handshake, once the data path has measured it', async (t) => {
  const registry = new Registry();
  const m = new GatewayMetrics(registry, 'gw');
  let status: TunnelPeerStatus[] = [peer({ handshakes: 1 })];
  m.attach({
    setPeers: () => undefined,
    peerStatus: () => status,
    drops: () => ({ replay: 2 }),
    close: () => undefined,
  });
  m.sample(status);
  status = [peer({ handshakes: 1, rttMs: 0.4, txBytes: 7 })];
  m.sample(status);
  m.sample(status);
  status = [peer({ handshakes: 2, rttMs: 0.5, txBytes: 7, txPackets: 3, rxPackets: 2 })];
  m.sample(status);
  const text = await registry.metrics();
  t.regex(text, /slicenet_gateway_rtt_seconds_count\{slice="gw",peer_cluster="c2"\} 2/);
  t.regex(text, /slicenet_gateway_bytes_total\{slice="gw",peer_cluster="c2",direction="tx"\} 7/);
  t.regex(text, /slicenet_gateway_packets_total\{slice="gw",peer_cluster="c2",direction="tx"\} 3/);
  t.regex(text, /slicenet_gateway_packets_total\{slice="gw",peer_cluster="c2",direction="rx"\} 2/);
  t.regex(text, /slicenet_gateway_drops_total\{slice="gw",reason="replay"\} 2/);
  t.regex(text, /slicenet_gateway_active\{slice="gw"\} 1/);
});
