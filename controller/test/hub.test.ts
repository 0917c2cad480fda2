import test from 'ava';
import type { SliceConfig, WorkerSlice } from '../api/types.ts';
import { desiredWorkerSlice, gatewayPort, peerOf, sliceMtu } from '../hub/desired.ts';
import { canonical, phaseOf, rollup } from '../hub/rollup.ts';
import { covers } from '../hub/sliceconfigs.ts';
import { olderThan } from '../hub/sliceconfigs.ts';

const sc = (over: Partial<SliceConfig['spec']> = {}, status?: SliceConfig['status']): SliceConfig => ({
  apiVersion: 'slicenet.dev/v1alpha1',
  kind: 'SliceConfig',
  metadata: { name: 'demo', namespace: 'slicenet-system', generation: 2 },
  spec: { subnet: '10.90.0.0/16', clusters: ['c1', 'c2'], ...over },
  ...(status ? { status } : {}),
});

const ws = (cluster: string, status?: WorkerSlice['status'], generation = 1): WorkerSlice => ({
  apiVersion: 'slicenet.dev/v1alpha1',
  kind: 'WorkerSlice',
  metadata: { name: 'demo', namespace: `slicenet-cluster-${cluster}`, generation },
  spec: {
    cluster,
    subnet: '10.90.0.0/16',
    block: '10.90.0.0/18',
    vni: 4096,
    mtu: 1420,
    gateway: { cipher: 'chacha20-poly1305', replicas: 1, port: 51820 },
  },
  ...(status ? { status } : {}),
});

const KEY = 'A'.repeat(43) + '=';
const ready = {
  type: 'Ready',
  status: 'True' as const,
  reason: 'SliceSynced',
  message: '',
  lastTransitionTime: '2026-01-01T00:00:00Z',
};

test('MTU: as configured, else the smallest WAN MTU less the tunnel overhead, never below 1280', (t) => {
  t.is(sliceMtu(sc({ gateway: { mtu: 1300 } }), [9000]), 1300);
  t.is(sliceMtu(sc(), [undefined, 1450]), 1370);
  t.is(sliceMtu(sc(), [9000]), 1420);
  t.is(sliceMtu(sc(), [1300]), 1280);
});

test('gateway port: as configured, else spread by VNI', (t) => {
  t.is(gatewayPort(sc({ gateway: { port: 4500 } }), 5000), 4500);
  t.is(gatewayPort(sc(), 4096), 51820);
  t.is(gatewayPort(sc(), 4097), 51821);
});

test('a peer carries what its worker reported: the active key, addresses, endpoints', (t) => {
  const a = { name: 'c2', subnet: '10.90.64.0/18' };
  t.deepEqual(peerOf(a, undefined), { cluster: 'c2', block: '10.90.64.0/18' });
  const reported = ws('c2', {
    gateways: [
      { name: 'g0', publicKey: 'B'.repeat(43) + '=', address: '198.18.2.10:51820' },
      { name: 'g1', publicKey: KEY, active: true, address: '198.18.2.11:51820' },
    ],
    endpoints: [{ ip: '10.90.64.5', namespace: 'shop', pod: 'p' }],
  });
  const p = peerOf(a, reported);
  t.is(p.publicKey, KEY);
  t.deepEqual(p.gatewayAddresses, ['198.18.2.10:51820', '198.18.2.11:51820']);
  t.is(p.endpoints?.length, 1);
});

