import test from 'ava';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { importedService } from '../../dns/import.ts';
import type { ServiceExportReport, ServiceImportSpec, WorkerSlice } from '../api/types.ts';
import { mergeImports } from '../hub/imports.ts';
import { exportConditions, exportView } from '../worker/exports.ts';
import { desiredImports } from '../worker/imports.ts';

const SLICE = 'demo';

function report(o: Partial<ServiceExportReport> = {}): ServiceExportReport {
  return {
    namespace: 'shop',
    name: 'web',
    type: 'ClusterSetIP',
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    exportedAt: '2026-01-01T00:00:00Z',
    endpoints: [],
    ...o,
  };
}

function ws(cluster: string, exports: ServiceExportReport[], imports?: ServiceImportSpec[]): WorkerSlice {
  return {
    apiVersion: 'slicenet.dev/v1alpha1',
    kind: 'WorkerSlice',
    metadata: { name: SLICE, namespace: `slicenet-cluster-${cluster}` },
    spec: {
      cluster,
      subnet: '10.90.0.0/16',
      block: '10.90.0.0/18',
      vni: 4096,
      mtu: 1420,
      gateway: { cipher: 'chacha20-poly1305', replicas: 1, port: 51820 },
      ...(imports ? { imports } : {}),
    },
    status: { exports },
  };
}

const merge = (byCluster: Record<string, ServiceExportReport[]>): ServiceImportSpec[] =>
  mergeImports(new Map(Object.entries(byCluster).map(([c, e]) => [c, ws(c, e)])), Object.keys(byCluster));

// ---- hub: merge and conflicts -----------------------------------------------------------------

test('merge: one import per service, every exporting cluster with its endpoints, sorted', (t) => {
  const a = { ip: '10.90.0.1', ready: true };
  const b = { ip: '10.90.64.1', ready: false };
  const out = merge({
    c2: [report({ endpoints: [b] }), report({ name: 'api' })],
    c1: [report({ endpoints: [a] })],
  });
  t.deepEqual(
    out.map((i) => i.name),
    ['api', 'web'],
  );
  t.deepEqual(out[1], {
    namespace: 'shop',
    name: 'web',
    type: 'ClusterSetIP',
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    clusters: [
      { cluster: 'c1', endpoints: [a] },
      { cluster: 'c2', endpoints: [b] },
    ],
    conflicts: [],
  });
});

test('merge: ports are the union; only members count', (t) => {
  const out = mergeImports(
    new Map([
      ['c1', ws('c1', [report()])],
      ['c2', ws('c2', [report({ ports: [{ name: 'metrics', protocol: 'TCP', port: 9090 }] })])],
      ['gone', ws('gone', [report({ name: 'old' })])],
    ]),
    ['c1', 'c2'],
  );
  t.is(out.length, 1);
  t.deepEqual(
    out[0]!.ports.map((p) => p.name),
    ['http', 'metrics'],
  );
});

test('conflict: same port name, other number: the oldest export wins, both are told', (t) => {
  const [imp] = merge({
    c1: [
      report({ exportedAt: '2026-01-02T00:00:00Z', ports: [{ name: 'http', protocol: 'TCP', port: 8080 }] }),
    ],
    c2: [report({ exportedAt: '2026-01-01T00:00:00Z' })],
  });
  t.deepEqual(imp!.ports, [{ name: 'http', protocol: 'TCP', port: 80 }], "c2's export is older");
  t.deepEqual(
    imp!.conflicts.map((c) => [c.cluster, c.reason]),
    [
      ['c1', 'PortConflict'],
      ['c2', 'PortConflict'],
    ],
  );
  t.regex(
    imp!.conflicts[0]!.message,
    /port "http" is TCP\/8080 in c1, TCP\/80 in c2.*c2's, decides.*not imported/,
  );
  t.notRegex(imp!.conflicts[1]!.message, /not imported/);
  t.is(imp!.clusters.length, 2, 'endpoints of both clusters stay');
});

test('conflict: same name, other protocol; equal times go by cluster name', (t) => {
  const [imp] = merge({
    c2: [report({ ports: [{ name: 'http', protocol: 'UDP', port: 80 }] })],
    c1: [report()],
  });
  t.deepEqual(imp!.ports, [{ name: 'http', protocol: 'TCP', port: 80 }]);
  t.deepEqual(
    imp!.conflicts.map((c) => c.cluster),
    ['c1', 'c2'],
  );
});

test('conflict: type Headless against ClusterSetIP', (t) => {
  const [imp] = merge({
    c1: [report()],
    c2: [report({ type: 'Headless', exportedAt: '2026-02-01T00:00:00Z' })],
  });
  t.is(imp!.type, 'ClusterSetIP');
  t.deepEqual(
    imp!.conflicts.map((c) => [c.cluster, c.reason]),
    [
      ['c1', 'TypeConflict'],
      ['c2', 'TypeConflict'],
    ],
  );
});

