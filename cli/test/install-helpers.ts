/** For the install tests: a token kubeconfig file, and the command run in this process (no 2 s tsx start-up per run). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '../args.ts';
import { install } from '../commands/install.ts';
import { EXIT, exitCodeOf } from '../errors.ts';

export function tokenKubeconfig(server: string, namespace?: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'op-kubeconfig-')), 'kubeconfig');
  const context = { cluster: 'c', user: 'u', ...(namespace ? { namespace } : {}) };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server } }],
    users: [{ name: 'u', user: { token: 'not-a-token' } }],
    contexts: [{ name: 'c', context }],
    'current-context': 'c',
  };
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}

/** `kubectl slice install <argv>` with main.ts's mapping of errors to exit codes. */
export async function runInstall(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  try {
    await install.run(parse('install', argv, install.flags), (s) => void (out += s));
    return { code: EXIT.ok, out, err: '' };
  } catch (e) {
    return { code: exitCodeOf(e), out, err: (e as Error).message };
  }
}
