/**
 * The agent's gRPC server on its own, with a plain grpc-js client built from agent.proto:
 * bad fields answered INVALID_ARGUMENT naming the field, errors carried with their agent
 * code, the socket file's mode and life cycle.
 */
import test, { type ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveAgent } from '../agent/server.ts';
import type { AttachRequest, AttachResult } from '../api.ts';
import { AGENT_ERROR_METADATA_KEY, AgentError } from '../errors.ts';
import { startAgent } from './helpers/agent.ts';
import { MemoryBackend } from './helpers/backend.ts';

const PROTO = fileURLToPath(new URL('../proto/agent.proto', import.meta.url));
const Agent = grpc.loadPackageDefinition(loadSync(PROTO, { keepCase: true, defaults: true }))
  .slicenet as unknown as {
  agent: { v1: { Agent: grpc.ServiceClientConstructor } };
};

type Unary = (req: object, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

function client(t: ExecutionContext, socket: string): Record<string, Unary> {
  const c = new Agent.agent.v1.Agent(`unix:${socket}`, grpc.credentials.createInsecure());
  t.teardown(() => c.close());
  return c as unknown as Record<string, Unary>;
}

const callP = (c: Record<string, Unary>, method: string, req: object): Promise<unknown> =>
  new Promise((resolve, reject) => c[method]!.call(c, req, (err, res) => (err ? reject(err) : resolve(res))));

const good = {
  container_id: 'c0ffee01',
  netns: '/var/run/netns/p',
  ifname: 'slice0',
  slice: 'payments',
  network_name: 'slicenet-payments',
  pod_namespace: 'shop',
  pod_name: 'web-0',
};

const bad: [string, string, object, string][] = [
  ['Add', 'empty container_id', { ...good, container_id: '' }, 'container_id: required'],
  ['Add', 'container_id syntax', { ...good, container_id: '../x' }, 'container_id: "../x"'],
  ['Add', 'empty ifname', { ...good, ifname: '' }, 'ifname: required'],
  ['Add', 'ifname of 16 chars', { ...good, ifname: 'a234567890123456' }, 'ifname: "a234567890123456"'],
  ['Add', 'ifname with a space', { ...good, ifname: 'slice 0' }, 'ifname: "slice 0"'],
  ['Add', 'ifname ..', { ...good, ifname: '..' }, 'ifname: ".."'],
  ['Add', 'empty netns', { ...good, netns: '' }, 'netns: required on Add'],
  ['Check', 'empty netns', { ...good, netns: '' }, 'netns: required on Check'],
  ['Add', 'relative netns', { ...good, netns: 'netns/p' }, 'netns: "netns/p" must be an absolute path'],
  ['Add', 'empty slice', { ...good, slice: '' }, 'slice: required on Add'],
  ['Add', 'empty network_name', { ...good, network_name: '' }, 'network_name: required'],
  ['Add', 'empty pod_namespace', { ...good, pod_namespace: '' }, 'pod_namespace: required on Add'],
  ['Add', 'empty pod_name', { ...good, pod_name: '' }, 'pod_name: required on Add'],
  ['Del', 'empty container_id', { ...good, container_id: '' }, 'container_id: required'],
  ['Gc', 'empty network_name', { slice: 'payments', valid: [] }, 'network_name: required'],
  [
    'Gc',
    'bad attachment',
    { network_name: 'n', valid: [{ container_id: 'a', ifname: '' }] },
    'valid[0].ifname: required',
  ],
];

for (const [method, name, req, says] of bad) {
  test(`server: ${method} with ${name} → INVALID_ARGUMENT`, async (t) => {
    const backend = new MemoryBackend();
    const { socket } = await startAgent(t, backend);
    const err = await t.throwsAsync<grpc.ServiceError>(callP(client(t, socket), method, req));
    t.is(err?.code, grpc.status.INVALID_ARGUMENT);
    t.true(err?.details.startsWith(says), err?.details);
    t.deepEqual(err?.metadata.get(AGENT_ERROR_METADATA_KEY), ['INVALID_REQUEST']);
    t.deepEqual(backend.calls, [], 'the backend never saw it');
  });
}

test('server: Del without netns reaches the backend', async (t) => {
  const backend = new MemoryBackend();
  const { socket } = await startAgent(t, backend);
  await callP(client(t, socket), 'Del', { ...good, netns: '', pod_namespace: '', pod_name: '', slice: '' });
  t.deepEqual(backend.calls, ['del']);
});

test('server: Add returns the backend result; errors carry gRPC status and agent code', async (t) => {
  const backend = new MemoryBackend();
  const { socket } = await startAgent(t, backend);
  const c = client(t, socket);
  const res = (await callP(c, 'Add', good)) as Record<string, unknown>;
  t.like(res, { ifname: 'slice0', address: '10.90.64.5/16', mtu: 1400, host_ifname: 'vs5' });
  const cases: [AgentError, grpc.status][] = [
    [new AgentError('NOT_JOINED', 'x'), grpc.status.FAILED_PRECONDITION],
    [new AgentError('POOL_EXHAUSTED', 'x'), grpc.status.RESOURCE_EXHAUSTED],
    [new AgentError('UNKNOWN_SLICE', 'x'), grpc.status.NOT_FOUND],
    [new AgentError('NOT_READY', 'x'), grpc.status.UNAVAILABLE],
  ];
  for (const [e, code] of cases) {
    backend.failNext = e;
    const err = await t.throwsAsync<grpc.ServiceError>(callP(c, 'Add', good));
    t.is(err?.code, code, e.code);
    t.deepEqual(err?.metadata.get(AGENT_ERROR_METADATA_KEY), [e.code]);
  }
});

test('server: the backend sees the caller hang up through its signal', async (t) => {
  let seen: AbortSignal | undefined;
  const backend = new MemoryBackend();
  backend.add = (_req: AttachRequest, signal: AbortSignal) => {
    seen = signal;
    return new Promise<AttachResult>((_resolve, reject) =>
      signal.addEventListener('abort', () => reject(new Error('aborted'))),
    );
  };
  const { socket } = await startAgent(t, backend);
  const c = new Agent.agent.v1.Agent(`unix:${socket}`, grpc.credentials.createInsecure());
  t.teardown(() => c.close());
  const err = await new Promise<grpc.ServiceError>((resolve) =>
    (
      c as unknown as {
        Add: (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError) => void) => void;
      }
    ).Add(good, new grpc.Metadata(), { deadline: Date.now() + 200 }, resolve),
  );
  t.is(err.code, grpc.status.DEADLINE_EXCEEDED);
  await new Promise((r) => setTimeout(r, 50));
  t.true(seen?.aborted);
});

async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'slicenet-sock-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('server: socket is 0600, replaces a stale file, and is removed at close', async (t) => {
  const socket = join(await tempDir(t), 'agent.sock');
  // A listener killed with SIGKILL leaves its socket file behind, as a crashed agent does.
  const crashed = spawnSync(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  t.is(crashed.signal, 'SIGKILL');
  t.true(existsSync(socket));
  const abort = new AbortController();
  const server = await serveAgent(socket, new MemoryBackend(), abort.signal);
  t.is((await lstat(socket)).mode & 0o777, 0o600);
  await callP(client(t, socket), 'Status', {});
  abort.abort();
  await server.close();
  t.false(existsSync(socket));
});

test('server: refuses a path another agent serves, and a path that is not a socket', async (t) => {
  const { socket } = await startAgent(t, new MemoryBackend());
  const err = await t.throwsAsync(serveAgent(socket, new MemoryBackend(), new AbortController().signal));
  t.true(err?.message.includes('another process is serving'));
  const file = join(await tempDir(t), 'file');
  await writeFile(file, 'x');
  const err2 = await t.throwsAsync(serveAgent(file, new MemoryBackend(), new AbortController().signal));
  t.true(err2?.message.includes('is not a socket'));
});
