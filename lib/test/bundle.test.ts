/**
 * Every process the lab and the installer run from dist/bin/ starts from its bundle: bundled,
 * then run with a flag it does not know, it must reach its own flag parsing and say so (a
 * bundle that cannot load — a clashing banner, a missing asset — dies with a SyntaxError or a
 * module error first). The gateways' bundles find the native addon copied beside them.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BUNDLED, bundleProcess, type BundledProcess } from '../bundle.ts';

for (const name of Object.keys(BUNDLED) as BundledProcess[]) {
  test(`${name}: the bundle starts and refuses an unknown flag by name`, (t) => {
    const file = bundleProcess(name);
    const r = spawnSync(process.execPath, [file, '--no-such-flag'], { encoding: 'utf8', timeout: 30_000 });
    t.not(r.status, 0, r.stdout);
    t.regex(r.stderr, /--no-such-flag/);
    t.notRegex(r.stderr, /SyntaxError|ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
  });
}

test('the gateway bundles load the native addon copied beside them', (t) => {
  const file = bundleProcess('slicenet-gateway');
  const addon = join(dirname(file), 'build', 'Release', 'slicenet_native.node');
  t.true(existsSync(addon), addon);
  const binding = createRequire(import.meta.url)(addon) as { groCoalesce?: unknown; gsoSplit?: unknown };
  t.is(typeof binding.gsoSplit, 'function');
  t.is(typeof binding.groCoalesce, 'function');
});
