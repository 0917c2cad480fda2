/**
 * `kubectl slice export` / `unexport` as a user meets them: usage errors exit 2 before any API
 * server is contacted, an unreachable cluster exits 1 saying where it looked; and how `status`
 * shows exports' conditions. The API-server paths (namespace not joined, Service missing,
 * created, already there, unexported) are in dns/test/kube-source.e2e.test.ts.
 */
import test from 'ava';
import { exportReport, exportRows } from '../commands/status.ts';
import { cli, tokenKubeconfig } from './run.ts';

const noCluster = { KUBECONFIG: '/nonexistent/kubeconfig' };

const rows: [string, string[], RegExp][] = [
  [
    'export without a service',
    ['export', '-n', 'shop'],
    /missing the service name: kubectl slice export <service>/,
  ],
  ['export of two services', ['export', 'web', 'api'], /unexpected argument 'api'/],
  ['export with a bad service name', ['export', 'Web_1', '-n', 'shop'], /service name 'Web_1' is not valid/],
  ['export with a bad namespace', ['export', 'web', '-n', 'Shop'], /-n: namespace 'Shop' is not valid/],
  ['export with an unknown flag', ['export', 'web', '--slice', 'demo'], /unknown flag --slice for 'export'/],
  ['unexport without a service', ['unexport'], /missing the service name: kubectl slice unexport/],
];

for (const [name, args, message] of rows) {
  test.serial(`usage error: ${name}`, async (t) => {
    const r = await cli(args, noCluster);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, message);
  });
}

test.serial('an unreachable cluster exits 1 naming the API server', async (t) => {
  const file = tokenKubeconfig('https://127.0.0.1:1', { context: 'c1', namespace: 'shop' });
  for (const args of [
    ['export', 'web', '--context', 'c1'],
    ['unexport', 'web', '-n', 'shop'],
  ]) {
    const r = await cli([...args, '--kubeconfig', file], noCluster);
    t.is(r.code, 1, r.stderr);
    t.regex(r.stderr, /cannot reach the API server at https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  }
});

test('status: the conditions of an export, and the reason of the one that is not as it should be', (t) => {
  const ok = exportReport('c1', {
    metadata: { name: 'web', namespace: 'shop' },
    status: {
      conditions: [
        { type: 'Valid', status: 'True', reason: 'Valid' },
        { type: 'Ready', status: 'True', reason: 'Exported' },
        { type: 'Conflict', status: 'False', reason: 'NoConflict', message: 'no conflict' },
      ],
    },
  });
  t.deepEqual(ok, {
    cluster: 'c1',
    namespace: 'shop',
    service: 'web',
    valid: 'True',
    ready: 'True',
    conflict: 'False',
  });
  const missing = exportReport('c2', {
    metadata: { name: 'db', namespace: 'shop' },
    status: {
      conditions: [
        {
          type: 'Valid',
          status: 'False',
          reason: 'ServiceNotFound',
          message: 'service shop/db does not exist',
        },
        { type: 'Ready', status: 'False', reason: 'Invalid' },
      ],
    },
  });
  t.is(missing.message, 'ServiceNotFound: service shop/db does not exist');
  const conflict = exportReport('c2', {
    metadata: { name: 'web', namespace: 'shop' },
    status: {
      conditions: [{ type: 'Conflict', status: 'True', reason: 'PortConflict', message: 'port http' }],
    },
  });
  t.like(conflict, {
    valid: 'Unknown',
    ready: 'Unknown',
    conflict: 'True',
    message: 'PortConflict: port http',
  });
  const fresh = exportReport('c1', { metadata: { name: 'new', namespace: 'shop' } });
  t.like(fresh, { valid: 'Unknown', ready: 'Unknown', conflict: 'False' });
  t.deepEqual(exportRows({ slice: 'demo', ready: 'True', clusters: [], exports: [ok, missing] }), [
    ['demo', 'c1', 'shop/web', 'True', 'True', 'False', '-'],
    ['demo', 'c2', 'shop/db', 'False', 'False', 'False', 'ServiceNotFound: service shop/db does not exist'],
  ]);
});
