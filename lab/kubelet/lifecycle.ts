/**
 * Moves a pod's containers one step at a time, from the state file and what /proc says:
 * a running process that has ended becomes a termination; a termination is restarted if
 * the restart policy says so, once its backoff has passed; a container never run is started.
 * Every change is saved before the next step, so a kubelet killed half-way adopts the rest.
 *
 * Restart backoff is 1 s doubling to 30 s per restart (shorter than the real kubelet's
 * 10 s to 5 min: lab tests wait on it), back to 1 s after a run of a minute or more.
 */
import { randomBytes } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../lib/log.ts';
import { containerArgv, containerEnv, exitOf, killGroup, launch } from './containers.ts';
import type { PodState, StateStore } from './state.ts';
import { shouldRestart } from './status.ts';

/** How often a running container's process is looked at. */
export const POLL_MS = 1000;

export interface LifecycleDeps {
  store: StateStore;
  nodeIp: string;
  log: Logger;
  /** Called when a process this kubelet started ends. */
  onExit: () => void;
}

export function backoffMs(restartCount: number, ranMs: number): number {
  return ranMs >= 60_000 ? 1000 : Math.min(1000 * 2 ** restartCount, 30_000);
}

/** One step for every container; returns when the pod needs looking at again (ms), if ever. */
export function syncContainers(pod: V1Pod, state: PodState, deps: LifecycleDeps): number | undefined {
  let next: number | undefined;
  const soon = (ms: number): void => {
    next = next === undefined ? ms : Math.min(next, ms);
  };
  const policy = pod.spec?.restartPolicy;
  for (const c of pod.spec?.containers ?? []) {
    const cs = (state.containers[c.name] ??= { restartCount: 0 });
    const exitFile = deps.store.exitPath(state.uid, c.name);
    const log = deps.log.with({ container: c.name });
    if (cs.running) {
      const exit = exitOf(cs.running, exitFile);
      if (!exit) {
        soon(POLL_MS);
        continue;
      }
      // The container's "init" has ended: nothing it started may outlive it.
      killGroup(cs.running);
      const { containerId, startedAt } = cs.running;
      const reason = exit.exitCode === 0 ? 'Completed' : 'Error';
      cs.terminated = {
        containerId,
        exitCode: exit.exitCode,
        reason,
        startedAt,
        finishedAt: exit.finishedAt,
      };
      const ranMs = Date.parse(exit.finishedAt) - Date.parse(startedAt);
      cs.restartAt = Date.now() + backoffMs(cs.restartCount, ranMs);
      delete cs.running;
      deps.store.save(state);
      log.info('container exited', { exitCode: exit.exitCode });
    }
    if (cs.terminated) {
      if (!shouldRestart(policy, cs.terminated.exitCode)) continue;
      const wait = (cs.restartAt ?? 0) - Date.now();
      if (wait > 0) {
        soon(wait);
        continue;
      }
      cs.lastTerminated = cs.terminated;
      delete cs.terminated;
      cs.restartCount++;
    }
    const addr = { podIp: state.podIps[0] ?? '', hostIp: deps.nodeIp };
    const env = containerEnv(pod, c, addr);
    const spec = {
      netns: state.hostNetwork ? undefined : state.netns,
      argv: containerArgv(c, env),
      env,
      cwd: c.workingDir ?? '/',
      logFile: deps.store.logPath(state.uid, c.name),
      exitFile,
    };
    cs.running = launch(spec, randomBytes(32).toString('hex'), deps.onExit);
    delete cs.restartAt;
    deps.store.save(state);
    log.info('container started', { pid: cs.running.pid, restartCount: cs.restartCount, argv: spec.argv });
    soon(POLL_MS);
  }
  return next;
}
