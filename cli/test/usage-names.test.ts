/**
 * Names and argument counts on every command that takes a slice or a namespace: a name that
 * cannot exist, or one argument too many, exits 2 naming it before the kubeconfig is read
 * (KUBECONFIG points nowhere, so reading it would exit 1 instead).
 */
import test from 'ava';
import { cli } from './run.ts';

const rows: [string, string[], RegExp][] = [
  ...['get', 'status', 'describe', 'delete', 'diagnose', 'bench'].map((c): [string, string[], RegExp] => [
    `${c} of a slice name that cannot exist`,
    [c, 'Pay_ments'],
    /slice name 'Pay_ments' is not valid: use lower-case letters, digits and '-', at most 40/,
  ]),
  [
    'status of two slices',
    ['status', 'a', 'b'],
    /unexpected argument 'b': kubectl slice status takes at most one/,
  ],
  [
    'describe of two slices',
    ['describe', 'a', 'b'],
    /unexpected argument 'b': kubectl slice describe takes one/,
  ],
  ['delete of two slices', ['delete', 'a', 'b'], /unexpected argument 'b'/],
  ['join of a bad namespace', ['join', 'Shop_1', '--slice', 'demo'], /namespace name 'Shop_1' is not valid/],
  ['leave of a bad namespace', ['leave', 'Shop_1'], /namespace name 'Shop_1' is not valid/],
  ['leave of two namespaces', ['leave', 'a', 'b'], /unexpected argument 'b'/],
  ...['get', 'status', 'describe x', 'delete x', 'diagnose x', 'bench x', 'register east'].map(
    (c): [string, string[], RegExp] => [
      `${c} in a hub namespace that cannot exist`,
      [...c.split(' '), '-n', 'Slicenet_System'],
      /--hub-namespace\/-n: namespace 'Slicenet_System' is not valid/,
    ],
  ),
  ['status with a bad output', ['status', '-o', 'xml'], /--output: expected one of table, wide, json, yaml/],
];

const noCluster = { KUBECONFIG: '/nonexistent/kubeconfig' };

for (const [name, args, message] of rows) {
  test.serial(`usage error: ${name}`, async (t) => {
    t.timeout(180_000);
    const r = await cli(args, noCluster);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr, message);
  });
}