test('a WorkerSlice: its own block, every other member as a peer, settings copied', (t) => {
  const assignments = [
    { name: 'c1', subnet: '10.90.0.0/18' },
    { name: 'c2', subnet: '10.90.64.0/18' },
  ];
  const w = desiredWorkerSlice(
    {
      sc: sc({ qos: { guaranteedKbps: 1, ceilingKbps: 2 } }),
      vni: 4100,
      mtu: 1420,
      assignments,
      reported: new Map(),
    },
    assignments[1]!,
  );
  t.is(w.metadata.namespace, 'slicenet-cluster-c2');
  t.is(w.metadata.labels?.['slicenet.dev/slice'], 'demo');
  t.is(w.spec.block, '10.90.64.0/18');
  t.deepEqual(w.spec.peers, [{ cluster: 'c1', block: '10.90.0.0/18' }]);
  t.deepEqual(w.spec.qos, { guaranteedKbps: 1, ceilingKbps: 2 });
  t.is(w.spec.gateway.cipher, 'chacha20-poly1305');
});

test('phase: Pending until reported, Connecting on an old generation, then as the worker says', (t) => {
  t.is(phaseOf(undefined), 'Pending');
  t.is(phaseOf(ws('c1')), 'Pending');
  t.is(phaseOf(ws('c1', { observedGeneration: 1, conditions: [ready] }, 2)), 'Connecting');
  t.is(phaseOf(ws('c1', { observedGeneration: 2, conditions: [ready] }, 2)), 'Ready');
  t.is(
    phaseOf(ws('c1', { observedGeneration: 2, conditions: [{ ...ready, status: 'False' }] }, 2)),
    'Degraded',
  );
});

test('roll-up: Ready only when every member is; a missing cluster is Degraded; no change, no write', (t) => {
  const assignments = [
    { name: 'c1', subnet: '10.90.0.0/18' },
    { name: 'c2', subnet: '10.90.64.0/18' },
  ];
  const good = ws('c1', { observedGeneration: 1, conditions: [ready] });
  const workerSlices = new Map([
    ['c1', good],
    ['c2', good],
  ]);
  const base = { vni: 4096, assignments, workerSlices };
  const r = rollup({ ...base, sc: sc(), missing: new Map() });
  const cond = (type: string) => r.status.conditions?.find((c) => c.type === type);
  t.is(cond('Ready')?.status, 'True');
  t.is(cond('Ready')?.observedGeneration, 2);
  t.is(cond('Progressing')?.status, 'False');
  t.true(r.changed);
  t.false(rollup({ ...base, sc: sc({}, r.status), missing: new Map() }).changed);

  const m = rollup({ ...base, sc: sc(), missing: new Map([['c2', 'no namespace slicenet-cluster-c2']]) });
  t.is(m.status.conditions?.find((c) => c.type === 'Degraded')?.status, 'True');
  t.is(m.status.clusters?.[1]?.phase, 'Pending');
});

test('canonical JSON ignores key order', (t) => {
  t.is(canonical([{ b: 1, a: { d: 1, c: 2 } }]), canonical([{ a: { c: 2, d: 1 }, b: 1 }]));
});

test('of two claimants of one VNI, the older keeps it', (t) => {
  // As cached: timestamps are strings, where the client-node types say Date.
  const a = {
    ...sc(),
    metadata: { name: 'a', namespace: 'n', creationTimestamp: '2026-01-01T00:00:00Z' },
  } as unknown as SliceConfig;
  const b = {
    ...sc(),
    metadata: { name: 'b', namespace: 'n', creationTimestamp: '2026-01-02T00:00:00Z' },
  } as unknown as SliceConfig;
  const c = { ...b, metadata: { ...b.metadata, name: 'c' } };
  t.true(olderThan(a, b));
  t.false(olderThan(b, a));
  t.true(olderThan(b, c));
});

test('covers: what the API server defaulted may be extra; anything set must match', (t) => {
  t.true(covers({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } }));
  t.true(covers([{ a: 1, x: 0 }], [{ a: 1 }]));
  t.false(covers([{ a: 1 }, { a: 2 }], [{ a: 1 }]), 'arrays match in length');
  t.false(covers({ a: 1 }, { a: 2 }));
  t.false(covers({}, { a: { b: 1 } }));
  t.true(covers({ a: 1 }, { a: undefined }));
});
