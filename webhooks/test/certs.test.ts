/**
 * The generated PKI with the real openssl: what inspect() says about fresh, expiring,
 * mismatched and too-narrow certificates decides whether a restart reuses the Secret.
 */
import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { generateCa, inspect, issueServing, splitPem, type CertBundle } from '../certs.ts';

const names = ['slicenet-webhook.slicenet-system.svc', 'slicenet-webhook', '198.18.1.2'];
const DAY = 86_400_000;
let bundle: CertBundle;

test.before(async () => {
  const ca = await generateCa('test-ca');
  const serving = await issueServing(ca, names, 365);
  bundle = { caCert: ca.cert, caKey: ca.key, ...serving };
});

test('certs: a fresh bundle is kept, and covers the DNS names and the IP', (t) => {
  t.deepEqual(inspect(bundle, names, new Date(), 30 * DAY), { action: 'keep' });
  const cert = new X509Certificate(bundle.cert);
  t.truthy(cert.checkIP('198.18.1.2'));
  t.truthy(cert.checkHost('slicenet-webhook.slicenet-system.svc'));
  t.false(cert.ca);
});

test('certs: a certificate near expiry is reissued from the same CA', (t) => {
  const in340days = new Date(Date.now() + 340 * DAY);
  t.like(inspect(bundle, names, in340days, 30 * DAY), { action: 'reissue' });
});

test('certs: a CA near expiry is regenerated', (t) => {
  const in3640days = new Date(Date.now() + 3640 * DAY);
  t.like(inspect(bundle, names, in3640days, 30 * DAY), { action: 'regenerate' });
});

test('certs: a name the certificate lacks means reissue', (t) => {
  const r = inspect(bundle, [...names, '198.18.2.2'], new Date(), DAY);
  t.deepEqual(r, { action: 'reissue', why: 'certificate does not cover 198.18.2.2' });
});

test('certs: a certificate from another CA, or a wrong key, means reissue; a wrong CA key, regenerate', async (t) => {
  const other = await generateCa('other');
  const foreign = await issueServing(other, names, 365);
  t.like(inspect({ ...bundle, cert: foreign.cert, key: foreign.key }, names, new Date(), DAY), {
    action: 'reissue',
    why: 'certificate not signed by the CA',
  });
  t.like(inspect({ ...bundle, key: foreign.key }, names, new Date(), DAY), { action: 'reissue' });
  t.like(inspect({ ...bundle, caKey: other.key }, names, new Date(), DAY), { action: 'regenerate' });
  t.like(inspect({ ...bundle, caCert: 'junk' }, names, new Date(), DAY), { action: 'regenerate' });
});

test('certs: a CA bundle with the previous CA appended still signs with the first', (t) => {
  const two = bundle.caCert + bundle.caCert;
  t.is(splitPem(two).length, 2);
  t.deepEqual(inspect({ ...bundle, caCert: two }, names, new Date(), DAY), { action: 'keep' });
});
