import test from 'ava';
import type { SliceConfig, WorkerSlice } from '../../controller/api/types.ts';
import { bytes, report, rows } from '../commands/status.ts';

const sc: SliceConfig = {
  apiVersion: 'slicenet.dev/v1alpha1',
  kind: 'SliceConfig',
  metadata: { name: 'demo', namespace: 'slicenet-system' },
  spec: {
    subnet: '10.100.0.0/16',
    clusters: ['c1', 'c2', 'c3'],
    qos: { guaranteedKbps: 1000, ceilingKbps: 2000 },
  },
  status: {
    conditions: [
      { type: 'Ready', status: 'False', reason: 'Connecting', message: '', lastTransitionTime: '' },
    ],
    clusters: [
      { name: 'c1', subnet: '10.100.0.0/20', phase: 'Ready' },
      { name: 'c2', subnet: '10.100.16.0/20', phase: 'Connecting' },
      { name: 'c3', phase: 'Pending' },
    ],
  },
};

function ws(cluster: string, status: WorkerSlice['status']): WorkerSlice {
  return {
    apiVersion: 'slicenet.dev/v1alpha1',
    kind: 'WorkerSlice',
    metadata: { name: 'demo', namespace: `slicenet-cluster-${cluster}` },
    spec: {
      cluster,
      subnet: '10.100.0.0/16',
      block: '',
      vni: 4096,
      mtu: 1400,
      gateway: { cipher: 'chacha20-poly1305', replicas: 2, port: 51820 },
    },
    status,
  };
}

const workers = [
  ws('c1', {
    endpoints: [{ ip: '10.100.0.1', namespace: 'a', pod: 'p' }],
    gateways: [
      { name: 'gw-0', node: 'c1-n2', address: '198.18.1.12:51820', active: false },
      {
        name: 'gw-1',
        node: 'c1-n1',
        address: '198.18.1.11:51820',
        active: true,
        peers: [
          {
            cluster: 'c2',
            connected: true,
            handshakeAgeSeconds: 12,
            rttMs: 0.4567,
            txBytes: 1536,
            rxBytes: 10,
          },
          { cluster: 'c3', connected: false },
        ],
      },
    ],
  }),
  ws('c2', {}),
];

test('status: one row per cluster and peer, from the active gateway; missing parts say so', (t) => {
  const r = report(sc, workers);
  t.is(r.ready, 'False');
  t.is(r.qos, '1000/2000 kbps p3');
  t.deepEqual(
    rows(r, false).map((row) => row.join('|')),
    [
      'demo|c1|Ready|1|c2|up|12s ago|0.46ms|1.5 KiB|10 B',
      'demo|c1|Ready|1|c3|DOWN|-|-|-|-',
      'demo|c2|Connecting|0|-|no gateway|-|-|-|-',
      'demo|c3|Pending|0|-|no gateway|-|-|-|-',
    ],
  );
  const wide = rows(r, true)[0]!;
  t.deepEqual(wide.slice(-4), ['10.100.0.0/20', 'c1-n1 (198.18.1.11:51820)', '-', '1000/2000 kbps p3']);
});

test('status: a slice with no status yet lists its spec clusters as Pending', (t) => {
  const r = report({ ...sc, status: undefined }, []);
  t.deepEqual(
    r.clusters.map((c) => `${c.cluster}:${c.phase}`),
    ['c1:Pending', 'c2:Pending', 'c3:Pending'],
  );
});

test('bytes: binary units', (t) => {
  t.is(bytes(undefined), '-');
  t.is(bytes(0), '0 B');
  t.is(bytes(1023), '1023 B');
  t.is(bytes(5 * 1024 * 1024 * 1024), '5.0 GiB');
});
