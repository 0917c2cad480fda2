import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore, type PodState } from '../state.ts';

test('state round trip, listing and removal', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-state-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = new StateStore(dir);
  t.deepEqual(store.list(), []);
  const st: PodState = {
    uid: 'u-1',
    namespace: 'ns',
    name: 'p',
    netns: 'lab-p-u1',
    hostNetwork: false,
    sandboxId: 'a'.repeat(64),
    cniResult: { ips: [{ address: '10.244.0.2/24', interface: 0 }] },
    podIps: ['10.244.0.2'],
    sandboxFailures: 0,
    startTime: '2026-01-01T00:00:00Z',
    graceSeconds: 5,
    containers: {
      main: {
        restartCount: 1,
        running: { containerId: 'c', pid: 42, procStart: '123', startedAt: '2026-01-01T00:00:01Z' },
      },
    },
  };
  store.save(st);
  t.deepEqual(store.load('u-1'), st);
  t.deepEqual(store.list(), ['u-1']);
  t.is(store.logPath('u-1', 'main'), join(dir, 'pods', 'u-1', 'main.log'));
  store.remove('u-1');
  t.is(store.load('u-1'), undefined);
  t.deepEqual(store.list(), []);
});
