/**
 * Bundles the plugin into one executable file: `npm run build:cni` → dist/cni/slicenet.
 * One file because the runtime starts a fresh process per pod, and resolving a tree of
 * node_modules costs more than reading one file; CommonJS because it starts faster and the
 * CNI bin dir has no package.json to say otherwise. The gRPC client (client.ts on the
 * plugin's own HTTP/2, over node:net) is loaded only by the commands that call the agent.
 *
 * The interpreter line drops NODE_EXTRA_CA_CERTS: Node reads and parses that bundle at every
 * start (~50 ms of CPU for Debian's 140 certificates, measured here: 79 → 30 ms per VERSION),
 * and the plugin makes no TLS connection, only one gRPC call on the agent's unix socket. A
 * runtime that passes its own environment to plugins (libcni appends to os.Environ()) on a node
 * where the variable is set would otherwise pay it per pod. GNU env has had -S since 8.30.
 */
import { build } from 'esbuild';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BUNDLE } from './install.ts';

/** Read by Node at start-up, and useless to the plugin (see above). */
export const UNUSED_ENV = 'NODE_EXTRA_CA_CERTS';

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
    banner: { js: `#!/usr/bin/env -S -u ${UNUSED_ENV} node` },
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
