import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import type { PodState } from '../state.ts';
import {
  computeStatus,
  isTerminal,
  shouldRestart,
  statusChanged,
  statusPatch,
  type OwnedStatus,
} from '../status.ts';

const NOW = new Date('2026-01-01T00:00:10Z');
const T0 = '2026-01-01T00:00:00Z';

const pod = (restartPolicy: string, names = ['a']): V1Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { restartPolicy, containers: names.map((name) => ({ name, image: 'busybox' })) },
});

const state = (containers: PodState['containers'], podIps = ['10.244.1.5']): PodState => ({
  uid: 'u1',
  namespace: 'ns',
  name: 'p',
  netns: 'lab-p-u1',
  hostNetwork: false,
  sandboxId: 'f'.repeat(64),
  podIps,
  sandboxFailures: 0,
  startTime: T0,
  graceSeconds: 30,
  containers,
});

const run = { containerId: 'c1', pid: 1, procStart: '1', startedAt: T0 };
const ended = (exitCode: number) => ({
  containerId: 'c1',
  exitCode,
  reason: exitCode === 0 ? ('Completed' as const) : ('Error' as const),
  startedAt: T0,
  finishedAt: '2026-01-01T00:00:05Z',
});

test('restart policy table', (t) => {
  t.true(shouldRestart('Always', 0));
  t.true(shouldRestart(undefined, 0));
  t.true(shouldRestart('OnFailure', 1));
  t.false(shouldRestart('OnFailure', 0));
  t.false(shouldRestart('Never', 1));
});

const phases: [string, V1Pod, PodState | undefined, OwnedStatus['phase'], boolean][] = [
  ['no state yet', pod('Always'), undefined, 'Pending', false],
  ['no sandbox yet', pod('Always'), state({}, []), 'Pending', false],
  ['sandbox, container not started', pod('Always'), state({}), 'Pending', false],
  ['running', pod('Always'), state({ a: { restartCount: 0, running: run } }), 'Running', true],
  [
    'one of two running',
    pod('Always', ['a', 'b']),
    state({ a: { restartCount: 0, running: run } }),
    'Pending',
    false,
  ],
  [
    'exited 0, Never',
    pod('Never'),
    state({ a: { restartCount: 0, terminated: ended(0) } }),
    'Succeeded',
    false,
  ],
  ['exited 1, Never', pod('Never'), state({ a: { restartCount: 0, terminated: ended(1) } }), 'Failed', false],
  [
    'exited 0, OnFailure',
    pod('OnFailure'),
    state({ a: { restartCount: 2, terminated: ended(0) } }),
    'Succeeded',
    false,
  ],
  [
    'exited 1, OnFailure (backing off)',
    pod('OnFailure'),
    state({ a: { restartCount: 0, terminated: ended(1) } }),
    'Running',
    false,
  ],
  [
    'exited 0, Always (backing off)',
    pod('Always'),
    state({ a: { restartCount: 0, terminated: ended(0) } }),
    'Running',
    false,
  ],
];

for (const [name, p, st, phase, ready] of phases) {
  test(`phase: ${name}`, (t) => {
    const s = computeStatus(p, st, '198.18.1.11', NOW);
    t.is(s.phase, phase);
    t.is(s.conditions.find((c) => c.type === 'Ready')?.status, ready ? 'True' : 'False');
    t.is(s.hostIP, '198.18.1.11');
  });
}

test('container statuses: running, crash loop with last state, terminated', (t) => {
  const s1 = computeStatus(
    pod('Always'),
    state({ a: { restartCount: 0, running: run } }),
    '198.18.1.11',
    NOW,
  );
  t.deepEqual(s1.containerStatuses[0], {
    name: 'a',
    image: 'busybox',
    imageID: '',
    restartCount: 0,
    containerID: 'lab://c1',
    ready: true,
    started: true,
    state: { running: { startedAt: T0 } },
    lastState: {},
  });
  t.is(s1.podIP, '10.244.1.5');
  t.deepEqual(s1.podIPs, [{ ip: '10.244.1.5' }]);
  t.is(s1.startTime, T0);
  const s2 = computeStatus(pod('Always'), state({ a: { restartCount: 3, terminated: ended(2) } }), 'h', NOW);
  t.like(s2.containerStatuses[0], {
    restartCount: 3,
    ready: false,
    state: { waiting: { reason: 'CrashLoopBackOff' } },
  });
  t.like(s2.containerStatuses[0]!.lastState, { terminated: { exitCode: 2, reason: 'Error' } });
  const s3 = computeStatus(pod('Never'), state({ a: { restartCount: 0, terminated: ended(0) } }), 'h', NOW);
  t.like(s3.containerStatuses[0], {
    state: { terminated: { exitCode: 0, reason: 'Completed', containerID: 'lab://c1' } },
  });
  t.is(s3.conditions.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
});

test('terminal only when every container ended for good', (t) => {
  t.true(
    isTerminal(
      pod('Never', ['a', 'b']),
      state({ a: { restartCount: 0, terminated: ended(1) }, b: { restartCount: 0, terminated: ended(0) } }),
    ),
  );
  t.false(isTerminal(pod('Never', ['a', 'b']), state({ a: { restartCount: 0, terminated: ended(1) } })));
});

test('transition times survive while a condition holds; a written status is not written again', (t) => {
  const p = pod('Always');
  const st = state({ a: { restartCount: 0, running: run } });
  const first = computeStatus(p, st, 'h', NOW);
  t.true(statusChanged(p, first));
  // As the API server would send it back: extra fields, no empty lastState, Dates from a typed list.
  const echoed = JSON.parse(JSON.stringify(first)) as Record<string, unknown> & typeof first;
  const written: V1Pod = {
    ...p,
    status: {
      ...echoed,
      qosClass: 'BestEffort',
      startTime: new Date(T0),
      containerStatuses: echoed.containerStatuses.map(({ lastState: _l, ...c }) => c),
      conditions: [...echoed.conditions.reverse(), { type: 'DisruptionTarget', status: 'False' }],
    } as never,
  };
  const later = computeStatus(written, st, 'h', new Date('2026-01-01T00:05:00Z'));
  t.deepEqual(
    later.conditions.map((c) => c.lastTransitionTime),
    first.conditions.map(() => '2026-01-01T00:00:10Z'),
  );
  t.false(statusChanged(written, later));
  const stopped = computeStatus(
    written,
    state({ a: { restartCount: 0, terminated: ended(1) } }),
    'h',
    new Date('2026-01-01T00:05:00Z'),
  );
  t.true(statusChanged(written, stopped));
  t.is(stopped.conditions.find((c) => c.type === 'Ready')?.lastTransitionTime, '2026-01-01T00:05:00Z');
});

test('the patch replaces address lists and merges conditions', (t) => {
  const s = computeStatus(pod('Always'), state({ a: { restartCount: 0, running: run } }), '198.18.1.11', NOW);
  const patch = statusPatch(s);
  t.deepEqual(patch.status.podIPs, [{ ip: '10.244.1.5' }, { $patch: 'replace' }]);
  t.deepEqual(patch.status.hostIPs, [{ ip: '198.18.1.11' }, { $patch: 'replace' }]);
  t.is(patch.status.conditions, s.conditions);
  t.false('podIPs' in statusPatch(computeStatus(pod('Always'), state({}, []), 'h', NOW)).status);
});
