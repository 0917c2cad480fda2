/**
 * Leader election against a real API server: SLICENET_TEST_KUBECONFIG names its kubeconfig
 * (the lab's). Without it the API tests are skipped, visibly. Leases are made in `default`
 * with unique names and deleted afterwards; durations are short (3 s) to keep the test quick.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, KubeConfig, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../log.ts';
import { loadKubeConfig } from '../client.ts';
import { LeaderConfigError, LeaderElector, type LeaderElectionOptions } from '../leader.ts';

const kubeconfigPath = process.env.SLICENET_TEST_KUBECONFIG;
const lab = kubeconfigPath ? test.serial : test.serial.skip;
const namespace = 'default';
const quiet: Logger = {
  info: () => undefined,
  debug: () => undefined,
  error: () => undefined,
  with: () => quiet,
};

const fast = { leaseDurationSeconds: 3, renewDeadlineMs: 2000, retryPeriodMs: 300 };

/** A candidate with its own abort controller and a record of what happened to it. */
function candidate(kubeConfig: KubeConfig, name: string, extra: Partial<LeaderElectionOptions> = {}) {
  const stop = new AbortController();
  const state = { started: 0, stopped: 0, leading: false, startedAt: 0 };
  const elector = new LeaderElector({
    kubeConfig,
    namespace,
    name,
    log: quiet,
    ...fast,
    onStartedLeading: (leading) => {
      state.started++;
      state.leading = true;
      state.startedAt = performance.now();
      leading.addEventListener('abort', () => (state.leading = false));
    },
    onStoppedLeading: () => state.stopped++,
    ...extra,
  });
  const done = elector.run(stop.signal);
  return { elector, state, stop: () => stop.abort(), done };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`not reached within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

function setup() {
  const kc = loadKubeConfig(kubeconfigPath!);
  const api = kc.makeApiClient(CoordinationV1Api);
  const name = `leader-test-${randomUUID().slice(0, 8)}`;
  const read = (): Promise<V1Lease> => api.readNamespacedLease({ name, namespace });
  const cleanup = () => api.deleteNamespacedLease({ name, namespace }).catch(() => undefined);
  return { kc, api, name, read, cleanup };
}

test('bad timing options are refused, naming the setting', (t) => {
  const kubeConfig = new KubeConfig();
  const base = { kubeConfig, namespace, name: 'x', onStartedLeading: () => undefined };
  const e1 = t.throws(() => new LeaderElector({ ...base, leaseDurationSeconds: 5, renewDeadlineMs: 5000 }), {
    instanceOf: LeaderConfigError,
  });
  t.regex(e1.message, /renewDeadlineMs/);
  const e2 = t.throws(() => new LeaderElector({ ...base, retryPeriodMs: 10_000 }), {
    instanceOf: LeaderConfigError,
  });
  t.regex(e2.message, /retryPeriodMs/);
  const e3 = t.throws(() => new LeaderElector({ ...base, leaseDurationSeconds: 0.5 }), {
    instanceOf: LeaderConfigError,
  });
  t.regex(e3.message, /leaseDurationSeconds/);
});

lab('lab: a lone candidate creates the lease, renews it, and releases it on stop', async (t) => {
  const { kc, name, read, cleanup } = setup();
  t.teardown(cleanup);
  const c = candidate(kc, name);
  await until(() => c.state.leading, 5000, 'leading');
  t.true(c.elector.isLeader);
  const first = await read();
  t.is(first.spec?.holderIdentity, c.elector.identity);
  t.is(first.spec?.leaseDurationSeconds, 3);
  await sleep(800);
  const later = await read();
  t.not(String(later.spec?.renewTime), String(first.spec?.renewTime), 'renewed');
  t.is(String(later.spec?.acquireTime), String(first.spec?.acquireTime), 'acquireTime kept while renewing');
  c.stop();
  await c.done;
  t.false(c.state.leading);
  t.is(c.state.stopped, 1);
  t.false(c.elector.isLeader);
  const released = await read();
  t.falsy(released.spec?.holderIdentity, 'released: no holder');
});

lab('lab: of two candidates one leads; the other takes over at once after a release', async (t) => {
  const { kc, name, read, cleanup } = setup();
  t.teardown(cleanup);
  const a = candidate(kc, name);
  await until(() => a.state.leading, 5000, 'a leading');
  const b = candidate(kc, name);
  await sleep(1500);
  t.false(b.state.leading, 'b waits while a renews');
  t.is(b.state.started, 0);
  const stoppedAt = performance.now();
  a.stop();
  await a.done;
  await until(() => b.state.leading, 3000, 'b leading');
  t.true(b.state.startedAt - stoppedAt < 1500, 'b did not wait for the lease to expire');
  const lease = await read();
  t.is(lease.spec?.holderIdentity, b.elector.identity);
  t.is(lease.spec?.leaseTransitions, 1);
  b.stop();
  await b.done;
});

lab('lab: a stale lease of a vanished holder is taken after its duration, not before', async (t) => {
  const { kc, api, name, read, cleanup } = setup();
  t.teardown(cleanup);
  const longAgo = new V1MicroTime(Date.now() - 3_600_000);
  await api.createNamespacedLease({
    namespace,
    body: {
      metadata: { name, namespace },
      spec: { holderIdentity: 'ghost', leaseDurationSeconds: 2, renewTime: longAgo, acquireTime: longAgo },
    },
  });
  const startedAt = performance.now();
  const c = candidate(kc, name);
  await until(() => c.state.leading, 6000, 'leading');
  const waited = c.state.startedAt - startedAt;
  t.true(waited >= 2000, `waited one lease duration on its own clock (${Math.round(waited)} ms)`);
  const lease = await read();
  t.is(lease.spec?.holderIdentity, c.elector.identity);
  t.is(lease.spec?.leaseTransitions, 1);
  c.stop();
  await c.done;
});

lab('lab: a leader whose lease is taken over stops leading and does not release it', async (t) => {
  const { kc, api, name, read, cleanup } = setup();
  t.teardown(cleanup);
  const c = candidate(kc, name);
  await until(() => c.state.leading, 5000, 'leading');
  const lease = await read();
  await api.replaceNamespacedLease({
    name,
    namespace,
    body: { ...lease, spec: { ...lease.spec, holderIdentity: 'usurper' } },
  });
  await until(() => !c.state.leading, 2000, 'stopped leading');
  await c.done;
  t.is(c.state.stopped, 1);
  t.is((await read()).spec?.holderIdentity, 'usurper', 'the new holder keeps it');
});

lab('lab: a leader cut off from the API server stops before its lease can expire', async (t) => {
  const { kc, name, read, cleanup } = setup();
  t.teardown(cleanup);
  const target = new URL(kc.getCurrentCluster()!.server);
  const proxy = await tcpProxy(target.hostname, Number(target.port || 443));
  t.teardown(() => proxy.close());
  const viaProxy = new KubeConfig();
  viaProxy.loadFromOptions({
    clusters: kc.clusters.map((c) => ({ ...c, server: `https://127.0.0.1:${proxy.port}` })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.getCurrentContext(),
  });
  const c = candidate(viaProxy, name);
  await until(() => c.state.leading, 5000, 'leading');
  const lastRenew = Date.parse(String((await read()).spec?.renewTime));
  const cutAt = performance.now();
  proxy.close();
  await until(() => !c.state.leading, 4000, 'stopped leading');
  const stoppedAfter = performance.now() - cutAt;
  t.true(stoppedAfter < 3000 - 300, `stopped ${Math.round(stoppedAfter)} ms after the cut, before expiry`);
  await c.done;
  t.is(c.state.stopped, 1);
  const lease = await read();
  t.is(lease.spec?.holderIdentity, c.elector.identity, 'not released: it could not reach the server');
  t.true(Date.parse(String(lease.spec?.renewTime)) >= lastRenew);
});

/** A TCP forwarder on 127.0.0.1; close() drops every connection and refuses new ones. */
async function tcpProxy(host: string, port: number): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = (): void => {
    server.close();
    for (const s of sockets) s.destroy();
  };
  return { port: (server.address() as net.AddressInfo).port, close };
}
