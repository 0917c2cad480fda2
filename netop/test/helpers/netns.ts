/**
 * Network namespaces for netop's engine tests, all named `sn-nq-<run>-<part>` and deleted when
 * the test ends, pass or fail; deleting a namespace removes every link in it, and the processes
 * a test starts in one are stopped by their PID first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { run, runRaw, toolEnv, type RunResult } from '../../../lib/exec.ts';

export const canNetns = process.getuid?.() === 0;

/** Where cleanups go: an ava ExecutionContext, or a bench's Cleanups. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Cleanups for code outside ava: `run()` calls them newest first, as ava does, and never throws. */
export class Cleanups implements Teardown {
  private readonly fns: (() => unknown)[] = [];

  teardown(fn: () => unknown): void {
    this.fns.push(fn);
  }

  async run(): Promise<void> {
    for (const fn of this.fns.splice(0).reverse())
      await Promise.resolve()
        .then(fn)
        .catch(() => undefined);
  }
}

/** A short random run id, so concurrent runs never share a name. */
export const runId = (): string => randomBytes(3).toString('hex');

export class Netns {
  readonly path: string;

  constructor(readonly name: string) {
    this.path = `/run/netns/${name}`;
  }

  exec(argv: string[], timeoutMs = 10_000): Promise<string> {
    return run(argv, { netns: this.name, timeoutMs });
  }

  execRaw(argv: string[], timeoutMs = 10_000): Promise<RunResult> {
    return runRaw(argv, { netns: this.name, timeoutMs });
  }

  /** `ip` commands, one per line, without the leading `ip`. */
  ip(lines: string[]): Promise<string> {
    return run(['ip', '-batch', '-'], { netns: this.name, input: lines.join('\n') + '\n' });
  }
}

/** Creates a namespace with loopback up, deleted at teardown. */
export async function makeNetns(t: Teardown, name: string): Promise<Netns> {
  await run(['ip', 'netns', 'add', name]);
  t.teardown(async () => {
    await runRaw(['ip', 'netns', 'del', name]);
  });
  const ns = new Netns(name);
  await ns.ip(['link set lo up']);
  return ns;
}

/** Starts a long-running program in `ns`, stopped by PID at teardown (or by the caller). */
export function spawnIn(t: Teardown, ns: Netns, argv: string[]): ChildProcess {
  const child = spawn('nsenter', [`--net=${ns.path}`, '--', ...argv], {
    env: toolEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.resume();
  child.stderr?.resume();
  t.teardown(() => stop(child));
  return child;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

/** Moves one end of a new veth pair into `inner` as `ifname` with `cidr`; the other end stays in `outer`. */
export async function vethInto(
  outer: Netns,
  outerName: string,
  inner: Netns,
  ifname: string,
  cidr: string,
): Promise<void> {
  const tmp = `${outerName}x`;
  await outer.ip([
    `link add name ${outerName} type veth peer name ${tmp}`,
    `link set ${tmp} netns ${inner.name}`,
    `link set ${outerName} up`,
  ]);
  await inner.ip([
    `link set ${tmp} name ${ifname}`,
    `addr add ${cidr} dev ${ifname}`,
    `link set ${ifname} up`,
  ]);
}
