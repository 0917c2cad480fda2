/**
 * The CRD manifests, read as the API server will read them: the conventions every kind
 * follows, and agreement with the TypeScript types. What the API server accepts and refuses
 * is tested in validation.test.ts, against a real one.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadAllYaml,
  type V1CustomResourceDefinition,
  type V1JSONSchemaProps,
} from '@kubernetes/client-node';
import { CIPHERS, DSCP_CLASSES, GROUP, VERSION, resources } from '../types.ts';

const dir = join(import.meta.dirname, '..', '..', '..', 'crds');
// Slicenet's own API; the Multi-Cluster Services CRDs beside it are tested in dns/test.
const files = readdirSync(dir).filter((f) => f.startsWith(`${GROUP}_`) && f.endsWith('.yaml'));
const crds = files.flatMap(
  (f) => loadAllYaml(readFileSync(join(dir, f), 'utf8')) as V1CustomResourceDefinition[],
);
const byKind = new Map(crds.map((c) => [c.spec.names.kind, c]));

function schemaOf(kind: string): V1JSONSchemaProps {
  return byKind.get(kind)!.spec.versions[0]!.schema!.openAPIV3Schema!;
}

/** Every schema node under `s`, with its path. */
function* walk(s: V1JSONSchemaProps, path = ''): Generator<[string, V1JSONSchemaProps]> {
  yield [path, s];
  for (const [k, v] of Object.entries(s.properties ?? {})) yield* walk(v, `${path}.${k}`);
  if (s.items) yield* walk(s.items as V1JSONSchemaProps, `${path}[]`);
  if (typeof s.additionalProperties === 'object')
    yield* walk(s.additionalProperties as V1JSONSchemaProps, `${path}{}`);
}

test('one CRD per file, one for each kind of the API, named as types.ts says', (t) => {
  t.is(crds.length, files.length);
  t.deepEqual([...byKind.keys()].sort(), Object.keys(resources).sort());
  for (const r of Object.values(resources)) {
    const crd = byKind.get(r.kind)!;
    t.is(crd.metadata?.name, `${r.plural}.${GROUP}`);
    t.is(crd.spec.group, GROUP);
    t.is(crd.spec.names.plural, r.plural);
    t.is(crd.spec.scope, r.namespaced ? 'Namespaced' : 'Cluster', r.kind);
  }
});

test('every kind: one served storage version, a status subresource, an Age column, category slicenet', (t) => {
  for (const crd of crds) {
    const kind = crd.spec.names.kind;
    t.is(crd.spec.versions.length, 1, kind);
    const v = crd.spec.versions[0]!;
    t.like(v, { name: VERSION, served: true, storage: true }, kind);
    t.truthy(v.subresources?.status, `${kind} has a status subresource`);
    t.is(v.additionalPrinterColumns?.at(-1)?.name, 'Age', kind);
    t.true(crd.spec.names.categories?.includes('slicenet'), kind);
    t.truthy(v.schema?.openAPIV3Schema?.properties?.status, `${kind} has a status schema`);
  }
});

test('SliceConfig prints subnet, clusters, ready and age (SPEC §3.1)', (t) => {
  const columns = byKind.get('SliceConfig')!.spec.versions[0]!.additionalPrinterColumns!.map((c) => c.name);
  t.deepEqual(columns, ['Subnet', 'Clusters', 'Ready', 'Age']);
});

test('every CEL rule has its own message, and transition rules say what is immutable', (t) => {
  let rules = 0;
  for (const crd of crds) {
    for (const [path, s] of walk(schemaOf(crd.spec.names.kind))) {
      for (const v of s.x_kubernetes_validations ?? []) {
        rules++;
        t.truthy(v.message, `${crd.spec.names.kind}${path}: "${v.rule}" has a message`);
        if (v.rule.includes('oldSelf'))
          t.regex(v.message ?? '', /immutable/, `${crd.spec.names.kind}${path}`);
      }
    }
  }
  t.true(rules > 10);
});

test('immutable fields: SliceConfig subnet and maxClusters, SliceIPBlock spec', (t) => {
  const immutable = (kind: string) =>
    [...walk(schemaOf(kind))]
      .filter(([, s]) => s.x_kubernetes_validations?.some((v) => v.rule === 'self == oldSelf'))
      .map(([path]) => path);
  t.deepEqual(immutable('SliceConfig'), ['.spec.subnet', '.spec.maxClusters']);
  t.deepEqual(immutable('SliceIPBlock'), ['.spec']);
});

test('WorkerSlice and Slice share one spec and status schema', (t) => {
  const ws = schemaOf('WorkerSlice').properties!;
  const sl = schemaOf('Slice').properties!;
  t.deepEqual(sl.spec, ws.spec);
  t.deepEqual(sl.status, ws.status);
});

test('DSCP classes and ciphers are the same in every CRD and in types.ts', (t) => {
  let seen = 0;
  for (const crd of crds) {
    for (const [path, s] of walk(schemaOf(crd.spec.names.kind))) {
      if (path.endsWith('.qos.dscp')) {
        t.deepEqual(s._enum, [...DSCP_CLASSES], `${crd.spec.names.kind}${path}`);
        seen++;
      }
      if (path.endsWith('.gateway.cipher')) {
        t.deepEqual(s._enum, [...CIPHERS], `${crd.spec.names.kind}${path}`);
        seen++;
      }
    }
  }
  t.is(seen, 6, 'SliceConfig, WorkerSlice and Slice each have both');
});

test('conditions are a list keyed by type, in every kind that has them', (t) => {
  for (const kind of ['SliceConfig', 'Cluster', 'WorkerSlice', 'Slice']) {
    const c = schemaOf(kind).properties!.status!.properties!.conditions!;
    t.is(c.x_kubernetes_list_type, 'map', kind);
    t.deepEqual(c.x_kubernetes_list_map_keys, ['type'], kind);
    t.deepEqual((c.items as V1JSONSchemaProps).required, [
      'type',
      'status',
      'reason',
      'message',
      'lastTransitionTime',
    ]);
  }
});
