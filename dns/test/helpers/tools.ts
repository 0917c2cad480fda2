/**
 * The Debian tools the DNS tests drive (dig, from dnsutils): installed on first use by the
 * same script as the benchmark's, since lab/setup.sh does not bring them.
 */
import { join } from 'node:path';
import { run, runRaw } from '../../../lib/exec.ts';

let ready: Promise<void> | undefined;

export function ensureDig(): Promise<void> {
  ready ??= (async () => {
    if ((await runRaw(['sh', '-c', 'command -v dig'])).exitCode === 0) return;
    await run(['bash', join(import.meta.dirname, '..', '..', 'bench', 'setup.sh')], { timeoutMs: 600_000 });
  })();
  return ready;
}