test('no conflict: the same port in every cluster, or unnamed ports that agree', (t) => {
  const same = [{ protocol: 'TCP' as const, port: 80 }];
  const [imp] = merge({ c1: [report({ ports: same })], c2: [report({ ports: same })], c3: [report()] });
  t.deepEqual(imp!.conflicts, []);
  t.is(imp!.ports.length, 2);
});

// ---- worker: the export's view and conditions --------------------------------------------------

function slicePod(name: string, ip: string | undefined, phase = 'Running'): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'shop',
      labels: { 'slicenet.dev/slice': SLICE },
      annotations: ip
        ? {
            'k8s.v1.cni.cncf.io/network-status': JSON.stringify([
              { name: `shop/slicenet-${SLICE}`, interface: 'slice0', ips: [ip], mac: '0a:58:00:00:00:01' },
            ]),
          }
        : {},
    },
    status: { phase },
  };
}

const service = (o: V1Service['spec'] = {}): V1Service => ({
  metadata: { name: 'web', namespace: 'shop' },
  spec: { ports: [{ name: 'http', protocol: 'TCP', port: 80 }], ...o },
});

const eps = (endpoints: { pod: string; ready?: boolean; hostname?: string }[]): V1EndpointSlice => ({
  metadata: { name: 'web-abcde', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  endpoints: endpoints.map((e) => ({
    addresses: ['10.244.0.9'],
    ...(e.hostname ? { hostname: e.hostname } : {}),
    conditions: e.ready === undefined ? {} : { ready: e.ready },
    targetRef: { kind: 'Pod', name: e.pod, namespace: 'shop' },
  })),
});

const se = {
  metadata: { name: 'web', namespace: 'shop', creationTimestamp: '2026-01-01T00:00:00Z', generation: 1 },
};

const pods = new Map(
  [slicePod('a', '10.90.0.2'), slicePod('b', '10.90.0.10'), slicePod('off', undefined)].map((p) => [
    p.metadata!.name!,
    p,
  ]),
);
const inputs = (o: Partial<Parameters<typeof exportView>[1]> = {}): Parameters<typeof exportView>[1] => ({
  slice: SLICE,
  service: service(),
  endpointSlices: [
    eps([
      { pod: 'b', ready: false },
      { pod: 'a' },
      { pod: 'off' },
      { pod: 'gone' },
      { pod: 'a', ready: true },
    ]),
  ],
  pod: (_ns, name) => pods.get(name),
  ...o,
});

test('an unready pod is not ready before its EndpointSlice says so', (t) => {
  const unready = slicePod('a', '10.90.0.2');
  unready.status!.conditions = [{ type: 'Ready', status: 'False' }];
  const v = exportView(
    se,
    inputs({ endpointSlices: [eps([{ pod: 'a', ready: true }])], pod: () => unready }),
  );
  t.deepEqual(
    v.report?.endpoints.map((e) => e.ready),
    [false],
  );
});

test('export view: endpoints by slice address, readiness, hostname, own ports; others counted', (t) => {
  const v = exportView(se, inputs());
  t.like(v.valid, { status: 'True', reason: 'Valid' });
  t.is(v.notOnSlice, 2, "'off' has no slice0, 'gone' is no slice pod");
  const port = [{ name: 'http', protocol: 'TCP', port: 8080 }];
  t.deepEqual(v.report, {
    namespace: 'shop',
    name: 'web',
    type: 'ClusterSetIP',
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
    exportedAt: '2026-01-01T00:00:00Z',
    endpoints: [
      { ip: '10.90.0.2', hostname: 'a', ready: true, ports: port },
      { ip: '10.90.0.10', hostname: 'b', ready: false, ports: port },
    ],
  });
  t.is(exportView(se, inputs({ service: service({ clusterIP: 'None' }) })).report?.type, 'Headless');
});

// One row per reason an export is not valid.
for (const [title, o, reason, message] of [
  [
    'namespace not joined',
    { slice: undefined },
    'NamespaceNotOnSlice',
    /namespace shop has not joined a slice/,
  ],
  ['Service missing', { service: undefined }, 'ServiceNotFound', /Service shop\/web not found: create it/],
  [
    'ExternalName Service',
    { service: service({ type: 'ExternalName' }) },
    'ServiceTypeNotSupported',
    /ExternalName/,
  ],
] as const) {
  test(`export not valid: ${title}`, (t) => {
    const v = exportView(se, inputs(o));
    t.is(v.report, undefined);
    t.like(v.valid, { type: 'Valid', status: 'False', reason });
    t.regex(v.valid.message, message);
    const conds = exportConditions(v, o.slice, undefined, 'c1');
    t.like(conds[1], { type: 'Ready', status: 'False', reason });
    t.like(conds[2], { type: 'Conflict', status: 'False' });
  });
}

test('export Ready: awaiting the hub, no ready endpoints, exported; Conflict from the import', (t) => {
  const v = exportView(se, inputs());
  const ready = (w: WorkerSlice | undefined, view = v) => exportConditions(view, SLICE, w, 'c1')[1]!;
  t.like(ready(undefined), { status: 'False', reason: 'AwaitingHub' });
  const imp = mergeImports(new Map([['c1', ws('c1', [v.report!])]]), ['c1']);
  t.like(ready(ws('c1', [], [])), { status: 'False', reason: 'AwaitingHub' });
  const done = ready(ws('c1', [], imp));
  t.like(done, { status: 'True', reason: 'Exported' });
  t.regex(done.message, /1 of 2 endpoints ready.*2 endpoints have no slice0/);
  const none = exportView(se, inputs({ endpointSlices: [eps([{ pod: 'a', ready: false }])] }));
  t.like(ready(ws('c1', [], imp), none), { status: 'False', reason: 'NoReadyEndpoints' });
  const conflicted = mergeImports(
    new Map([
      ['c1', ws('c1', [v.report!])],
      ['c0', ws('c0', [report({ ports: [{ name: 'http', protocol: 'TCP', port: 81 }] })])],
    ]),
    ['c0', 'c1'],
  );
  t.like(exportConditions(v, SLICE, ws('c1', [], conflicted), 'c1')[2], {
    type: 'Conflict',
    status: 'True',
    reason: 'PortConflict',
  });
});

// ---- worker: materialization ------------------------------------------------------------------

test('materialized imports are what slicenet-dns reads (dns/import.ts)', (t) => {
  const imp = merge({
    c1: [
      report({
        endpoints: [
          {
            ip: '10.90.0.2',
            hostname: 'a',
            ready: true,
            ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
          },
          { ip: '10.90.0.3', ready: false, ports: [{ name: 'http', protocol: 'TCP', port: 8081 }] },
        ],
      }),
    ],
    c2: [report({ endpoints: [{ ip: '10.90.64.2', ready: true }] })],
  });
  const want = desiredImports([ws('c2', [], imp)], (ns, slice) => ns === 'shop' && slice === SLICE);
  t.is(want.serviceImports.length, 1);
  const si = want.serviceImports[0]!;
  t.like(si, {
    apiVersion: 'multicluster.x-k8s.io/v1alpha1',
    kind: 'ServiceImport',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { type: 'ClusterSetIP', ports: [{ name: 'http', protocol: 'TCP', port: 80 }] },
    status: { clusters: [{ cluster: 'c1' }, { cluster: 'c2' }] },
  });
  t.is(want.endpointSlices.length, 3, "c1's two port sets, c2's one");
  for (const s of want.endpointSlices) {
    t.regex(s.metadata.name, /^web-c[12]-[0-9a-f]{8}$/);
    t.is(s.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'slicenet-worker.slicenet.dev');
    t.is(s.metadata.labels['kubernetes.io/service-name'], undefined, 'not the local Service');
  }
  const seen = importedService(si, want.endpointSlices);
  t.deepEqual(
    seen.endpoints.sort((a, b) => a.ip.localeCompare(b.ip)),
    [
      {
        ip: '10.90.0.2',
        cluster: 'c1',
        hostname: 'a',
        ready: true,
        ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
      },
      {
        ip: '10.90.0.3',
        cluster: 'c1',
        ready: false,
        ports: [{ name: 'http', protocol: 'TCP', port: 8081 }],
      },
      { ip: '10.90.64.2', cluster: 'c2', ready: true, ports: [{ name: 'http', protocol: 'TCP', port: 80 }] },
    ],
  );
  t.deepEqual(seen.ports, [{ name: 'http', protocol: 'TCP', port: 80 }]);
  const again = desiredImports([ws('c2', [], imp)], () => true);
  t.deepEqual(
    again.endpointSlices.map((s) => s.metadata.name),
    want.endpointSlices.map((s) => s.metadata.name),
    'stable names',
  );
});

test('imports go only to namespaces joined to their slice; a second slice importing one name is skipped', (t) => {
  const imp = merge({ c1: [report()] });
  t.deepEqual(desiredImports([ws('c1', [], imp)], () => false).serviceImports, []);
  const other = { ...ws('c1', [], imp), metadata: { name: 'zeta', namespace: 'slicenet-cluster-c1' } };
  const both = desiredImports([other, ws('c1', [], imp)], () => true);
  t.deepEqual(
    both.serviceImports.map((s) => s.metadata.labels['slicenet.dev/slice']),
    [SLICE],
  );
  t.deepEqual(both.duplicates, ['shop/web (slice zeta)']);
});
