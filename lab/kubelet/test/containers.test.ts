/**
 * Containers as real processes, run in this test's own network namespace (as hostNetwork
 * pods are), so no root-only setup is needed.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { createLogger } from '../../../lib/log.ts';
import {
  containerArgv,
  containerEnv,
  exitOf,
  expand,
  groupAlive,
  isRunning,
  launch,
  stopRuns,
} from '../containers.ts';
import { backoffMs, syncContainers } from '../lifecycle.ts';
import { StateStore, type PodState } from '../state.ts';

const pod: V1Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'x' } },
  spec: {
    nodeName: 'c1-n1',
    containers: [
      {
        name: 'c',
        command: ['echo', '$(GREETING)', '$$(GREETING)', '$(UNSET)'],
        env: [
          { name: 'WHO', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'GREETING', value: 'hi-$(WHO)' },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        ],
      },
    ],
  },
};

test('env from values and field refs; $(VAR) expansion in env and command', (t) => {
  const c = pod.spec!.containers[0]!;
  const env = containerEnv(pod, c, { podIp: '10.244.1.5', hostIp: '198.18.1.11' });
  t.like(env, { WHO: 'p', GREETING: 'hi-p', IP: '10.244.1.5', APP: 'x', HOSTNAME: 'p' });
  t.false('SECRET' in env);
  t.deepEqual(containerArgv(c, env), ['echo', 'hi-p', '$(GREETING)', '$(UNSET)']);
  t.deepEqual(containerArgv({ name: 'idle' }, env), ['sleep', 'infinity']);
  t.is(expand('a$$b', {}), 'a$b');
});

test('a launched process is detached, logs to its file and leaves its exit code', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-ctr-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const spec = {
    argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'],
    env: { PATH: process.env.PATH! },
    cwd: dir,
    logFile: join(dir, 'c.log'),
    exitFile: join(dir, 'c.exit'),
  };
  const exited = new Promise<void>((r) => launch(spec, 'id1', r));
  await exited;
  const run = launch({ ...spec, argv: ['sleep', '30'] }, 'id2');
  t.true(isRunning(run));
  const stat = readFileSync(`/proc/${run.pid}/stat`, 'utf8');
  const [, , pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  t.is(Number(pgrp), run.pid, 'leads its own process group');
  t.is(Number(session), run.pid, 'and its own session');
  t.is(exitOf(run, spec.exitFile), undefined);
  await stopRuns([run], 2000);
  t.false(isRunning(run));
  t.is(exitOf(run, spec.exitFile)?.exitCode, 137, 'killed: no exit file');
  t.is(readFileSync(spec.logFile, 'utf8'), 'out\nerr\n');
});

test('backoff doubles to 30 s and resets after a long run', (t) => {
  t.deepEqual(
    [0, 1, 2, 5, 9].map((n) => backoffMs(n, 10)),
    [1000, 2000, 4000, 30_000, 30_000],
  );
  t.is(backoffMs(9, 61_000), 1000);
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('lifecycle: OnFailure restarts a failing container with backoff, then it succeeds', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-life-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new StateStore(dir);
  const flag = join(dir, 'flag');
  const p: V1Pod = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u2' },
    spec: {
      restartPolicy: 'OnFailure',
      containers: [{ name: 'c', command: ['sh', '-c', `[ -e ${flag} ] && exit 0; touch ${flag}; exit 4`] }],
    },
  };
  const st: PodState = {
    uid: 'u2',
    namespace: 'ns',
    name: 'p',
    netns: 'x',
    hostNetwork: true,
    sandboxId: 's',
    podIps: ['198.18.1.11'],
    sandboxFailures: 0,
    startTime: '2026-01-01T00:00:00Z',
    graceSeconds: 1,
    containers: {},
  };
  const deps = { store, nodeIp: '198.18.1.11', log: createLogger('test'), onExit: () => undefined };
  t.is(syncContainers(p, st, deps), 1000);
  t.truthy(st.containers.c?.running);
  await until(() => !isRunning(st.containers.c!.running!));
  const wait = syncContainers(p, st, deps);
  t.like(st.containers.c, { restartCount: 0, terminated: { exitCode: 4, reason: 'Error' } });
  t.true(wait !== undefined && wait > 500 && wait <= 1000, `backoff wait ${wait}`);
  t.deepEqual(store.load('u2')?.containers.c?.terminated?.exitCode, 4, 'saved');
  await new Promise((r) => setTimeout(r, wait));
  syncContainers(p, st, deps);
  t.like(st.containers.c, { restartCount: 1, lastTerminated: { exitCode: 4 } });
  await until(() => !isRunning(st.containers.c!.running!));
  t.is(syncContainers(p, st, deps), undefined, 'done for good');
  t.like(st.containers.c, { restartCount: 1, terminated: { exitCode: 0, reason: 'Completed' } });
});

test('stopping waits for the whole group: a child that ignores SIGTERM is killed after the grace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-stop-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const spec = {
    argv: ['sh', '-c', 'trap "echo got TERM" TERM; while true; do sleep 0.1; done'],
    env: { PATH: process.env.PATH! },
    cwd: dir,
    logFile: join(dir, 'c.log'),
    exitFile: join(dir, 'c.exit'),
  };
  const run = launch(spec, 'id3');
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  await stopRuns([run], 700);
  const took = Date.now() - started;
  t.false(groupAlive(run));
  t.true(took >= 650 && took < 3000, `took ${took} ms`);
  t.regex(readFileSync(spec.logFile, 'utf8'), /got TERM/);
});

test('a run whose PID now belongs to another process does not own a group', (t) => {
  t.false(groupAlive({ containerId: 'x', pid: process.pid, procStart: 'not-this', startedAt: '' }));
});
