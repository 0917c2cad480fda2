/**
 * Every code has its mapping and its line in the README (fastify's rule: a code nobody can
 * look up is a code nobody can act on).
 */
import test from 'ava';
import { status } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { GRPC_STATUS } from '../agent/status.ts';
import { CNI_CODES, CniError, errorJson, toCniError } from '../cni/errors.ts';
import { AGENT_ERROR_CODES, AgentError } from '../errors.ts';

const readme = readFileSync(new URL('../cni/README.md', import.meta.url), 'utf8');

test('errors: every CNI code is in the README with its number', (t) => {
  for (const [name, code] of Object.entries(CNI_CODES)) {
    t.regex(readme, new RegExp(`\\| ${code} \\| \`${name}\``), name);
  }
});

test('errors: every agent code maps to a gRPC status and is in the README', (t) => {
  for (const code of AGENT_ERROR_CODES) {
    t.not(GRPC_STATUS[code], undefined, code);
    t.true(readme.includes(`\`${code}\``), code);
  }
  t.is(GRPC_STATUS.INTERNAL, status.INTERNAL);
});

test('errors: error JSON has the spec fields, details only when there are some', (t) => {
  t.deepEqual(JSON.parse(errorJson(new CniError('TRY_AGAIN_LATER', 'later'), '0.3.1')), {
    cniVersion: '0.3.1',
    code: 11,
    msg: 'later',
  });
  t.deepEqual(JSON.parse(errorJson(new CniError('NOT_JOINED', 'no', 'why'), '1.1.0')), {
    cniVersion: '1.1.0',
    code: 101,
    msg: 'no',
    details: 'why',
  });
  t.is(
    toCniError(new AgentError('NOT_JOINED', 'x')).cniCode,
    999,
    'an AgentError reaching the plugin unmapped is a bug',
  );
});
