/**
 * Every error code the webhook has maps to an HTTP status and is documented in the README
 * (fastify's rule: a code nobody can look up is a code nobody can act on).
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import {
  AdmissionReviewError,
  ConfigError,
  HTTP_STATUS,
  LookupError,
  TlsError,
  httpStatusOf,
} from '../errors.ts';
import { NetworksAnnotationError } from '../networks.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const all = [
  new AdmissionReviewError('x'),
  new LookupError('x', new Error('y')),
  new ConfigError('x', 'y'),
  new TlsError('x'),
  new NetworksAnnotationError('x'),
];

test('errors: every code is in the README', (t) => {
  for (const e of all) t.true(readme.includes(`\`${e.code}\``), `${e.code} documented`);
});

test('errors: codes answered over HTTP have their status', (t) => {
  t.is(httpStatusOf(new AdmissionReviewError('x')), 400);
  t.is(httpStatusOf(new LookupError('x', undefined)), 500);
  t.is(httpStatusOf(new Error('bug')), 500);
  for (const code of Object.keys(HTTP_STATUS)) t.true(readme.includes(`\`${code}\``));
});
