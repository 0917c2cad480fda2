/**
 * Long-running lab processes (etcd, apiservers, kubelets, forwarders) are started detached,
 * in their own process group, with output to a log file, and recorded on disk with their PID
 * and kernel start time. A record outlives the program that made it, so `lab down` can stop
 * what a crashed run left, and the start time makes sure it never signals a recycled PID.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessRecord {
  id: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat: the process's start time in clock ticks since boot. */
  startTime: string;
  argv: string[];
  log: string;
}

export interface DaemonSpec {
  id: string;
  argv: string[];
  /** Named network namespace to run in (nsenter --net; the mount namespace is shared). */
  netns?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Open file descriptors handed to the program as fd 3, 4, ... */
  passFds?: number[];
}

export class ProcessTable {
  constructor(private readonly dir: string) {}

  private get recordsDir(): string {
    return join(this.dir, 'processes');
  }

  logPath(id: string): string {
    return join(this.dir, 'logs', `${id}.log`);
  }

  start(spec: DaemonSpec): ProcessRecord {
    mkdirSync(this.recordsDir, { recursive: true });
    mkdirSync(join(this.dir, 'logs'), { recursive: true });
    const log = this.logPath(spec.id);
    const fd = openSync(log, 'a');
    const argv = spec.netns ? ['nsenter', `--net=/run/netns/${spec.netns}`, '--', ...spec.argv] : spec.argv;
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ['ignore', fd, fd, ...(spec.passFds ?? [])],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
    });
    closeSync(fd);
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${argv[0]} for ${spec.id}`);
    const record: ProcessRecord = {
      id: spec.id,
      pid: child.pid,
      startTime: startTimeOf(child.pid) ?? '',
      argv,
      log,
    };
    writeFileSync(join(this.recordsDir, `${spec.id}.json`), JSON.stringify(record));
    return record;
  }

  get(id: string): ProcessRecord | undefined {
    try {
      return JSON.parse(readFileSync(join(this.recordsDir, `${id}.json`), 'utf8')) as ProcessRecord;
    } catch {
      return undefined;
    }
  }

  list(): ProcessRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.recordsDir);
    } catch {
      return [];
    }
    return names.flatMap((n) => {
      const r = this.get(n.replace(/\.json$/, ''));
      return r ? [r] : [];
    });
  }

  isRunning(id: string): boolean {
    const r = this.get(id);
    return r !== undefined && isAlive(r);
  }

  /** SIGTERM to the process group, SIGKILL after graceMs; then forgets the record. */
  async stop(id: string, graceMs = 5000): Promise<void> {
    const r = this.get(id);
    if (r) await stopRecord(r, graceMs);
    rmSync(join(this.recordsDir, `${id}.json`), { force: true });
  }

  /** Stops the process and starts it again with the same command line, `pauseMs` later. */
  async restart(id: string, graceMs = 5000, pauseMs = 0): Promise<ProcessRecord> {
    const r = this.get(id);
    if (!r) throw new Error(`no process ${id} in ${this.dir}`);
    await this.stop(id, graceMs);
    if (pauseMs > 0) await sleep(pauseMs);
    return this.start({ id, argv: r.argv });
  }

  /** SIGKILL with no grace: for tests that simulate a crash. The record is kept. */
  kill(id: string): void {
    const r = this.get(id);
    if (r && isAlive(r)) signalGroup(r.pid, 'SIGKILL');
  }

  async stopAll(graceMs = 5000): Promise<void> {
    await Promise.all(this.list().map((r) => this.stop(r.id, graceMs)));
  }
}

export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after it start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isAlive(r: { pid: number; startTime: string }): boolean {
  const now = startTimeOf(r.pid);
  if (now === undefined || now !== r.startTime) return false;
  // A zombie has exited; only its parent's wait is missing.
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${r.pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export async function stopRecord(r: { pid: number; startTime: string }, graceMs: number): Promise<void> {
  if (!isAlive(r)) return;
  signalGroup(r.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(r)) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  signalGroup(r.pid, 'SIGKILL');
  while (isAlive(r)) await new Promise((res) => setTimeout(res, 20));
}
