/**
 * The HTTPS server in-process on 127.0.0.1, port 0, with the real handlers behind in-memory
 * lookups: malformed requests get a 400 with a message, the server keeps answering after
 * each, and metrics and probes report what happened.
 */
import anyTest, { type TestFn } from 'ava';
import { Agent, request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createLogger } from '../../lib/log.ts';
import { generateCa, issueServing } from '../certs.ts';
import { LookupError } from '../errors.ts';
import { podMutator, sliceConfigValidator } from '../handlers.ts';
import { WebhookMetrics } from '../metrics.ts';
import { ProbeServer } from '../../lib/http/probes.ts';
import { AdmissionServer } from '../server.ts';

const test = anyTest as TestFn<{
  server: AdmissionServer;
  probes: ProbeServer;
  ca: string;
  abort: AbortController;
}>;
const MAX = 64 * 1024;

test.before(async (t) => {
  const ca = await generateCa('test');
  const tls = await issueServing(ca, ['127.0.0.1'], 1);
  const metrics = new WebhookMetrics();
  const namespaces = {
    sliceOf: (ns: string): Promise<string | undefined> =>
      ns === 'broken'
        ? Promise.reject(new LookupError('namespace broken', new Error('connection refused')))
        : Promise.resolve(ns === 'shop' ? 'payments' : undefined),
  };
  const hub = { state: () => Promise.resolve({ hubNamespace: 'hub', others: [], clusters: [] }) };
  const server = new AdmissionServer({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: MAX,
    handlers: { '/mutate-pods': podMutator(namespaces), '/validate-sliceconfigs': sliceConfigValidator(hub) },
    metrics,
    log: createLogger('test'),
  });
  const probes = new ProbeServer({
    host: '127.0.0.1',
    port: 0,
    metrics: metrics.registry,
    notReady: () => undefined,
  });
  const abort = new AbortController();
  await server.start(tls, abort.signal);
  await probes.start(abort.signal);
  t.context = { server, probes, ca: ca.cert, abort };
});

test.after.always(async (t) => {
  t.context.abort?.abort();
  await t.context.server?.stop();
  await t.context.probes?.stop();
});

interface Reply {
  status: number;
  body: string;
  /** The request went on a connection kept from an earlier one. */
  reused: boolean;
}

function send(
  t: { context: { server: AdmissionServer; ca: string } },
  opts: {
    path?: string;
    body?: string | Buffer;
    type?: string | null;
    method?: string;
    chunked?: boolean;
    agent?: Agent;
  },
): Promise<Reply> {
  const body = opts.body ?? '';
  const headers: Record<string, string | number> = {};
  if (opts.type !== null) headers['content-type'] = opts.type ?? 'application/json';
  if (!opts.chunked) headers['content-length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: t.context.server.port,
        path: opts.path ?? '/mutate-pods',
        method: opts.method ?? 'POST',
        ca: t.context.ca,
        headers,
        agent: opts.agent ?? false,
      },
      (res) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (c: string) => (text += c))
          .on('end', () => resolve({ status: res.statusCode!, body: text, reused: req.reusedSocket }));
      },
    );
    req.on('error', reject);
    if (opts.chunked) {
      // Streamed in pieces with no content-length, so the cap must hold while reading.
      for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.slice(i, i + 16 * 1024));
      req.end();
    } else req.end(body);
  });
}

const review = (request: object): string =>
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
const podCreate = (namespace: string, uid = 'u-1'): string =>
  review({
    uid,
    kind: { group: '', version: 'v1', kind: 'Pod' },
    operation: 'CREATE',
    namespace,
    object: { metadata: { name: 'p' }, spec: {} },
  });

interface Answer {
  response: {
    uid: string;
    allowed: boolean;
    patchType?: string;
    patch?: string;
    status?: { code: number; message: string };
  };
}

async function goodReviewStillAnswered(
  t: Parameters<typeof send>[0] & { is: (a: unknown, b: unknown) => void },
): Promise<void> {
  const r = await send(t, { body: podCreate('shop', 'after') });
  t.is(r.status, 200);
  const a = JSON.parse(r.body) as Answer;
  t.is(a.response.uid, 'after');
  t.is(a.response.patchType, 'JSONPatch');
}

