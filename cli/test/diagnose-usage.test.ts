/**
 * diagnose and bench on the command line, run as a subprocess: bad flags exit 2 naming the
 * flag before any cluster is contacted; an unreachable API server exits 1 saying where the
 * CLI looked (issue 7, acceptance 4).
 */
import test from 'ava';
import { dirname, join } from 'node:path';
import { cli, tokenKubeconfig } from './run.ts';

const noCluster = { KUBECONFIG: '/nonexistent/kubeconfig' };

const rows: [string, string[], RegExp][] = [
  ['diagnose without a slice', ['diagnose'], /missing the slice name: kubectl slice diagnose <slice>/],
  ['diagnose with two slices', ['diagnose', 'a', 'b'], /unexpected argument 'b'/],
  ['diagnose with an unknown flag', ['diagnose', 'a', '--fast'], /unknown flag --fast for 'diagnose'/],
  [
    'diagnose with an unknown check',
    ['diagnose', 'a', '--checks', 'mtu,dns'],
    /--checks: unknown check 'dns'/,
  ],
  [
    'diagnose with an empty check',
    ['diagnose', 'a', '--checks', 'mtu,'],
    /--checks: give a comma-separated list/,
  ],
  [
    'diagnose with a bad port',
    ['diagnose', 'a', '--agent-port', '0'],
    /--agent-port: expected an integer from 1/,
  ],
  ['diagnose with a bad output', ['diagnose', 'a', '-o', 'xml'], /--output: expected one of table/],
  ['bench without a slice', ['bench'], /missing the slice name: kubectl slice bench <slice>/],
  [
    'bench with a zero duration',
    ['bench', 'a', '--duration', '0'],
    /--duration: expected an integer from 1 to 60/,
  ],
  [
    'bench with a long duration',
    ['bench', 'a', '--duration', '600'],
    /--duration: expected an integer from 1 to 60/,
  ],
  [
    'bench with a word for a port',
    ['bench', 'a', '--port', 'iperf'],
    /--port: expected an integer from 1 to 65535/,
  ],
  [
    'bench from and to one cluster',
    ['bench', 'a', '--from', 'c1', '--to', 'c1'],
    /--from and --to name the same/,
  ],
  ['bench with --from and no value', ['bench', 'a', '--from'], /flag --from needs a value/],
];

for (const [name, args, message] of rows) {
  test.serial(`usage error: ${name}`, async (t) => {
    const r = await cli(args, noCluster);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, message);
  });
}

test.serial('diagnose and bench against an unreachable API server exit 1 and name it', async (t) => {
  t.timeout(300_000);
  const file = tokenKubeconfig('https://127.0.0.1:1');
  for (const args of [
    ['diagnose', 'demo'],
    ['bench', 'demo'],
  ]) {
    const r = await cli([...args, '--kubeconfig', file]);
    t.is(r.code, 1, r.stderr);
    t.regex(r.stderr, /cannot reach the API server at https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  }
  const missing = await cli(['diagnose', 'demo', '--kubeconfig', join(dirname(file), 'nope')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /cannot load kubeconfig/);
});
