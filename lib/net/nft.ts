/**
 * nftables through `nft -f -`: one script is one transaction, applied whole or not at all,
 * which is how Slicenet changes filtering without a moment of half-applied rules.
 */
import { CommandError, run, runRaw } from '../exec.ts';
import type { NetnsOption } from './ip.ts';

/** Applies an nft script atomically. */
export async function nftApply(script: string, opts: NetnsOption = {}): Promise<void> {
  await run(['nft', '-f', '-'], { input: script, netnsPath: opts.netnsPath });
}

/** Applies a script whose only possible failure is deleting what is already gone; that is success. */
export async function nftApplyIgnoringMissing(script: string, opts: NetnsOption = {}): Promise<void> {
  const r = await runRaw(['nft', '-f', '-'], { input: script, netnsPath: opts.netnsPath });
  if (r.exitCode !== 0 && !/No such file or directory/.test(r.stderr))
    throw new CommandError(['nft', '-f', '-'], r.exitCode, r.stderr);
}

/** `nft -j list <what>` parsed, e.g. `counter bridge slicenet spoofed`. */
export async function nftListJson(what: string[], opts: NetnsOption = {}): Promise<{ nftables: object[] }> {
  return JSON.parse(await run(['nft', '-j', 'list', ...what], { netnsPath: opts.netnsPath })) as {
    nftables: object[];
  };
}
