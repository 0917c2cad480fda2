/** Operator-supplied certificates: read from files each time, refused when they cannot work. */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../lib/log.ts';
import { generateCa, issueServing } from '../certs.ts';
import { loadConfig } from '../config.ts';
import { TlsManager, servingNames } from '../tls.ts';

const dir = mkdtempSync(join(tmpdir(), 'webhook-tls-test-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string): string => {
  writeFileSync(join(dir, name), content);
  return join(dir, name);
};
const manager = (argv: string[]): TlsManager =>
  new TlsManager(loadConfig(argv, {}), undefined, createLogger('test'));

test('tls: supplied files are used, and the CA file becomes caBundle', async (t) => {
  const ca = await generateCa('op');
  const s = await issueServing(ca, ['x.svc'], 2);
  const argv = ['--tls-cert-file', file('c.pem', s.cert), '--tls-key-file', file('k.pem', s.key)];
  t.deepEqual(await manager(argv).ensure(), { serving: s, caBundle: undefined });
  const withCa = await manager([...argv, '--tls-ca-file', file('ca.pem', ca.cert)]).ensure();
  t.is(withCa.caBundle, ca.cert);
});

test('tls: a key that is not the certificate’s, or a missing file, is refused', async (t) => {
  const ca = await generateCa('op');
  const [a, b] = await Promise.all([issueServing(ca, ['a'], 2), issueServing(ca, ['b'], 2)]);
  const cert = file('a.pem', a.cert);
  await t.throwsAsync(manager(['--tls-cert-file', cert, '--tls-key-file', file('b.key', b.key)]).ensure(), {
    message: /b\.key is not the key of .*a\.pem/,
  });
  await t.throwsAsync(manager(['--tls-cert-file', cert, '--tls-key-file', join(dir, 'none')]).ensure(), {
    message: /^cannot read the supplied TLS files: ENOENT/,
  });
});

test('tls: serving names are the Service names, plus the URL host', (t) => {
  const cfg = loadConfig(['--namespace', 'sn', '--client-config', 'url', '--url-host', '198.18.1.2'], {});
  t.deepEqual(servingNames(cfg), [
    'slicenet-webhook.sn.svc',
    'slicenet-webhook',
    'slicenet-webhook.sn',
    'slicenet-webhook.sn.svc.cluster.local',
    '198.18.1.2',
  ]);
});
