/**
 * Runs the CLI as a user would, through the shim, and collects its exit code and output.
 * Each run costs about 2 s of CPU (tsx hooks every module client-node loads), so callers run
 * them one at a time, and the timeout allows for a loaded machine.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRaw } from '../../lib/exec.ts';

export const SHIM = join(import.meta.dirname, '..', 'kubectl-slice');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const r = await runRaw([SHIM, ...args], { env: { ...process.env, ...env }, timeoutMs: 180_000 });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Writes a kubeconfig with one cluster at `server` and a token user (never valid: tests point it
 * at nothing, or at an API server that must refuse it); returns its path, in a new temp dir.
 */
export function tokenKubeconfig(server: string, o: { context?: string; namespace?: string } = {}): string {
  const name = o.context ?? 'a';
  const file = join(mkdtempSync(join(tmpdir(), 'kubectl-slice-')), 'config');
  const context = { cluster: 'c', user: 'u', ...(o.namespace ? { namespace: o.namespace } : {}) };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user: { token: 'not-a-token' } }],
    contexts: [{ name, context }],
    'current-context': name,
  };
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}
