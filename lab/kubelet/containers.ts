/**
 * A lab container is a process: the container's command run by a small shell inside the
 * pod's network namespace (the image is ignored; the root filesystem is the machine's).
 *
 *   ip netns exec <pod-netns> sh -c 'cd DIR && "$@"; echo $? > EXIT' sh EXIT DIR <command...>
 *
 * It is started detached — its own session and process group, output to a log file — so it
 * outlives a kubelet that is SIGKILLed, as containers outlive a real kubelet. The shell
 * stays as the group leader and records the exit code in a file, which is how any kubelet,
 * the one that started it or a later one that adopted it, learns how it ended; no exit file
 * means the shell itself was killed. The process group stands in for the container's PID
 * namespace: stopping signals the whole group and waits until all of it is gone, and when
 * the shell ends, whatever it left in the group is killed, as a namespace's init ending
 * kills the rest.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { SlicenetError } from '../../lib/errors.ts';
import { kubeTime } from '../../lib/kube/client.ts';
import { isAlive, startTimeOf } from '../process.ts';
import type { ContainerRun } from './state.ts';

export interface LaunchSpec {
  /** The pod's named network namespace; undefined runs in the kubelet's (hostNetwork). */
  netns?: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  exitFile: string;
}

const WRAPPER = 'f=$1; d=$2; shift 2; cd -- "$d" && "$@"; echo $? > "$f.tmp"; mv -f "$f.tmp" "$f"';

/** Starts the process; `onExit` fires if it ends while this kubelet still runs. */
export function launch(spec: LaunchSpec, containerId: string, onExit?: () => void): ContainerRun {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  rmSync(spec.exitFile, { force: true });
  const shell = ['sh', '-c', WRAPPER, 'sh', spec.exitFile, spec.cwd, ...spec.argv];
  const argv = spec.netns ? ['ip', 'netns', 'exec', spec.netns, ...shell] : shell;
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: spec.env,
      cwd: '/',
    });
    child.on('error', () => undefined);
    if (onExit) child.on('exit', onExit);
    child.unref();
    const procStart = child.pid === undefined ? undefined : startTimeOf(child.pid);
    if (child.pid === undefined || procStart === undefined) {
      throw new SlicenetError('CONTAINER_START_FAILED', `could not start ${argv.join(' ')}`);
    }
    return { containerId, pid: child.pid, procStart, startedAt: kubeTime() };
  } finally {
    closeSync(fd);
  }
}

export const isRunning = (run: ContainerRun): boolean => isAlive({ pid: run.pid, startTime: run.procStart });

/** How a run ended, or undefined while it runs. A shell killed by a signal counts as 137. */
export function exitOf(
  run: ContainerRun,
  exitFile: string,
): { exitCode: number; finishedAt: string } | undefined {
  if (isRunning(run)) return undefined;
  try {
    const code = Number.parseInt(readFileSync(exitFile, 'utf8').trim(), 10);
    return { exitCode: Number.isNaN(code) ? 137 : code, finishedAt: kubeTime(statSync(exitFile).mtime) };
  } catch {
    return { exitCode: 137, finishedAt: kubeTime() };
  }
}

/**
 * Whether any process is left in the run's group. The group's number is its leader's PID:
 * while the leader lives (same start time) or is gone for good, a live group is this run's,
 * since the kernel reuses no PID that still numbers a group; a different process now holding
 * that PID means the group ended long ago and the number was handed out again.
 */
export function groupAlive(run: ContainerRun): boolean {
  const leader = startTimeOf(run.pid);
  if (leader !== undefined && leader !== run.procStart) return false;
  return liveMembers(run.pid) > 0;
}

/**
 * Processes in a group that have not exited. Zombies do not count: orphans are reaped by
 * whatever init the machine has, which may take its time, and a zombie holds nothing.
 */
function liveMembers(pgid: number): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state, ppid, pgrp, ...
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (pgrp === String(pgid) && state !== 'Z') n++;
    } catch {
      // exited meanwhile
    }
  }
  return n;
}

/** SIGKILL to what is left of a run's group (a no-op if nothing is). */
export function killGroup(run: ContainerRun): void {
  if (groupAlive(run)) signalGroup(run.pid, 'SIGKILL');
}

/** SIGTERM to every run's group; SIGKILL to what is left after graceMs; resolves when all are gone. */
export async function stopRuns(runs: ContainerRun[], graceMs: number): Promise<void> {
  const live = runs.filter(groupAlive);
  for (const r of live) signalGroup(r.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (live.some(groupAlive) && Date.now() < deadline) await sleep(50);
  for (const r of live.filter(groupAlive)) killGroup(r);
  const hardDeadline = Date.now() + 5000;
  while (live.some(groupAlive) && Date.now() < hardDeadline) await sleep(20);
}

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The container's command line: command then args, `$(VAR)` expanded; `sleep infinity` if none. */
export function containerArgv(c: V1Container, env: Record<string, string>): string[] {
  const argv = [...(c.command ?? []), ...(c.args ?? [])].map((s) => expand(s, env));
  return argv.length > 0 ? argv : ['sleep', 'infinity'];
}

export interface Addresses {
  podIp: string;
  hostIp: string;
}

/**
 * The container's environment: a minimal base, then `env` in order, each value able to refer
 * to earlier ones with `$(NAME)`. Of `valueFrom`, only `fieldRef` is supported (no Secrets,
 * ConfigMaps or resource fields in the lab); other sources leave the variable unset.
 */
export function containerEnv(pod: V1Pod, c: V1Container, addr: Addresses): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    HOSTNAME: pod.metadata?.name ?? '',
  };
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = expand(e.value, env);
    else if (e.valueFrom?.fieldRef) {
      const v = fieldValue(pod, e.valueFrom.fieldRef.fieldPath, addr);
      if (v !== undefined) env[e.name] = v;
    } else if (!e.valueFrom) env[e.name] = '';
  }
  return env;
}

export function fieldValue(pod: V1Pod, path: string, addr: Addresses): string | undefined {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return pod.metadata?.[m[1] as 'labels' | 'annotations']?.[m[2]!];
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name;
    case 'metadata.namespace':
      return pod.metadata?.namespace;
    case 'metadata.uid':
      return pod.metadata?.uid;
    case 'spec.nodeName':
      return pod.spec?.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName;
    case 'status.podIP':
    case 'status.podIPs':
      return addr.podIp;
    case 'status.hostIP':
    case 'status.hostIPs':
      return addr.hostIp;
    default:
      return undefined;
  }
}

/** Kubernetes variable expansion: `$(NAME)` if NAME is defined, `$$` for a literal `$`. */
export function expand(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m: string, name?: string) =>
    m === '$$' ? '$' : name !== undefined && name in vars ? vars[name]! : m,
  );
}
