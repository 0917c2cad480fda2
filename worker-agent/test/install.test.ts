/** installCniPlugin puts a runnable plugin in the CNI bin dir and replaces an old one whole. */
import test from 'ava';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCniPlugin } from '../cni/install.ts';
import { buildPlugin, runPlugin } from './helpers/plugin.ts';

test('install: copies the bundle as an executable `slicenet`, atomically replacing the old one', async (t) => {
  const built = await buildPlugin();
  const bin = await mkdtemp(join(tmpdir(), 'slicenet-cnibin-'));
  t.teardown(async () => {
    await built.cleanup();
    await rm(bin, { recursive: true, force: true });
  });
  await mkdir(join(bin, 'cni'));
  await writeFile(join(bin, 'cni', 'slicenet'), 'old');
  const target = await installCniPlugin(join(bin, 'cni'), built.bundle);
  t.is(target, join(bin, 'cni', 'slicenet'));
  t.is((await stat(target)).mode & 0o777, 0o755);
  t.deepEqual(await readdir(join(bin, 'cni')), ['slicenet'], 'no temp file left');
  // Outside this repository: no package.json says "commonjs", the file must run anyway.
  const r = await runPlugin(target, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
  t.is(r.json?.cniVersion, '1.0.0', r.stdout + r.stderr);
  await installCniPlugin(join(bin, 'cni'), built.bundle);
  t.deepEqual(await readdir(join(bin, 'cni')), ['slicenet']);
});

test('install: a missing bundle says how to build it', async (t) => {
  const err = await t.throwsAsync(installCniPlugin(join(tmpdir(), 'never'), '/nonexistent/slicenet'));
  t.true(err?.message.includes('npm run build:cni'));
});
