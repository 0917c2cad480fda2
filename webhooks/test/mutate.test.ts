/**
 * The pod mutation, one row per case: what the patched pod looks like (the patch is applied,
 * so a row states the outcome a user sees, not the ops), or why it was skipped or rejected.
 */
import test from 'ava';
import { escapePointer, mutatePod, type JsonPatchOp, type PodLike } from '../mutate.ts';
import { parseNetworks } from '../networks.ts';

const NET = 'k8s.v1.cni.cncf.io/networks';
const ours = { name: 'slicenet-payments', interface: 'slice0' };

/** A minimal RFC 6902 `add`/`replace` on objects, enough to check what the patch does. */
function applyPatch(doc: unknown, ops: JsonPatchOp[]): unknown {
  const out = structuredClone(doc) as Record<string, unknown>;
  for (const op of ops) {
    const tokens = op.path
      .split('/')
      .slice(1)
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = tokens.pop()!;
    let target = out;
    for (const t of tokens) {
      if (typeof target[t] !== 'object' || target[t] === null) throw new Error(`no parent for ${op.path}`);
      target = target[t] as Record<string, unknown>;
    }
    if (op.op === 'replace' && !(last in target)) throw new Error(`replace of missing ${op.path}`);
    target[last] = op.value;
  }
  return out;
}

const pod = (
  annotations?: Record<string, string>,
  labels?: Record<string, string>,
  hostNetwork?: boolean,
): PodLike => ({
  metadata: { ...(annotations ? { annotations } : {}), ...(labels ? { labels } : {}) },
  spec: hostNetwork === undefined ? {} : { hostNetwork },
});

interface Row {
  title: string;
  pod: PodLike;
  slice?: string;
  /** The networks annotation after the patch, parsed. */
  networks?: unknown[];
  skip?: string;
  reject?: RegExp;
}

// prettier-ignore
const rows: Row[] = [
  { title: 'no annotation: JSON form with our entry', pod: pod(), networks: [ours] },
  { title: 'empty annotation', pod: pod({ [NET]: '' }), networks: [ours] },
  { title: 'short form is kept and converted to JSON', pod: pod({ [NET]: 'a, b@eth1 ,ns/c' }),
    networks: [{ name: 'a' }, { name: 'b', interface: 'eth1' }, { name: 'c', namespace: 'ns' }, ours] },
  { title: 'JSON form keeps unknown fields verbatim', pod: pod({ [NET]: '[{"name":"x","ips":["10.1.1.1/24"],"mac":"c2:11:22:33:44:55"}]' }),
    networks: [{ name: 'x', ips: ['10.1.1.1/24'], mac: 'c2:11:22:33:44:55' }, ours] },
  { title: 'other annotations are kept', pod: pod({ other: 'x' }), networks: [ours] },
  { title: 'another slice is kept', pod: pod({ [NET]: 'slicenet-other@slice1' }),
    networks: [{ name: 'slicenet-other', interface: 'slice1' }, ours] },
  { title: 'same name in another namespace is another network', pod: pod({ [NET]: 'elsewhere/slicenet-payments' }),
    networks: [{ name: 'slicenet-payments', namespace: 'elsewhere' }, ours] },
  { title: 'already present (JSON), label set: no patch', pod: pod({ [NET]: JSON.stringify([ours]) }, { 'slicenet.dev/slice': 'payments' }), skip: 'already on the slice' },
  { title: 'already present (short form, own namespace), label set: no patch', pod: pod({ [NET]: 'shop/slicenet-payments@slice0' }, { 'slicenet.dev/slice': 'payments' }), skip: 'already on the slice' },
  { title: 'already present but label missing: only the label is added', pod: pod({ [NET]: 'slicenet-payments' }),
    networks: [{ name: 'slicenet-payments' }] },
  { title: 'hostNetwork pod', pod: pod(undefined, undefined, true), skip: 'host network' },
  { title: 'excluded pod', pod: pod(undefined, { 'slicenet.dev/exclude': 'true' }), skip: 'excluded' },
  { title: 'exclude=false does not exclude', pod: pod(undefined, { 'slicenet.dev/exclude': 'false' }), networks: [ours] },
  { title: 'namespace not joined', pod: pod(), slice: '', skip: 'namespace not joined' },
  { title: 'malformed JSON is rejected, not dropped', pod: pod({ [NET]: '[{"name":' }), reject: /not valid JSON.*will not drop/ },
  { title: 'JSON object instead of list', pod: pod({ [NET]: '{"name":"a"}' }), reject: /must be a list/ },
  { title: 'JSON entry without name', pod: pod({ [NET]: '[{"interface":"eth1"}]' }), reject: /entry 0 has no "name"/ },
  { title: 'short form with two slashes', pod: pod({ [NET]: 'a/b/c' }), reject: /more than one "\/"/ },
  { title: 'short form with upper case', pod: pod({ [NET]: 'Net1' }), reject: /"Net1" in "Net1" is not a DNS-1123 label/ },
  { title: 'short form with an empty entry', pod: pod({ [NET]: 'a,,b' }), reject: /entry 1 of "a,,b" is empty/ },
  { title: 'a pod without metadata', pod: { spec: {} }, networks: [ours] },
];

for (const row of rows) {
  test(`mutate: ${row.title}`, (t) => {
    const r = mutatePod(row.pod, 'shop', row.slice ?? 'payments');
    if (row.skip) return t.deepEqual(r, { kind: 'skip', reason: row.skip });
    if (row.reject) {
      t.is(r.kind, 'reject');
      if (r.kind === 'reject') {
        t.regex(r.message, row.reject);
        t.true(r.message.startsWith(`metadata.annotations["${NET}"]: `), 'names the field');
      }
      return;
    }
    if (r.kind !== 'patch') return t.fail(`expected a patch, got ${JSON.stringify(r)}`);
    const after = applyPatch(row.pod, r.patch) as Required<PodLike>;
    t.deepEqual(parseNetworks(after.metadata.annotations?.[NET] ?? ''), row.networks);
    t.is(after.metadata.labels?.['slicenet.dev/slice'], 'payments');
    for (const [k, v] of Object.entries(row.pod.metadata?.annotations ?? {})) {
      if (k !== NET) t.is(after.metadata.annotations?.[k], v, `annotation ${k} kept`);
    }
    // Idempotent: the patched pod needs nothing more (reinvocationPolicy: IfNeeded).
    t.like(mutatePod(after, 'shop', 'payments'), { kind: 'skip' });
  });
}

test('mutate: a wrong slice label on the pod is replaced, other labels kept', (t) => {
  const p = pod(undefined, { app: 'web', 'slicenet.dev/slice': 'other' });
  const r = mutatePod(p, 'shop', 'payments');
  if (r.kind !== 'patch') return t.fail();
  t.deepEqual(r.patch[1], { op: 'replace', path: '/metadata/labels/slicenet.dev~1slice', value: 'payments' });
  t.deepEqual((applyPatch(p, r.patch) as Required<PodLike>).metadata.labels, {
    app: 'web',
    'slicenet.dev/slice': 'payments',
  });
});

test('mutate: annotation keys are escaped in the JSON pointer', (t) => {
  const r = mutatePod(pod({ a: 'b' }), 'shop', 'payments');
  if (r.kind !== 'patch') return t.fail();
  t.is(r.patch[0]!.path, '/metadata/annotations/k8s.v1.cni.cncf.io~1networks');
  t.is(escapePointer('a~b/c'), 'a~0b~1c');
});
