/** For the install tests: the command run in this process (no 2 s tsx start-up per run). */
import { parse } from '../args.ts';
import { install } from '../commands/install.ts';
import { EXIT, exitCodeOf } from '../errors.ts';

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
