/** netop's config (one row per error) and which slices get a QoS class on a node. */
import test from 'ava';
import type { Slice } from '../../controller/api/types.ts';
import { loadNetopConfig } from '../config.ts';
import { qosOnNode } from '../netop.ts';

test('config: defaults, flags over variables', (t) => {
  const c = loadNetopConfig(['--uplink', 'eth1'], {
    SLICENET_NETOP_UPLINK: 'eth0',
    SLICENET_NETOP_LINK_KBIT: '100000',
    NODE_NAME: 'n1',
  });
  t.like(c, { node: 'n1', uplink: 'eth1', linkKbit: 100_000, ingressShaping: true, probePort: 8086 });
});

const BAD: [string[], RegExp][] = [
  [['--link-kbit', 'fast'], /^--link-kbit \(SLICENET_NETOP_LINK_KBIT\) must be a whole number/],
  [
    ['--ingress-shaping', 'yes'],
    /^--ingress-shaping \(SLICENET_NETOP_INGRESS_SHAPING\) must be true or false/,
  ],
  [
    ['--uplink', 'a-very-long-interface-name'],
    /^--uplink \(SLICENET_NETOP_UPLINK\) "a-very-long-interface-name" is not an interface name/,
  ],
  [['--probe-port', '70000'], /^--probe-port/],
];
for (const [argv, says] of BAD)
  test(`config: refuses ${argv.join(' ')}`, (t) => {
    t.throws(() => loadNetopConfig(argv, {}), { message: says });
  });

test('qosOnNode: slices with qos whose gateway runs on this node', (t) => {
  const slice = (name: string, node: string, qos?: Slice['spec']['qos']): Slice => ({
    apiVersion: 'slicenet.dev/v1alpha1',
    kind: 'Slice',
    metadata: { name },
    spec: {
      cluster: 'c',
      subnet: '10.1.0.0/16',
      block: '10.1.0.0/20',
      vni: 1,
      mtu: 1400,
      qos,
      gateway: { cipher: 'aes-256-gcm', replicas: 1, port: 7000 + name.length },
    },
    status: { gateways: [{ name: `gw-${name}`, node }] },
  });
  const got = qosOnNode(
    [
      slice('gold', 'n1', { guaranteedKbps: 100, ceilingKbps: 200, priority: 1, dscp: 'EF' }),
      slice('tin', 'n1'),
      slice('iron', 'n2', { guaranteedKbps: 1, ceilingKbps: 2 }),
      slice('silver', 'n1', { guaranteedKbps: 5, ceilingKbps: 9 }),
    ],
    'n1',
  );
  t.deepEqual(got, [
    { slice: 'gold', port: 7004, guaranteedKbit: 100, ceilingKbit: 200, priority: 1, dscp: 'EF' },
    { slice: 'silver', port: 7006, guaranteedKbit: 5, ceilingKbit: 9, priority: 3, dscp: 'Default' },
  ]);
});
