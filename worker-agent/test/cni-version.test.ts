/**
 * VERSION: answers in the version asked, lists exactly the supported ones, works without a
 * config, and never loads the gRPC client (a socket and the plugin's own HTTP/2, http2.ts). No
 * command loads node:http2, whose set-up was ~10 ms of the plugin's start-up. The
 * plugin does not read NODE_EXTRA_CA_CERTS, which costs every Node start ~50 ms of CPU.
 */
import anyTest, { type TestFn } from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runRaw } from '../../lib/exec.ts';
import { buildPlugin, cniEnv, netconf, runPlugin, type Built } from './helpers/plugin.ts';

const test = anyTest as TestFn<Built & { probe: string }>;

// Prints every module the plugin requires, so a test can see whether gRPC was loaded.
const PROBE = `const M = require('module'); const load = M._load; const seen = new Set();
M._load = function (req, ...rest) { seen.add(req); return load.call(this, req, ...rest); };
process.on('exit', () => process.stderr.write('LOADED ' + [...seen].join(',')));`;

test.before(async (t) => {
  const built = await buildPlugin();
  const probe = join(built.dir, 'probe.cjs');
  await writeFile(probe, PROBE);
  t.context = { ...built, probe };
});
test.after.always(async (t) => {
  await t.context.cleanup?.();
});

const ALL = ['0.3.1', '0.4.0', '1.0.0', '1.1.0'];

for (const v of ALL) {
  test(`version: asked in ${v}`, async (t) => {
    const r = await runPlugin(
      t.context.bundle,
      { CNI_COMMAND: 'VERSION' },
      JSON.stringify({ cniVersion: v }),
    );
    t.is(r.exitCode, 0);
    t.deepEqual(r.json, { cniVersion: v, supportedVersions: ALL });
  });
}

test('version: without a config, or in a version not ours, answers in 1.1.0', async (t) => {
  for (const stdin of ['', '{"cniVersion":"0.2.0"}', 'not json']) {
    const r = await runPlugin(t.context.bundle, { CNI_COMMAND: 'VERSION' }, stdin);
    t.deepEqual(r.json, { cniVersion: '1.1.0', supportedVersions: ALL }, stdin);
  }
});

test('version: loads no gRPC client; ADD does, without node:http2', async (t) => {
  const opts = { NODE_OPTIONS: `--require ${t.context.probe}` };
  const version = await runPlugin(t.context.bundle, { CNI_COMMAND: 'VERSION', ...opts }, '');
  t.regex(version.stderr, /^LOADED /);
  t.false(/\bnet\b|http2/.test(version.stderr), version.stderr);
  // ADD to a socket that refuses still loads the client before it fails.
  const add = await runPlugin(
    t.context.bundle,
    { ...cniEnv('ADD'), ...opts, SLICENET_AGENT_SOCKET: t.context.probe },
    netconf('1.0.0'),
  );
  t.is(add.json?.code, 11, add.stdout);
  t.regex(add.stderr, /\bnet\b/);
  t.false(add.stderr.includes('http2'), add.stderr);
});

test('start-up: NODE_EXTRA_CA_CERTS is not read (the plugin makes no TLS connection)', async (t) => {
  // Node warns on stderr when the file cannot be loaded: the warning shows it was read.
  const missing = join(t.context.dir, 'no-such-ca.pem');
  const r = await runPlugin(t.context.bundle, { CNI_COMMAND: 'VERSION', NODE_EXTRA_CA_CERTS: missing }, '');
  t.is(r.exitCode, 0, r.stderr);
  t.false(r.stderr.includes(missing), r.stderr);
  // The same file does reach a plain Node, so the check above can fail.
  const plain = await runRaw(['node', '-e', '0'], { env: { ...process.env, NODE_EXTRA_CA_CERTS: missing } });
  t.true(plain.stderr.includes(missing), plain.stderr);
});
