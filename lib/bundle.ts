/**
 * Slicenet's long-running processes as single ES-module files, `dist/bin/<process>.mjs`: what a
 * container image would ship, and what the lab runs.
 *
 * Why not `node --import tsx main.ts`: tsx compiles every module in memory at start and keeps it.
 * Loading the controller's module graph that way costs 224 MB of RSS against 115 MB for the same
 * graph bundled (measured on this machine), and seconds of start-up per process. The bundle is
 * made with esbuild (about half a second), so the lab rebuilds it once per test or lab process
 * and can never run a stale one.
 *
 * Only processes without native addons or files found relative to their sources are bundled;
 * the agent and the gateway load `native/` and stay on tsx for now.
 */
import { buildSync } from 'esbuild';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');

/** Process name → its entry point, relative to the repository. */
export const BUNDLED = {
  'slicenet-controller': 'controller/main.ts',
  'slicenet-webhook': 'webhooks/main.ts',
} as const;

export type BundledProcess = keyof typeof BUNDLED;

/** Where `bundleProcess(name)` writes. */
export function bundlePath(name: BundledProcess): string {
  return join(repo, 'dist', 'bin', `${name}.mjs`);
}

/** Bundles one process (synchronously: callers start processes from plain functions). */
export function bundleProcess(name: BundledProcess): string {
  const outfile = bundlePath(name);
  buildSync({
    entryPoints: [join(repo, BUNDLED[name])],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Dependencies written as CommonJS call require(); an ES module has none of its own.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    // A linked map beside the bundle: `NODE_OPTIONS=--enable-source-maps` maps stacks to the
    // sources when debugging; always loading it would cost ~30 MB of RSS per process.
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

const built = new Set<BundledProcess>();

/** The argv that runs `name`: its bundle, built on first use in this process. */
export function processArgv(name: BundledProcess): string[] {
  if (!built.has(name)) {
    bundleProcess(name);
    built.add(name);
  }
  return [process.execPath, bundlePath(name)];
}

if (process.argv[1] === import.meta.filename) {
  for (const name of Object.keys(BUNDLED) as BundledProcess[])
    process.stdout.write(`${bundleProcess(name)}\n`);
}
