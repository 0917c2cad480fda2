/**
 * The command line as a user meets it, run as a subprocess: each usage error exits 2 with a
 * message naming the flag or argument, before any API server is contacted (KUBECONFIG points
 * nowhere). Also: --context, an unreachable API server, and the exit codes being documented.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_CODES } from '../errors.ts';
import { cli, tokenKubeconfig } from './run.ts';

const noCluster = { KUBECONFIG: '/nonexistent/kubeconfig' };
const ok = ['--subnet', '10.90.0.0/16', '--clusters', 'a,b'];

const rows: [string, string[], RegExp][] = [
  ['no command', [], /Usage: kubectl slice <command>/],
  ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
  ['create without a name', ['create', ...ok], /missing the slice name/],
  ['unknown flag', ['create', 'x', ...ok, '--bogus'], /unknown flag --bogus for 'create'/],
  ['flag without its value', ['create', 'x', '--clusters', 'a', '--subnet'], /flag --subnet needs a value/],
  ['boolean flag with a value', ['create', 'x', ...ok, '--dry-run=yes'], /flag --dry-run takes no value/],
  ['missing subnet', ['create', 'x', '--clusters', 'a'], /missing --subnet/],
  [
    'bad CIDR',
    ['create', 'x', '--subnet', '10.1.2/3', '--clusters', 'a'],
    /--subnet: '10.1.2\/3' is not an IPv4 CIDR/,
  ],
  ['octet out of range', ['create', 'x', '--subnet', '10.300.0.0/16', '--clusters', 'a'], /--subnet/],
  ['missing clusters', ['create', 'x', '--subnet', '10.90.0.0/16'], /missing --clusters/],
  [
    'empty cluster in the list',
    ['create', 'x', '--subnet', '10.90.0.0/16', '--clusters', 'a,,b'],
    /--clusters: give a comma-separated list/,
  ],
  [
    'bad cluster name',
    ['create', 'x', '--subnet', '10.90.0.0/16', '--clusters', 'East'],
    /--clusters: cluster name 'East'/,
  ],
  ['bad slice name', ['create', 'Pay_ments', ...ok], /slice name 'Pay_ments' is not valid/],
  ['bad namespace', ['create', 'x', ...ok, '--namespaces', 'shop,Web'], /--namespaces: namespace 'Web'/],
  [
    'max-clusters too small',
    ['create', 'x', ...ok, '--max-clusters', '1'],
    /--max-clusters: expected an integer from 2 to 64/,
  ],
  [
    'priority not a number',
    ['create', 'x', ...ok, '--priority', 'high'],
    /--priority: expected an integer from 0 to 7/,
  ],
  [
    'unknown DSCP class',
    ['create', 'x', ...ok, '--guaranteed-kbps', '1', '--ceiling-kbps', '2', '--dscp', 'AF99'],
    /--dscp: expected one of Default/,
  ],
  [
    'unknown cipher',
    ['create', 'x', ...ok, '--cipher', 'rot13'],
    /--cipher: expected one of chacha20-poly1305, aes-256-gcm/,
  ],
  [
    'guaranteed without ceiling',
    ['create', 'x', ...ok, '--guaranteed-kbps', '100'],
    /--guaranteed-kbps and --ceiling-kbps go together/,
  ],
  ['unknown output format', ['get', '-o', 'xml'], /--output: expected one of table, wide, json, yaml/],
  ['get with two names', ['get', 'a', 'b'], /unexpected argument 'b'/],
  ['describe without a name', ['describe'], /missing the slice name/],
  ['delete without a name', ['delete'], /missing the slice name/],
  ['join without --slice', ['join', 'shop'], /missing --slice/],
  ['join without a namespace', ['join', '--slice', 'x'], /missing the namespace name/],
  ['leave without a namespace', ['leave'], /missing the namespace name/],
  ['register without a name', ['register'], /missing the cluster name/],
  [
    'register with a bad duration',
    ['register', 'east', '--duration', '5'],
    /--duration: expected a duration/,
  ],
  ['register with a bad server', ['register', 'east', '--server', 'hub:6443'], /--server: expected a URL/],
];

for (const [name, args, message] of rows) {
  test.serial(`usage error: ${name}`, async (t) => {
    const r = await cli(args, noCluster);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, message);
  });
}

test.serial('--help prints the command help and exits 0', async (t) => {
  const r = await cli(['create', '--help'], noCluster);
  t.is(r.code, 0);
  t.regex(r.stdout, /--subnet CIDR/);
  t.regex(r.stdout, /--kubeconfig FILE/);
});

test.serial('an unknown --context is a usage error naming the contexts there are', async (t) => {
  const r = await cli(['get', '--context', 'nope'], { KUBECONFIG: tokenKubeconfig('https://127.0.0.1:1') });
  t.is(r.code, 2);
  t.regex(r.stderr, /--context: no context 'nope' in the kubeconfig \(known: a\)/);
});

test.serial('an unreachable API server exits 1 and says where it looked', async (t) => {
  const file = tokenKubeconfig('https://127.0.0.1:1');
  for (const args of [['get'], ['get', '--kubeconfig', file]]) {
    const r = await cli(args, { KUBECONFIG: file });
    t.is(r.code, 1, r.stderr);
    t.regex(r.stderr, /cannot reach the API server at https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  }
});

test.serial('an unreadable --kubeconfig exits 1 naming the file', async (t) => {
  const r = await cli(['get', '--kubeconfig', '/nonexistent/kc']);
  t.is(r.code, 1);
  t.regex(r.stderr, /cannot load kubeconfig \/nonexistent\/kc/);
});

test('every exit code is documented in cli/README.md', (t) => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  for (const [code, exit] of Object.entries(EXIT_CODES))
    t.regex(readme, new RegExp(`\\| \`${code}\` \\| ${exit} \\|`), code);
});
