/**
 * Puts the plugin where the runtime (Multus) looks for it. The agent calls this at start, so
 * a node always runs the plugin that matches its agent. Atomic: a temp file renamed over the
 * old one, so a pod being attached meanwhile runs the old plugin or the new one, never half
 * of one.
 */
import { chmod, copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SlicenetError } from '../../lib/errors.ts';

export const PLUGIN_NAME = 'slicenet';
/** Where `npm run build:cni` writes the bundle. */
export const DEFAULT_BUNDLE = fileURLToPath(new URL('../../dist/cni/slicenet', import.meta.url));

/** Copies the bundle (default dist/cni/slicenet) to `<dir>/slicenet`; returns that path. */
export async function installCniPlugin(dir: string, bundle: string = DEFAULT_BUNDLE): Promise<string> {
  await stat(bundle).catch(() => {
    throw new SlicenetError(
      'CNI_PLUGIN_NOT_BUILT',
      `no CNI plugin bundle at ${bundle}; run npm run build:cni`,
    );
  });
  await mkdir(dir, { recursive: true });
  const target = join(dir, PLUGIN_NAME);
  const temp = join(dir, `.${PLUGIN_NAME}.${process.pid}.tmp`);
  try {
    await copyFile(bundle, temp);
    await chmod(temp, 0o755);
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
  return target;
}
