import test from 'ava';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterPki } from '../pki.ts';

test('a client certificate asked for by several nodes at once is issued once and matches its key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'slicenet-pki-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pki = new ClusterPki(dir);
  await pki.init('c1');
  // Each caller reads the pair as soon as its own promise resolves, as a node's kubeconfig
  // user would: every one must see the same certificate.
  const seen = await Promise.all(
    Array.from({ length: 8 }, async () => {
      const files = await pki.client('multus', { user: 'slicenet-lab:multus' });
      return { files, pem: readFileSync(files.cert, 'utf8') };
    }),
  );
  t.is(new Set(seen.map((s) => s.pem)).size, 1, 'one certificate, issued once');
  const all = seen.map((s) => s.files);
  const cert = new X509Certificate(readFileSync(all[0]!.cert));
  t.true(cert.checkPrivateKey(createPrivateKey(readFileSync(all[0]!.key))));
  t.true(cert.verify(new X509Certificate(readFileSync(pki.ca.cert)).publicKey));
  t.regex(cert.subject, /CN=slicenet-lab:multus/);
});
