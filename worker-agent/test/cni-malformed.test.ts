/**
 * Malformed invocations of the bundled plugin: one row per refusal, each with the CNI code
 * the spec gives it and a message that names the field and what to set. None of them needs
 * an agent: the plugin refuses before calling one.
 */
import anyTest, { type TestFn } from 'ava';
import { buildPlugin, cniEnv, netconf, runPlugin, type Built } from './helpers/plugin.ts';

const test = anyTest as TestFn<Built>;

test.before(async (t) => {
  t.context = await buildPlugin();
});
test.after.always(async (t) => {
  await t.context.cleanup?.();
});

interface Row {
  name: string;
  env: Record<string, string | undefined>;
  stdin: string;
  code: number;
  /** Every one of these must be in msg. */
  says: string[];
}

const NOSOCK = { SLICENET_AGENT_SOCKET: '/nonexistent/agent.sock' };
const rows: Row[] = [
  {
    name: 'missing CNI_COMMAND',
    env: cniEnv('ADD', { CNI_COMMAND: undefined }),
    stdin: netconf('1.0.0'),
    code: 4,
    says: ['CNI_COMMAND is not set', 'ADD, DEL'],
  },
  {
    name: 'unknown command',
    env: cniEnv('FROB'),
    stdin: netconf('1.0.0'),
    code: 4,
    says: ['CNI_COMMAND "FROB"', 'one of ADD'],
  },
  {
    name: 'missing CNI_CONTAINERID',
    env: cniEnv('ADD', { CNI_CONTAINERID: undefined }),
    stdin: netconf('1.0.0'),
    code: 4,
    says: ['CNI_CONTAINERID', "container's ID"],
  },
  {
    name: 'bad CNI_CONTAINERID',
    env: cniEnv('ADD', { CNI_CONTAINERID: '-x y' }),
    stdin: netconf('1.0.0'),
    code: 4,
    says: ['CNI_CONTAINERID "-x y"', 'letter or digit'],
  },
  {
    name: 'missing CNI_NETNS on ADD',
    env: cniEnv('ADD', { CNI_NETNS: undefined }),
    stdin: netconf('1.0.0'),
    code: 4,
    says: ['ADD needs CNI_NETNS', 'network namespace'],
  },
  {
    name: 'missing CNI_NETNS on CHECK',
    env: cniEnv('CHECK', { CNI_NETNS: '' }),
    stdin: netconf('1.0.0'),
    code: 4,
    says: ['CHECK needs CNI_NETNS'],
  },
  {
    name: 'missing CNI_IFNAME',
    env: cniEnv('DEL', { CNI_IFNAME: undefined }),
    stdin: netconf('1.0.0'),
    code: 4,
    says: ['DEL needs CNI_IFNAME', 'e.g. slice0'],
  },
  {
    name: 'CNI_IFNAME too long',
    env: cniEnv('ADD', { CNI_IFNAME: 'abcdefghijklmnop' }),
    stdin: netconf('1.0.0'),
    code: 4,
    says: ['CNI_IFNAME "abcdefghijklmnop"', '1-15 bytes'],
  },
  {
    name: 'CNI_IFNAME with a slash',
    env: cniEnv('ADD', { CNI_IFNAME: 'a/b' }),
    stdin: netconf('1.0.0'),
    code: 4,
    says: ['CNI_IFNAME "a/b"'],
  },
  {
    name: 'malformed CNI_ARGS',
    env: cniEnv('ADD', { CNI_ARGS: 'K8S_POD_NAMESPACE' }),
    stdin: netconf('1.0.0'),
    code: 4,
    says: ['CNI_ARGS: "K8S_POD_NAMESPACE" is not KEY=VALUE', "separated by ';'"],
  },
  {
    name: 'CNI_ARGS with an empty key',
    env: cniEnv('DEL', { CNI_ARGS: 'a=b;=c' }),
    stdin: netconf('1.0.0'),
    code: 4,
    says: ['CNI_ARGS: "=c"'],
  },
  {
    name: 'ADD without the pod namespace',
    env: cniEnv('ADD', { CNI_ARGS: 'K8S_POD_NAME=web-0' }),
    stdin: netconf('1.0.0'),
    code: 4,
    says: ['K8S_POD_NAMESPACE', 'through Multus'],
  },
  {
    name: 'empty stdin',
    env: cniEnv('ADD'),
    stdin: '',
    code: 6,
    says: ['no network configuration on stdin'],
  },
  { name: 'bad JSON', env: cniEnv('ADD'), stdin: '{"cniVersion":', code: 6, says: ['not JSON'] },
  {
    name: 'JSON that is not an object',
    env: cniEnv('ADD'),
    stdin: '[1]',
    code: 6,
    says: ['must be a JSON object'],
  },
  {
    name: 'missing type',
    env: cniEnv('ADD'),
    stdin: netconf('1.0.0', { type: undefined }),
    code: 7,
    says: ['type: must be "slicenet", got nothing'],
  },
  {
    name: 'other type',
    env: cniEnv('ADD'),
    stdin: netconf('1.0.0', { type: 'bridge' }),
    code: 7,
    says: ['type: must be "slicenet", got "bridge"'],
  },
  {
    name: 'missing slice',
    env: cniEnv('ADD'),
    stdin: netconf('1.0.0', { slice: undefined }),
    code: 7,
    says: ['slice: required', '"slice":"payments"'],
  },
  {
    name: 'bad slice name',
    env: cniEnv('ADD'),
    stdin: netconf('1.0.0', { slice: 'Pay_ments' }),
    code: 7,
    says: ['slice: "Pay_ments" is not a slice name'],
  },
  {
    name: 'relative agentSocket',
    env: cniEnv('ADD'),
    stdin: netconf('1.0.0', { agentSocket: 'agent.sock' }),
    code: 7,
    says: ['agentSocket: must be an absolute path'],
  },
  {
    name: 'an ipam section',
    env: cniEnv('ADD'),
    stdin: netconf('1.0.0', { ipam: { type: 'host-local' } }),
    code: 2,
    says: ['ipam:', 'host-local', 'remove it'],
  },
  {
    name: 'missing cniVersion',
    env: cniEnv('ADD'),
    stdin: netconf('1.0.0', { cniVersion: undefined }),
    code: 7,
    says: ['cniVersion: required', '0.3.1, 0.4.0, 1.0.0, 1.1.0'],
  },
  {
    name: 'unsupported cniVersion',
    env: cniEnv('ADD'),
    stdin: netconf('0.2.0'),
    code: 1,
    says: ['cniVersion "0.2.0" is not supported', '1.1.0'],
  },
  {
    name: 'cniVersions with none of ours',
    env: cniEnv('ADD'),
    stdin: netconf('1.0.0', { cniVersion: undefined, cniVersions: ['2.0.0'] }),
    code: 1,
    says: ['["2.0.0"] is not supported'],
  },
  {
    name: 'CHECK on 0.3.1',
    env: cniEnv('CHECK'),
    stdin: netconf('0.3.1', { prevResult: {} }),
    code: 1,
    says: ['CHECK is not part of CNI 0.3.1', '0.4.0 or later'],
  },
  {
    name: 'STATUS on 1.0.0',
    env: cniEnv('STATUS'),
    stdin: netconf('1.0.0'),
    code: 1,
    says: ['STATUS is not part of CNI 1.0.0', '1.1.0 or later'],
  },
  {
    name: 'GC on 0.4.0',
    env: cniEnv('GC'),
    stdin: netconf('0.4.0', { 'cni.dev/valid-attachments': [] }),
    code: 1,
    says: ['GC is not part of CNI 0.4.0'],
  },
  {
    name: 'CHECK without prevResult',
    env: cniEnv('CHECK'),
    stdin: netconf('1.0.0'),
    code: 7,
    says: ['prevResult: required on CHECK'],
  },
  {
    name: 'CHECK with a prevResult for another netns',
    env: cniEnv('CHECK'),
    stdin: netconf('1.0.0', { prevResult: { interfaces: [{ name: 'slice0', sandbox: '/other' }] } }),
    code: 7,
    says: ['prevResult: lists no interface "slice0"'],
  },
  {
    name: 'GC without valid attachments',
    env: cniEnv('GC'),
    stdin: netconf('1.1.0'),
    code: 7,
    says: ['cni.dev/valid-attachments: required on GC'],
  },
  {
    name: 'GC with a bad attachment',
    env: cniEnv('GC'),
    stdin: netconf('1.1.0', { 'cni.dev/valid-attachments': [{ containerID: 'a' }] }),
    code: 7,
    says: ['cni.dev/valid-attachments[0].ifname'],
  },
];

for (const row of rows) {
  test(`malformed: ${row.name} → code ${row.code}`, async (t) => {
    const r = await runPlugin(t.context.bundle, { ...row.env, ...NOSOCK }, row.stdin);
    t.is(r.exitCode, 1, r.stdout + r.stderr);
    t.is(r.json?.code, row.code, r.stdout);
    t.is(typeof r.json?.cniVersion, 'string');
    for (const s of row.says)
      t.true(String(r.json?.msg).includes(s), `msg ${JSON.stringify(r.json?.msg)} has ${s}`);
    t.is(r.stderr, '');
  });
}

test('malformed: the error speaks the config version when it is one of ours', async (t) => {
  const r = await runPlugin(t.context.bundle, cniEnv('ADD', { CNI_ARGS: 'bad' }), netconf('0.4.0'));
  t.is(r.json?.cniVersion, '0.4.0');
  const u = await runPlugin(t.context.bundle, cniEnv('ADD'), netconf('9.9.9'));
  t.is(u.json?.cniVersion, '1.1.0');
});
