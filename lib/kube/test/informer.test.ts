/**
 * The informer against a tiny HTTP server that speaks just enough of the list/watch protocol:
 * the point is what happens when the server goes away, which a real API server in the lab
 * cannot be made to do on cue as cheaply.
 */
import test from 'ava';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig, type KubernetesListObject, type V1ConfigMap } from '@kubernetes/client-node';
import { Informer, plain, type Selectors } from '../informer.ts';

interface FakeApi {
  port: number;
  items: V1ConfigMap[];
  rv: number;
  watches: ServerResponse[];
  lists: Selectors[];
  close(): Promise<void>;
}

async function fakeApi(port = 0, items: V1ConfigMap[] = []): Promise<FakeApi> {
  const api: FakeApi = { port, items, rv: 10, watches: [], lists: [], close: () => Promise.resolve() };
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      api.watches.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'ConfigMapList',
        metadata: { resourceVersion: String(api.rv) },
        items: api.items,
      }),
    );
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  api.port = (server.address() as AddressInfo).port;
  api.close = () =>
    new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return api;
}

function kubeConfigFor(port: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

const cm = (name: string, rv: number): V1ConfigMap => ({
  metadata: { name, namespace: 'default', resourceVersion: String(rv), uid: `uid-${name}` },
});

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function makeInformer(api: FakeApi, seen: string[]): Informer<V1ConfigMap> {
  const kc = kubeConfigFor(api.port);
  const inf = new Informer<V1ConfigMap>({
    kubeConfig: kc,
    path: '/api/v1/namespaces/default/configmaps',
    fieldSelector: 'metadata.name!=skip',
    list: async (s) => {
      api.lists.push(s);
      const res = await fetch(`http://127.0.0.1:${api.port}/api/v1/namespaces/default/configmaps`);
      return (await res.json()) as KubernetesListObject<V1ConfigMap>;
    },
    backoff: { initialMs: 50, maxMs: 200 },
  });
  for (const ev of ['add', 'update', 'delete'] as const)
    inf.on(ev, (o) => seen.push(`${ev} ${o.metadata?.name}`));
  return inf;
}

test('lists, watches, and restarts after the server goes away and comes back', async (t) => {
  let api = await fakeApi(0, [cm('a', 1), cm('b', 2)]);
  const seen: string[] = [];
  const inf = makeInformer(api, seen);
  t.teardown(async () => {
    await inf.stop();
    await api.close();
  });

  await inf.start();
  t.true(inf.synced);
  t.deepEqual(api.lists[0], { fieldSelector: 'metadata.name!=skip' });
  t.deepEqual(seen.sort(), ['add a', 'add b']);
  await until('a watch', () => api.watches.length === 1);

  api.watches[0]!.write(JSON.stringify({ type: 'ADDED', object: cm('c', 11) }) + '\n');
  await until('the watched add', () => seen.includes('add c'));
  t.is(inf.get('c', 'default')?.metadata?.uid, 'uid-c');

  // The server dies; its replacement on the same port no longer has "b".
  const port = api.port;
  await api.close();
  await new Promise((r) => setTimeout(r, 300));
  api = await fakeApi(port, [cm('a', 1), cm('c', 11)]);
  api.rv = 20;
  // The restart resumes the watch from rv 11; make it expire so the informer relists.
  await until('a watch on the new server', () => api.watches.length === 1);
  api.watches[0]!.write(JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410 } }) + '\n');
  api.watches[0]!.end();
  await until('the relist to drop b', () => seen.includes('delete b'));
  t.deepEqual(
    inf
      .list()
      .map((o) => o.metadata?.name)
      .sort(),
    ['a', 'c'],
  );
});

test('start keeps retrying until the first list succeeds; stop ends it', async (t) => {
  const probe = await fakeApi();
  const port = probe.port;
  await probe.close();
  const seen: string[] = [];
  const pending: FakeApi = { port, items: [], rv: 1, watches: [], lists: [], close: () => Promise.resolve() };
  const inf = makeInformer(pending, seen);
  const started = inf.start();
  await new Promise((r) => setTimeout(r, 400));
  t.false(inf.synced);
  const api = await fakeApi(port, [cm('late', 3)]);
  t.teardown(() => api.close());
  await started;
  t.true(inf.synced);
  t.deepEqual(seen, ['add late']);
  await inf.stop();
  const watches = api.watches.length;
  await new Promise((r) => setTimeout(r, 300));
  t.is(api.watches.length, watches, 'no new watch after stop');
});

test('plain turns client-node Dates into API server time strings', (t) => {
  const obj = {
    metadata: { creationTimestamp: new Date('2024-05-01T10:00:00Z') },
    n: [new Date('2024-05-01T10:00:00.5Z')],
  };
  t.deepEqual(plain(obj) as unknown, {
    metadata: { creationTimestamp: '2024-05-01T10:00:00Z' },
    n: ['2024-05-01T10:00:00.500Z'],
  });
});
