/** docs/api.md is what docs/gen-api.ts makes of crds/ now: a CRD change without `npm run docs:api` fails here. */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { API_DOC, generateApiDoc } from '../gen-api.ts';

test('docs/api.md is current with crds/ (else: npm run docs:api)', async (t) => {
  t.is(readFileSync(API_DOC, 'utf8'), await generateApiDoc());
});

test('every field of SliceConfig spec is documented with its validation', async (t) => {
  const doc = await generateApiDoc();
  for (const row of [
    /\| `spec.subnet` +\| `string` .*\*\*required\*\*/,
    /\| `spec.maxClusters` +\| `integer` .*2 to 64/,
    /\| `spec.qos.dscp` .*one of `Default`/,
    /\| `spec.gateway.cipher` .*`chacha20-poly1305`/,
  ])
    t.regex(doc, row);
});
