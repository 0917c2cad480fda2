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
 * A file a process reads relative to its source (`ASSETS`) is copied to the same place relative
 * to the bundle: `dist/bin/` sits two levels deep like `worker-agent/agent/`, so
 * `../proto/agent.proto` finds `dist/proto/agent.proto`. The gateway loads the `native/` addon
 * by a path relative to its source and stays on tsx for now.
 *
 * Outputs are written under temporary names and renamed, so a process started from another test
 * or lab meanwhile runs the old bundle or the new one, never a half-written file.
 */
import { buildSync } from 'esbuild';
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const repo = join(import.meta.dirname, '..');

/** Process name → its entry point, relative to the repository. */
export const BUNDLED = {
  'slicenet-controller': 'controller/main.ts',
  'slicenet-webhook': 'webhooks/main.ts',
  'slicenet-agent': 'worker-agent/main.ts',
  'slicenet-netop': 'netop/main.ts',
  'slicenet-gateway': 'slice-gateway/main.ts',
  // The same data path driven by a JSON file instead of a cluster (bench:gateway, debugging).
  'slicenet-gateway-standalone': 'slice-gateway/gateway/standalone.ts',
} as const;

/** The native addon, where native/binding.ts looks for it beside a bundle in dist/bin/. */
const ADDON = { 'native/build/Release/slicenet_native.node': 'bin/build/Release/slicenet_native.node' };

/** Files read at run time relative to a source file: repository path → path under `dist/`. */
const ASSETS: Partial<Record<BundledProcess, Record<string, string>>> = {
  'slicenet-agent': { 'worker-agent/proto/agent.proto': 'proto/agent.proto' },
  'slicenet-gateway': ADDON,
  'slicenet-gateway-standalone': ADDON,
};

export type BundledProcess = keyof typeof BUNDLED;

/** Where `bundleProcess(name)` writes. */
export function bundlePath(name: BundledProcess): string {
  return join(repo, 'dist', 'bin', `${name}.mjs`);
}

/** Bundles one process (synchronously: callers start processes from plain functions). */
export function bundleProcess(name: BundledProcess): string {
  const outfile = bundlePath(name);
  const result = buildSync({
    entryPoints: [join(repo, BUNDLED[name])],
    outfile,
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Dependencies written as CommonJS call require(); an ES module has none of its own.
    banner: {
      // Aliased: bundled sources may import createRequire themselves (native/binding.ts does).
      js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);",
    },
    // A linked map beside the bundle: `NODE_OPTIONS=--enable-source-maps` maps stacks to the
    // sources when debugging; always loading it would cost ~30 MB of RSS per process.
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
  const tmp = `.tmp-${process.pid}`;
  for (const [from, to] of Object.entries(ASSETS[name] ?? {})) {
    const dest = join(repo, 'dist', to);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(join(repo, from), dest + tmp);
    renameSync(dest + tmp, dest);
  }
  // The map first: a bundle never points at a map that is not there yet.
  const isMap = (f: { path: string }): number => Number(f.path.endsWith('.map'));
  const files = [...result.outputFiles].sort((a, b) => isMap(b) - isMap(a));
  for (const f of files) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path + tmp, f.contents);
    renameSync(f.path + tmp, f.path);
  }
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