// prettier-ignore
const malformed: [string, Parameters<typeof send>[1], RegExp][] = [
  ['non-JSON', { body: 'this is not json' }, /^body is not JSON: /],
  ['JSON but not an object', { body: '[1,2]' }, /^body is not a JSON object/],
  ['wrong kind', { body: JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'Pod', request: {} }) }, /expected kind AdmissionReview, apiVersion admission.k8s.io\/v1; got kind "Pod"/],
  ['wrong apiVersion', { body: JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: {} }) }, /got kind "AdmissionReview", apiVersion "admission.k8s.io\/v1beta1"/],
  ['no request', { body: JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }) }, /^AdmissionReview has no request/],
  ['no uid', { body: review({ kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE' }) }, /^request\.uid is missing/],
  ['no object on a pod create', { body: review({ uid: 'x', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'shop' }) }, /^request\.object is missing for a Pod CREATE/],
  ['bad operation', { body: review({ uid: 'x', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'PATCH' }) }, /^request\.operation "PATCH"/],
  ['wrong content type', { body: podCreate('shop'), type: 'text/plain' }, /^content type "text\/plain"; send application\/json/],
  ['no content type', { body: podCreate('shop'), type: null }, /^content type "\(none\)"/],
  ['oversized (content-length)', { body: 'x'.repeat(MAX + 1) }, new RegExp(`^body is larger than the ${MAX}-byte limit`)],
  ['oversized (chunked)', { body: 'x'.repeat(MAX * 4), chunked: true }, new RegExp(`^body is larger than the ${MAX}-byte limit`)],
];

for (const [title, opts, message] of malformed) {
  test(`server: ${title} → 400 with a message, and the server still answers`, async (t) => {
    const r = await send(t, opts);
    t.is(r.status, 400);
    t.regex(r.body, message);
    await goodReviewStillAnswered(t);
  });
}

test('server: a pod in a joined namespace gets a JSON patch; others are allowed unchanged', async (t) => {
  const a = JSON.parse((await send(t, { body: podCreate('shop') })).body) as Answer;
  t.like(a.response, { uid: 'u-1', allowed: true, patchType: 'JSONPatch' });
  const patch = JSON.parse(Buffer.from(a.response.patch!, 'base64').toString()) as { path: string }[];
  t.deepEqual(
    patch.map((p) => p.path),
    ['/metadata/annotations', '/metadata/labels'],
  );
  const b = JSON.parse((await send(t, { body: podCreate('other', 'u-2') })).body) as Answer;
  t.deepEqual(b.response, { uid: 'u-2', allowed: true });
});

test('server: a failed lookup is a denial that says why, not a crash', async (t) => {
  const r = await send(t, { body: podCreate('broken', 'u-3') });
  t.is(r.status, 200);
  const a = JSON.parse(r.body) as Answer;
  t.like(a.response, {
    uid: 'u-3',
    allowed: false,
    status: { code: 500, message: 'cannot read namespace broken: connection refused' },
  });
  await goodReviewStillAnswered(t);
});

test('server: an invalid SliceConfig is denied with the field-naming message', async (t) => {
  const body = review({
    uid: 'v-1',
    kind: { group: 'slicenet.dev', version: 'v1alpha1', kind: 'SliceConfig' },
    operation: 'CREATE',
    namespace: 'hub',
    object: { metadata: { name: 's', namespace: 'hub' }, spec: { subnet: '8.8.0.0/16' } },
  });
  const a = JSON.parse((await send(t, { path: '/validate-sliceconfigs', body })).body) as Answer;
  t.like(a.response, { uid: 'v-1', allowed: false, status: { code: 422 } });
  t.regex(a.response.status!.message, /^spec\.subnet: 8\.8\.0\.0\/16 is not a private range/);
});

test('server: an idle connection outlives the 5 s Node default, as the API server reuses it for 90 s', async (t) => {
  t.timeout(30_000);
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: t.context.ca });
  t.teardown(() => agent.destroy());
  t.is((await send(t, { body: podCreate('shop', 'first'), agent })).status, 200);
  await new Promise((r) => setTimeout(r, 6000));
  const second = await send(t, { body: podCreate('shop', 'second'), agent });
  t.is(second.status, 200);
  t.true(second.reused, 'the second review came on a new connection: a TLS handshake per pause');
});

test('server: unknown path 404, wrong method 405', async (t) => {
  t.is((await send(t, { path: '/nope', body: podCreate('shop') })).status, 404);
  t.is((await send(t, { method: 'GET' })).status, 405);
});

function get(port: number, path: string): Promise<Omit<Reply, 'reused'>> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path }, (res) => {
      let text = '';
      res
        .setEncoding('utf8')
        .on('data', (c: string) => (text += c))
        .on('end', () => resolve({ status: res.statusCode!, body: text }));
    })
      .on('error', reject)
      .end();
  });
}

test('server: probes answer and metrics count requests by webhook and result', async (t) => {
  await send(t, { body: 'garbage' });
  t.is((await get(t.context.probes.port, '/healthz')).status, 200);
  t.is((await get(t.context.probes.port, '/readyz')).status, 200);
  const m = await get(t.context.probes.port, '/metrics');
  t.regex(m.body, /slicenet_webhook_requests_total\{webhook="mutate-pods",result="bad_request"\} [1-9]/);
  t.regex(m.body, /slicenet_webhook_requests_total\{webhook="mutate-pods",result="patched"\} [1-9]/);
  t.regex(m.body, /slicenet_webhook_duration_seconds_bucket\{le="0.1",webhook="mutate-pods"\} [1-9]/);
});
