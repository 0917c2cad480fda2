/**
 * Failures on the agent side, as the runtime sees them: no agent (fast code 11, STATUS 50),
 * an agent that crashed and left its socket file, and each backend refusal mapped to its
 * CNI code with the agent's message.
 */
import anyTest, { type TestFn } from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentError } from '../errors.ts';
import { startAgent } from './helpers/agent.ts';
import { MemoryBackend } from './helpers/backend.ts';
import { buildPlugin, cniEnv, netconf, runPlugin, type Built } from './helpers/plugin.ts';

const test = anyTest as TestFn<Built>;

test.before(async (t) => {
  t.context = await buildPlugin();
});
test.after.always(async (t) => {
  await t.context.cleanup?.();
});

test.serial('agent down: ADD fails with 11 in well under a second, naming the socket', async (t) => {
  const socket = join(t.context.dir, 'absent.sock');
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await runPlugin(
      t.context.bundle,
      { ...cniEnv('ADD'), SLICENET_AGENT_SOCKET: socket },
      netconf('1.0.0'),
    );
    t.is(r.json?.code, 11, r.stdout);
    t.true(String(r.json?.msg).includes(socket));
    t.true(String(r.json?.msg).includes('try again later'));
    times.push(r.ms);
  }
  t.true(Math.min(...times) < 1000, `ADD took ${times.map(Math.round).join(', ')} ms`);
});

test.serial('agent down: STATUS is 50, DEL and GC are 11', async (t) => {
  const env = { SLICENET_AGENT_SOCKET: join(t.context.dir, 'absent.sock') };
  const status = await runPlugin(t.context.bundle, { ...cniEnv('STATUS'), ...env }, netconf('1.1.0'));
  t.is(status.json?.code, 50, status.stdout);
  t.regex(String(status.json?.msg), /not available/);
  const del = await runPlugin(t.context.bundle, { ...cniEnv('DEL'), ...env }, netconf('1.1.0'));
  t.is(del.json?.code, 11, del.stdout);
  const gc = await runPlugin(
    t.context.bundle,
    { ...cniEnv('GC'), ...env },
    netconf('1.1.0', { 'cni.dev/valid-attachments': [] }),
  );
  t.is(gc.json?.code, 11, gc.stdout);
});

test.serial('agent crashed, socket file left behind: ADD fails with 11 fast', async (t) => {
  const socket = join(t.context.dir, 'stale.sock');
  // A listener killed with SIGKILL leaves its socket file, as a crashed agent does.
  const child = spawn(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  await new Promise((resolve) => child.once('exit', resolve));
  t.true(existsSync(socket));
  const r = await runPlugin(
    t.context.bundle,
    { ...cniEnv('ADD'), SLICENET_AGENT_SOCKET: socket },
    netconf('1.0.0'),
  );
  t.is(r.json?.code, 11, r.stdout);
  t.true(r.ms < 1500, `${Math.round(r.ms)} ms`);
});

test.serial('agent not ready: STATUS is 50 with its reason, ADD is 11', async (t) => {
  const backend = new MemoryBackend();
  backend.ready = false;
  const { socket } = await startAgent(t, backend);
  const env = { SLICENET_AGENT_SOCKET: socket };
  const status = await runPlugin(t.context.bundle, { ...cniEnv('STATUS'), ...env }, netconf('1.1.0'));
  t.is(status.json?.code, 50, status.stdout);
  t.true(String(status.json?.msg).includes('slices not loaded yet'));
  backend.failNext = new AgentError('NOT_READY', 'state not loaded');
  const add = await runPlugin(t.context.bundle, { ...cniEnv('ADD'), ...env }, netconf('1.1.0'));
  t.is(add.json?.code, 11, add.stdout);
});

const refusals: [string, (b: MemoryBackend) => void, string, number, string][] = [
  [
    'namespace not joined',
    (b) => b.joined.clear(),
    'ADD',
    101,
    'namespace shop has not joined slice payments',
  ],
  [
    'no free address',
    (b) => (b.failNext = new AgentError('POOL_EXHAUSTED', 'no free address in 10.90.64.0/20')),
    'ADD',
    102,
    '10.90.64.0/20',
  ],
  ['unknown slice', (b) => b.slices.clear(), 'ADD', 7, 'slice payments is not on this node'],
  [
    'invalid request',
    (b) => (b.failNext = new AgentError('INVALID_REQUEST', 'netns: not a namespace')),
    'ADD',
    7,
    'netns: not a namespace',
  ],
  ['a bug in the backend', (b) => (b.failNext = new AgentError('INTERNAL', 'boom')), 'ADD', 999, 'boom'],
  [
    'something thrown that is no AgentError',
    (b) => (b.failNext = new TypeError('x is undefined') as AgentError),
    'ADD',
    999,
    'x is undefined',
  ],
  [
    'check drifted',
    (b) => (b.failNext = new AgentError('CHECK_FAILED', 'slice0 has lost 10.90.64.5/16')),
    'CHECK',
    103,
    'lost',
  ],
  ['DEL of an unknown attachment', (b) => (b.failNext = new AgentError('NOT_FOUND', 'gone')), 'DEL', 0, ''],
];

for (const [name, arrange, command, code, says] of refusals) {
  test(`backend refuses: ${name} → ${code}`, async (t) => {
    const backend = new MemoryBackend();
    const { socket } = await startAgent(t, backend);
    arrange(backend);
    const prevResult = { interfaces: [{ name: 'slice0', sandbox: '/var/run/netns/test-pod' }] };
    const r = await runPlugin(
      t.context.bundle,
      { ...cniEnv(command), SLICENET_AGENT_SOCKET: socket },
      netconf('1.0.0', command === 'CHECK' ? { prevResult } : {}),
    );
    if (code === 0) {
      t.is(r.exitCode, 0, r.stdout);
      return;
    }
    t.is(r.exitCode, 1);
    t.is(r.json?.code, code, r.stdout);
    t.true(String(r.json?.msg).includes(says), r.stdout);
    t.regex(String(r.json?.details), /^agent [A-Z_]+/);
  });
}

test('backend refuses: the server outlives the refusals', async (t) => {
  const backend = new MemoryBackend();
  const { socket } = await startAgent(t, backend);
  backend.failNext = new AgentError('INTERNAL', 'boom');
  await runPlugin(t.context.bundle, { ...cniEnv('ADD'), SLICENET_AGENT_SOCKET: socket }, netconf('1.0.0'));
  await sleep(10);
  const ok = await runPlugin(
    t.context.bundle,
    { ...cniEnv('ADD'), SLICENET_AGENT_SOCKET: socket },
    netconf('1.0.0'),
  );
  t.is(ok.exitCode, 0, ok.stdout);
});
