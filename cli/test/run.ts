/**
 * Runs the CLI as a user would, through the shim, and collects its exit code and output.
 * Each run costs about 2 s of CPU (tsx hooks every module client-node loads), so callers run
 * them one at a time, and the timeout allows for a loaded machine.
 */
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
