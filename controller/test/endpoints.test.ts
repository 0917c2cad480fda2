import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { NETWORK_STATUS, sliceAttachment, sliceEndpoints } from '../worker/endpoints.ts';

const SLICE = 'demo';

function pod(name: string, networkStatus: unknown, extra: Partial<V1Pod> = {}, namespace = 'shop'): V1Pod {
  const annotations: Record<string, string> =
    networkStatus === undefined
      ? {}
      : {
          [NETWORK_STATUS]: typeof networkStatus === 'string' ? networkStatus : JSON.stringify(networkStatus),
        };
  return {
    metadata: { name, namespace, labels: { 'slicenet.dev/slice': SLICE, app: 'web' }, annotations },
    spec: { containers: [] },
    status: { phase: 'Running' },
    ...extra,
  };
}

const eth0 = {
  name: 'cbr0',
  interface: 'eth0',
  ips: ['10.244.0.5'],
  mac: '0a:58:0a:f4:00:05',
  default: true,
};
const slice0 = (ip: string, mac = '0A:58:0A:5A:00:01', ns = 'shop') => ({
  name: `${ns}/slicenet-${SLICE}`,
  interface: 'slice0',
  ips: [ip],
  mac,
});

test('a running pod: slice0 address, lower-case MAC, namespace, name and labels', (t) => {
  const r = sliceEndpoints([pod('a', [eth0, slice0('10.90.0.1')])], SLICE);
  t.deepEqual(r.endpoints, [
    {
      ip: '10.90.0.1',
      mac: '0a:58:0a:5a:00:01',
      namespace: 'shop',
      pod: 'a',
      labels: { 'slicenet.dev/slice': SLICE, app: 'web' },
    },
  ]);
  t.deepEqual(r.skipped, []);
});

test('endpoints are sorted by address, numerically', (t) => {
  const pods = ['10.90.0.10', '10.90.0.9', '10.90.1.0', '10.90.0.100'].map((ip, i) =>
    pod(`p${i}`, [slice0(ip)]),
  );
  t.deepEqual(
    sliceEndpoints(pods, SLICE).endpoints.map((e) => e.ip),
    ['10.90.0.9', '10.90.0.10', '10.90.0.100', '10.90.1.0'],
  );
});

test('pods not on the slice now are left out without being counted', (t) => {
  const deleting = pod('d', [slice0('10.90.0.4')]);
  deleting.metadata!.deletionTimestamp = new Date();
  const r = sliceEndpoints(
    [
      pod('pending', [slice0('10.90.0.2')], { status: { phase: 'Pending' } }),
      pod('done', [slice0('10.90.0.3')], { status: { phase: 'Succeeded' } }),
      deleting,
      pod('gw', undefined, { spec: { containers: [], hostNetwork: true } }),
      { ...pod('other', [slice0('10.90.0.5')]), metadata: { name: 'other', namespace: 'shop', labels: {} } },
    ],
    SLICE,
  );
  t.deepEqual(r, { endpoints: [], skipped: [] });
});

// One row per malformed annotation: skipped, counted with its reason, never thrown.
for (const [title, status, reason] of [
  ['no annotation', undefined, 'no-annotation'],
  ['not JSON', '[{"name":', 'bad-annotation'],
  ['not a list', { interface: 'slice0' }, 'bad-annotation'],
  ['null entries only', [null, 3, 'x'], 'no-slice0'],
  ['no slice0 entry', [eth0], 'no-slice0'],
  ['slice0 of another slice', [{ ...slice0('10.90.0.1'), name: 'shop/slicenet-other' }], 'no-slice0'],
  ['slice0 of another namespace', [slice0('10.90.0.1', undefined, 'bank')], 'no-slice0'],
  ['no ips', [{ ...slice0('10.90.0.1'), ips: undefined }], 'bad-ip'],
  ['empty ips', [{ ...slice0('10.90.0.1'), ips: [] }], 'bad-ip'],
  ['ips not strings', [{ ...slice0('10.90.0.1'), ips: [42] }], 'bad-ip'],
  ['an IPv6 address', [slice0('fd00::1')], 'bad-ip'],
  ['an address out of range', [slice0('10.90.0.256')], 'bad-ip'],
] as const) {
  test(`malformed network-status: ${title}`, (t) => {
    const r = sliceEndpoints([pod('bad', status), pod('good', [slice0('10.90.0.7')])], SLICE);
    t.deepEqual(r.skipped, [{ pod: 'shop/bad', reason }]);
    t.deepEqual(
      r.endpoints.map((e) => e.pod),
      ['good'],
    );
  });
}

test('a prefix length is dropped; a bad MAC keeps the endpoint without one', (t) => {
  t.deepEqual(sliceAttachment(pod('a', [slice0('10.90.0.1/16')]), SLICE), {
    ip: '10.90.0.1',
    mac: '0a:58:0a:5a:00:01',
  });
  t.deepEqual(sliceAttachment(pod('a', [slice0('10.90.0.1', 'zz')]), SLICE), { ip: '10.90.0.1' });
  t.deepEqual(sliceAttachment(pod('a', [{ ...slice0('10.90.0.1'), mac: 7 }]), SLICE), { ip: '10.90.0.1' });
});

test('two pods claiming one address: the first by namespace/name keeps it', (t) => {
  const r = sliceEndpoints([pod('b', [slice0('10.90.0.1')]), pod('a', [slice0('10.90.0.1')])], SLICE);
  t.deepEqual(
    r.endpoints.map((e) => e.pod),
    ['a'],
  );
  t.deepEqual(r.skipped, [{ pod: 'shop/b', reason: 'bad-ip' }]);
});
