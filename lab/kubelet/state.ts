/**
 * What the kubelet knows about each pod it runs, one JSON file per pod under
 * `<stateDir>/pods/<uid>/`, next to the containers' logs and exit files. It is written
 * before each step that a crash could leave half-done (the sandbox ID before CNI ADD, a
 * process's PID right after spawning it), so a restarted kubelet adopts what is running
 * and undoes what is not, instead of starting things twice.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CniResult } from './cni.ts';
import { writeAtomic } from './netconf.ts';

export interface Termination {
  containerId: string;
  exitCode: number;
  reason: 'Completed' | 'Error';
  startedAt: string;
  finishedAt: string;
}

export interface ContainerRun {
  containerId: string;
  /** The process group leader: the shell that waits for the command and writes the exit file. */
  pid: number;
  /** Its kernel start time (/proc/<pid>/stat field 22): a recycled PID never matches. */
  procStart: string;
  startedAt: string;
}

export interface ContainerState {
  restartCount: number;
  running?: ContainerRun;
  /** The current run has ended and the container has not been started again. */
  terminated?: Termination;
  lastTerminated?: Termination;
  /** Restart backoff: not started again before this (ms since the epoch). */
  restartAt?: number;
}

export interface PodState {
  uid: string;
  namespace: string;
  name: string;
  netns: string;
  hostNetwork: boolean;
  /** 64 hex digits: CNI_CONTAINERID, fixed before the first CNI ADD so DEL can match it. */
  sandboxId: string;
  /** The CNI ADD result; the sandbox is ready once it is set. */
  cniResult?: CniResult;
  podIps: string[];
  sandboxFailures: number;
  sandboxRetryAt?: number;
  /** When this kubelet first took the pod on: status.startTime. */
  startTime: string;
  /** Kept for pods that vanish from the API before they are stopped. */
  graceSeconds: number;
  containers: Record<string, ContainerState>;
}

export class StateStore {
  constructor(private readonly stateDir: string) {}

  get podsDir(): string {
    return join(this.stateDir, 'pods');
  }

  podDir(uid: string): string {
    return join(this.podsDir, uid);
  }

  logPath(uid: string, container: string): string {
    return join(this.podDir(uid), `${container}.log`);
  }

  exitPath(uid: string, container: string): string {
    return join(this.podDir(uid), `${container}.exit`);
  }

  load(uid: string): PodState | undefined {
    try {
      return JSON.parse(readFileSync(join(this.podDir(uid), 'state.json'), 'utf8')) as PodState;
    } catch {
      return undefined;
    }
  }

  save(state: PodState): void {
    mkdirSync(this.podDir(state.uid), { recursive: true });
    writeAtomic(join(this.podDir(state.uid), 'state.json'), JSON.stringify(state, null, 2));
  }

  /** Forgets the pod: state, logs and exit files. */
  remove(uid: string): void {
    rmSync(this.podDir(uid), { recursive: true, force: true });
  }

  /** UIDs of every pod with state on disk. */
  list(): string[] {
    try {
      return readdirSync(this.podsDir).filter((uid) => this.load(uid) !== undefined);
    } catch {
      return [];
    }
  }
}
