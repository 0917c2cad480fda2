/**
 * Runs a program and collects its output: the one wrapper through which Slicenet calls
 * `ip`, `tc`, `nft`, `openssl` and friends. Arguments are passed as a list, never through a
 * shell, so nothing needs quoting.
 */
import { spawn } from 'node:child_process';
import { SlicenetError } from './errors.ts';

export class CommandError extends SlicenetError {
  constructor(
    readonly command: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(
      'COMMAND_FAILED',
      `${command.join(' ')} exited with ${exitCode ?? 'a signal'}: ${stderr.trim() || '(no output)'}`,
    );
  }
}

export interface RunOptions {
  /** Written to the program's stdin, which is then closed. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Run inside this named network namespace (`/run/netns/<name>`), through nsenter. */
  netns?: string;
  /** Run inside the network namespace at this path (a CNI_NETNS), through nsenter. */
  netnsPath?: string;
  /** Kill the program after this many milliseconds (default 60 s). */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * The environment for system tools: PATH without node_modules/.bin, which npm and ava put
 * first, and where a package's `nft` (@vercel/nft, a file tracer) would shadow nftables'.
 */
export function toolEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const path = (env.PATH ?? '')
    .split(':')
    .filter((d) => d && !d.includes('node_modules'))
    .join(':');
  return { ...env, PATH: path || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
}

/** Runs a program; resolves with its output whatever the exit code. */
export function runRaw(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const ns = opts.netnsPath ?? (opts.netns ? `/run/netns/${opts.netns}` : undefined);
  const full = ns ? ['nsenter', `--net=${ns}`, '--', ...argv] : argv;
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), {
      env: toolEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString() + (signal ? `(killed by ${signal})` : ''),
        exitCode: code ?? -1,
      }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs a program; resolves with stdout, or throws CommandError on a non-zero exit. */
export async function run(argv: string[], opts: RunOptions = {}): Promise<string> {
  const r = await runRaw(argv, opts);
  if (r.exitCode !== 0) throw new CommandError(argv, r.exitCode, r.stderr);
  return r.stdout;
}
