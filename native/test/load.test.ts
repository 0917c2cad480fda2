// Loading: a missing build is a clear error that names the fix, not a bare MODULE_NOT_FOUND.
import test from 'ava';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const repo = new URL('../../', import.meta.url).pathname;

test('without the .node file, first use throws NATIVE_NOT_BUILT naming npm run build:native', async (t) => {
  // A copy of native/ without build/ (and the one lib file it imports), so the real build is untouched.
  const dir = await mkdtemp(join(tmpdir(), 'sn-native-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'native'));
  await mkdir(join(dir, 'lib'));
  // Every source file of native/ (not its tests or build), so a new module cannot be missed.
  for (const f of (await readdir(join(repo, 'native'))).filter((name) => name.endsWith('.ts')))
    await cp(join(repo, 'native', f), join(dir, 'native', f));
  await cp(join(repo, 'lib/errors.ts'), join(dir, 'lib/errors.ts'));
  await writeFile(join(dir, 'package.json'), '{"type":"module"}');
  const script = `import(${JSON.stringify(join(dir, 'native/index.ts'))}).then((m) => {
    try { new m.AeadKey('aes-256-gcm', Buffer.alloc(32)); console.log('loaded'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
  })`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: repo,
  });
  const got = JSON.parse(stdout.trim()) as { code: string; message: string };
  t.is(got.code, 'NATIVE_NOT_BUILT');
  t.regex(got.message, /npm run build:native/);
});
