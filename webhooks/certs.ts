/**
 * The webhook's own small PKI: a CA and a serving certificate, made with the openssl CLI (as
 * the lab's PKI is; no npm dependency to vet), and checked with node:crypto's X509Certificate.
 *
 * ECDSA P-256 keys: generated in milliseconds, and accepted by every API server version.
 * The CA lives ten years and only signs serving certificates, so renewing a serving
 * certificate leaves caBundle unchanged and the API server never sees an unknown issuer.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../lib/exec.ts';

export const CA_VALIDITY_DAYS = 3650;

export interface KeyPair {
  cert: string;
  key: string;
}

/** All four PEMs; `caCert` may hold more than one certificate (the previous CA, during a CA change). */
export interface CertBundle {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function generateCa(subject: string): Promise<KeyPair> {
  return inTempDir(async (dir) => {
    // prettier-ignore
    await run([
      'openssl', 'req', '-x509', ...EC, '-days', String(CA_VALIDITY_DAYS),
      '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'), '-subj', `/CN=${subject}`,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return {
      cert: await readFile(join(dir, 'ca.crt'), 'utf8'),
      key: await readFile(join(dir, 'ca.key'), 'utf8'),
    };
  });
}

/** A serving certificate for `names` (DNS names and IPs), signed by `ca`. */
export async function issueServing(ca: KeyPair, names: string[], days: number): Promise<KeyPair> {
  const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  return inTempDir(async (dir) => {
    const [caCert, caKey] = [join(dir, 'ca.crt'), join(dir, 'ca.key')];
    await Promise.all([writeSecretFile(caCert, firstPem(ca.cert)), writeSecretFile(caKey, ca.key)]);
    // prettier-ignore
    await run([
      'openssl', 'req', '-x509', ...EC, '-days', String(days), '-CA', caCert, '-CAkey', caKey,
      '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-subj', `/CN=${names[0]}`,
      '-addext', 'basicConstraints=critical,CA:FALSE',
      '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
      '-addext', 'extendedKeyUsage=serverAuth',
      '-addext', `subjectAltName=${san}`,
    ]);
    return {
      cert: await readFile(join(dir, 'tls.crt'), 'utf8'),
      key: await readFile(join(dir, 'tls.key'), 'utf8'),
    };
  });
}

export type Verdict =
  { action: 'keep' } | { action: 'reissue'; why: string } | { action: 'regenerate'; why: string };

/** Whether `b` can go on serving `names` for at least `renewBeforeMs` more, and if not, what to redo. */
export function inspect(b: CertBundle, names: string[], now: Date, renewBeforeMs: number): Verdict {
  const ca = parse(firstPem(b.caCert));
  if (!ca || !ca.ca || !matches(ca, b.caKey))
    return { action: 'regenerate', why: 'CA unreadable or not matching its key' };
  if (Date.parse(ca.validTo) - now.getTime() < renewBeforeMs)
    return { action: 'regenerate', why: `CA expires ${ca.validTo}` };
  const cert = parse(b.cert);
  if (!cert || !matches(cert, b.key))
    return { action: 'reissue', why: 'certificate unreadable or not matching its key' };
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey))
    return { action: 'reissue', why: 'certificate not signed by the CA' };
  if (Date.parse(cert.validTo) - now.getTime() < renewBeforeMs)
    return { action: 'reissue', why: `certificate expires ${cert.validTo}` };
  const missing = names.filter((n) =>
    isIP(n) ? !cert.checkIP(n) : !cert.checkHost(n, { subject: 'never', wildcards: false }),
  );
  if (missing.length > 0)
    return { action: 'reissue', why: `certificate does not cover ${missing.join(', ')}` };
  return { action: 'keep' };
}

/** True if `cert` belongs to private key `key` (both PEM). */
export function matches(cert: X509Certificate, key: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(key));
  } catch {
    return false;
  }
}

export function parse(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** The PEM certificates in `text`, in order. */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

const firstPem = (text: string): string => splitPem(text)[0] ?? '';

function writeSecretFile(path: string, content: string): Promise<void> {
  return writeFile(path, content, { mode: 0o600 });
}

/** Runs `body` with a private scratch directory, removed afterwards: the CA key passes through it. */
async function inTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'slicenet-webhook-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
