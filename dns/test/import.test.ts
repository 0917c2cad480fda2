import test from 'ava';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { importedService, importedServices, SERVICE_NAME_LABEL, SOURCE_CLUSTER_LABEL } from '../import.ts';
import { buildZone } from '../records.ts';

const si = {
  metadata: { name: 'web', namespace: 'shop' },
  spec: { type: 'Headless' as const, ports: [{ name: 'http', protocol: 'TCP' as const, port: 80 }] },
};

const slice = (cluster: string, extra: Partial<V1EndpointSlice> = {}, service = 'web'): V1EndpointSlice => ({
  addressType: 'IPv4',
  metadata: {
    name: `web-${cluster}`,
    namespace: 'shop',
    labels: { [SERVICE_NAME_LABEL]: service, [SOURCE_CLUSTER_LABEL]: cluster },
  },
  endpoints: [],
  ...extra,
});

test('endpoints of every cluster, ready as Kubernetes reads it, with hostnames and the slice ports', (t) => {
  const svc = importedService(si, [
    slice('east', {
      endpoints: [
        { addresses: ['10.90.0.5'], hostname: 'web-0', conditions: { ready: true } },
        { addresses: ['10.90.0.6'], conditions: { ready: false } },
        { addresses: ['10.90.0.7'] },
        { addresses: [] },
      ],
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    }),
    slice('west', { endpoints: [{ addresses: ['10.90.1.5'] }] }),
    slice('west', { endpoints: [{ addresses: ['10.90.9.9'] }] }, 'other'),
    slice('west', { addressType: 'IPv6', endpoints: [{ addresses: ['fd00::1'] }] }),
  ]);
  t.deepEqual(svc, {
    namespace: 'shop',
    name: 'web',
    type: 'Headless',
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    endpoints: [
      {
        ip: '10.90.0.5',
        cluster: 'east',
        hostname: 'web-0',
        ready: true,
        ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      },
      {
        ip: '10.90.0.6',
        cluster: 'east',
        ready: false,
        ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      },
      {
        ip: '10.90.0.7',
        cluster: 'east',
        ready: true,
        ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      },
      { ip: '10.90.1.5', cluster: 'west', ready: true },
    ],
  });
  const { zone, problems } = buildZone([svc]);
  t.deepEqual(problems, []);
  t.is(zone.lookup('web.shop.svc.slice.local', 'A').answers.length, 3);
});

test('a slice without its source-cluster label is reported by the zone, not dropped silently', (t) => {
  const s = slice('east', { endpoints: [{ addresses: ['10.90.0.5'] }] });
  delete s.metadata!.labels![SOURCE_CLUSTER_LABEL];
  const { problems } = buildZone([importedService(si, [s])]);
  t.regex(problems[0] ?? '', /cluster "" must be a DNS label/);
});

test('every import gets the slices of its own namespace and name, and no other', (t) => {
  const other = { metadata: { name: 'web', namespace: 'blog' }, spec: { ports: [] } };
  const api = { metadata: { name: 'api', namespace: 'shop' }, spec: { type: 'ClusterSetIP' as const } };
  const blogSlice = slice('east', { endpoints: [{ addresses: ['10.90.2.1'] }] });
  blogSlice.metadata!.namespace = 'blog';
  const services = importedServices(
    [si, other, api],
    [
      slice('east', { endpoints: [{ addresses: ['10.90.0.5'] }] }),
      slice('west', { endpoints: [{ addresses: ['10.90.1.5'], conditions: { ready: false } }] }),
      blogSlice,
      slice('east', { endpoints: [{ addresses: ['10.90.0.9'] }] }, 'orphan'),
    ],
  );
  t.deepEqual(
    services.map((s) => [
      `${s.namespace}/${s.name}`,
      s.endpoints.map((e) => `${e.cluster}:${e.ip}:${e.ready}`),
    ]),
    [
      ['shop/web', ['east:10.90.0.5:true', 'west:10.90.1.5:false']],
      ['blog/web', ['east:10.90.2.1:true']],
      ['shop/api', []],
    ],
  );
  t.deepEqual(services[2], {
    namespace: 'shop',
    name: 'api',
    type: 'ClusterSetIP',
    ports: [],
    endpoints: [],
  });
  t.deepEqual(importedServices([], [slice('east')]), []);
});
