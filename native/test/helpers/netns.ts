/**
 * Runs a scenario script in a network namespace of its own, so TAP devices, addresses and
 * traffic never touch the host: the namespace is created here and deleted in `finally`, which
 * also removes every link the scenario made in it. The script prints one JSON line last: what
 * it observed, for the test to judge.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run, runRaw } from '../../../lib/exec.ts';

/** Whether this process may create namespaces and TAP devices (root with /dev/net/tun). */
export const canNetns = process.getuid?.() === 0 && existsSync('/dev/net/tun');

/** Runs `script` (a path relative to this folder) with Node + tsx inside a new namespace. */
export async function inNetns<T>(script: string): Promise<T> {
  const ns = `sn-nt-${randomBytes(4).toString('hex')}`;
  const path = fileURLToPath(new URL(script, import.meta.url));
  await run(['ip', 'netns', 'add', ns]);
  try {
    await run(['ip', 'link', 'set', 'lo', 'up'], { netns: ns });
    // runRaw kills the child at the timeout, so a hung scenario cannot outlive the test.
    const r = await runRaw([process.execPath, '--import', 'tsx', path], { netns: ns, timeoutMs: 60_000 });
    if (r.exitCode !== 0) throw new Error(`${script} exited with ${r.exitCode}:\n${r.stderr}`);
    const last = r.stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(last) as T;
  } finally {
    await runRaw(['ip', 'netns', 'del', ns]);
  }
}

/** Polls `done` every 5 ms until it holds or `ms` pass; resolves with its last answer. */
export async function until(done: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  return done();
}

/** Catches what `fn` throws as `{ name, code, message }`, or null if it did not throw. */
export function thrown(fn: () => unknown): { name: string; code?: string; message: string } | null {
  try {
    fn();
    return null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { name: e.name, ...(e.code ? { code: e.code } : {}), message: e.message };
  }
}
