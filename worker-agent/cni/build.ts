/**
 * Bundles the plugin into one executable file: `npm run build:cni` → dist/cni/slicenet.
 * One file because the runtime starts a fresh process per pod, and resolving a tree of
 * node_modules costs more than reading one file; CommonJS because it starts faster and the
 * CNI bin dir has no package.json to say otherwise. grpc-js stays lazily initialised (see
 * client.ts).
 */
import { build } from 'esbuild';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BUNDLE } from './install.ts';

const ENTRY = fileURLToPath(new URL('./main.ts', import.meta.url));

export async function buildCniPlugin(outfile: string = DEFAULT_BUNDLE): Promise<string> {
  await mkdir(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    legalComments: 'none',
    logLevel: 'warning',
  });
  await chmod(outfile, 0o755);
  // Inside this repository (type: module) Node would read the extensionless file as ESM.
  await writeFile(join(dirname(outfile), 'package.json'), '{ "type": "commonjs" }\n');
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildCniPlugin(process.argv[2]);
  process.stdout.write(`${out}\n`);
}
