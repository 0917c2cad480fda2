/**
 * The CNI protocol through the bundled plugin against the real gRPC server, for every spec
 * version: ADD's result shape exactly as that version defines it (Multus reads `sandbox`
 * and the `ips` interface index to write network-status), CHECK, GC, STATUS, and DEL in all
 * the ways a runtime sends it.
 */
import anyTest, { type TestFn } from 'ava';
import { SUPPORTED_VERSIONS } from '../cni/versions.ts';
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

const NETNS = '/var/run/netns/test-pod';

function expectedAdd(v: string): Record<string, unknown> {
  const mtu = v === '1.1.0' ? { mtu: 1400 } : {};
  return {
    cniVersion: v,
    interfaces: [
      { name: 'slice0', mac: '02:00:00:00:00:05', sandbox: NETNS, ...mtu },
      { name: 'vs5', mac: '02:00:00:00:01:05', ...mtu },
    ],
    ips: [{ ...(v.startsWith('0.') ? { version: '4' } : {}), address: '10.90.64.5/16', interface: 0 }],
    routes: [{ dst: '10.90.0.0/16' }],
    dns: {},
  };
}

for (const v of SUPPORTED_VERSIONS) {
  test(`spec ${v}: ADD, CHECK, GC, STATUS, DEL, DEL twice, DEL without netns`, async (t) => {
    const backend = new MemoryBackend();
    const { socket } = await startAgent(t, backend);
    const run = (command: string, stdin: string, over: Record<string, string | undefined> = {}) =>
      runPlugin(t.context.bundle, { ...cniEnv(command, over), SLICENET_AGENT_SOCKET: socket }, stdin);

    const add = await run('ADD', netconf(v));
    t.is(add.exitCode, 0, add.stdout + add.stderr);
    t.deepEqual(add.json, expectedAdd(v));
    t.is(backend.attachments.size, 1);

    if (v !== '0.3.1') {
      const check = await run('CHECK', netconf(v, { prevResult: add.json }));
      t.is(check.exitCode, 0, check.stdout);
      t.is(check.stdout, '');
    }

    if (v === '1.1.0') {
      const other = await run('ADD', netconf(v), { CNI_CONTAINERID: 'stale01' });
      t.is(other.exitCode, 0, other.stdout);
      t.is(backend.attachments.size, 2);
      const valid = [{ containerID: 'c0ffee01', ifname: 'slice0' }];
      const gc = await run('GC', netconf(v, { 'cni.dev/valid-attachments': valid }), {
        CNI_CONTAINERID: undefined,
      });
      t.is(gc.exitCode, 0, gc.stdout);
      t.is(gc.stdout, '');
      t.deepEqual([...backend.attachments.keys()], ['slicenet-payments/c0ffee01/slice0']);
      const status = await run('STATUS', netconf(v), { CNI_CONTAINERID: undefined, CNI_NETNS: undefined });
      t.is(status.exitCode, 0, status.stdout);
      t.is(status.stdout, '');
    }

    const del = await run('DEL', netconf(v, { prevResult: add.json }));
    t.is(del.exitCode, 0, del.stdout);
    t.is(del.stdout, '');
    t.is(backend.attachments.size, 0);
    const again = await run('DEL', netconf(v, { prevResult: add.json }));
    t.is(again.exitCode, 0, again.stdout);
    const noNetns = await run('DEL', netconf(v), { CNI_NETNS: undefined, CNI_ARGS: undefined });
    t.is(noNetns.exitCode, 0, noNetns.stdout);

    if (v !== '0.3.1') {
      const gone = await run('CHECK', netconf(v, { prevResult: add.json }));
      t.is(gone.json?.code, 3, gone.stdout);
    }
  });
}

test('spec: a 1.1.0 config with only cniVersions speaks the highest shared version', async (t) => {
  const backend = new MemoryBackend();
  const { socket } = await startAgent(t, backend);
  const stdin = netconf('x', { cniVersion: undefined, cniVersions: ['0.4.0', '1.0.0', '9.0.0'] });
  const add = await runPlugin(t.context.bundle, { ...cniEnv('ADD'), SLICENET_AGENT_SOCKET: socket }, stdin);
  t.is(add.json?.cniVersion, '1.0.0', add.stdout);
});

test('spec: agentSocket in the netconf wins over SLICENET_AGENT_SOCKET', async (t) => {
  const { socket } = await startAgent(t, new MemoryBackend());
  const stdin = netconf('1.0.0', { agentSocket: socket });
  const add = await runPlugin(
    t.context.bundle,
    { ...cniEnv('ADD'), SLICENET_AGENT_SOCKET: '/nonexistent.sock' },
    stdin,
  );
  t.is(add.exitCode, 0, add.stdout);
});
