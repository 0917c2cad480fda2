/**
 * Certificates for one lab cluster, made with the openssl CLI: a cluster CA, the apiserver's
 * serving certificate, and client certificates whose subject carries the identity the
 * apiserver authenticates (CN = user, O = groups). ECDSA P-256 keys: fast to generate and
 * accepted by every Kubernetes component, including service-account token signing.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib/exec.ts';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface ClientIdentity {
  user: string;
  groups?: string[];
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export class ClusterPki {
  readonly ca: CertFiles;
  /**
   * Issuances in flight, by file name. Nodes are prepared concurrently and share client
   * certificates (every node's Multus uses `multus`): two openssl runs writing the same pair
   * would interleave into a key that does not match its certificate.
   */
  private readonly issuing = new Map<string, Promise<CertFiles>>();

  constructor(private readonly dir: string) {
    this.ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  }

  async init(clusterName: string): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    if (existsSync(this.ca.cert)) return;
    await run([
      'openssl',
      'req',
      '-x509',
      ...EC,
      '-days',
      '3650',
      '-keyout',
      this.ca.key,
      '-out',
      this.ca.cert,
      '-subj',
      `/CN=slicenet-lab-${clusterName}-ca`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const sa = join(this.dir, 'sa.key');
    await run(['openssl', 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', sa]);
    await run(['openssl', 'ec', '-in', sa, '-pubout', '-out', join(this.dir, 'sa.pub')]);
  }

  get serviceAccountKey(): CertFiles {
    return { cert: join(this.dir, 'sa.pub'), key: join(this.dir, 'sa.key') };
  }

  async serving(name: string, dnsNames: string[], ips: string[]): Promise<CertFiles> {
    const san = [...dnsNames.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)].join(',');
    return this.issue(name, `/CN=${name}`, ['extendedKeyUsage=serverAuth', `subjectAltName=${san}`]);
  }

  async client(name: string, id: ClientIdentity): Promise<CertFiles> {
    const subject = [...(id.groups ?? []).map((g) => `/O=${g}`), `/CN=${id.user}`].join('');
    return this.issue(name, subject, ['extendedKeyUsage=clientAuth']);
  }

  private issue(name: string, subject: string, exts: string[]): Promise<CertFiles> {
    let pending = this.issuing.get(name);
    if (!pending) {
      pending = this.issueOnce(name, subject, exts);
      this.issuing.set(name, pending);
    }
    return pending;
  }

  /** Writes the pair under temporary names and renames them, key first, so a reader never
   *  sees a certificate without its key. */
  private async issueOnce(name: string, subject: string, exts: string[]): Promise<CertFiles> {
    const files = { cert: join(this.dir, `${name}.crt`), key: join(this.dir, `${name}.key`) };
    if (existsSync(files.cert)) return files;
    const tmp = { cert: `${files.cert}.tmp`, key: `${files.key}.tmp` };
    await run([
      'openssl',
      'req',
      '-x509',
      ...EC,
      '-days',
      '365',
      '-CA',
      this.ca.cert,
      '-CAkey',
      this.ca.key,
      '-keyout',
      tmp.key,
      '-out',
      tmp.cert,
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      ...exts.flatMap((e) => ['-addext', e]),
    ]);
    renameSync(tmp.key, files.key);
    renameSync(tmp.cert, files.cert);
    return files;
  }
}

/** A kubeconfig with one cluster, one user (client certificate) and one current context. */
export function writeKubeconfig(
  path: string,
  opts: { cluster: string; server: string; caFile: string; user: string; client: CertFiles },
): void {
  const context = opts.cluster;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: opts.cluster, cluster: { server: opts.server, 'certificate-authority': opts.caFile } },
    ],
    users: [
      { name: opts.user, user: { 'client-certificate': opts.client.cert, 'client-key': opts.client.key } },
    ],
    contexts: [{ name: context, context: { cluster: opts.cluster, user: opts.user } }],
    'current-context': context,
  };
  writeFileSync(path, JSON.stringify(doc, null, 2));
}
