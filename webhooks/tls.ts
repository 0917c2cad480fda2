/**
 * Where the serving certificate comes from, decided again on every resync:
 *
 * - Supplied by the operator (files): read them each time, so that a certificate rotated in
 *   place (cert-manager, a mounted Secret) is picked up; caBundle is the CA file if given,
 *   otherwise left to whoever manages it (e.g. cert-manager's CA injector).
 * - Generated: kept in the Secret `slicenet-webhook-tls` (kubernetes.io/tls, plus `ca.key`),
 *   reused while it is valid for longer than renewBeforeDays and covers every name the API
 *   server may dial. Replicas share it: a write carries the resourceVersion read, and the
 *   replica that loses the race (409) takes the winner's certificate, so all serve one CA.
 */
import { readFile } from 'node:fs/promises';
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { isConflict, isNotFound } from '../lib/kube/client.ts';
import type { Logger } from '../lib/log.ts';
import { generateCa, inspect, issueServing, matches, parse, splitPem, type CertBundle } from './certs.ts';
import type { WebhookConfig } from './config.ts';
import { TlsError } from './errors.ts';
import type { TlsMaterial } from './server.ts';

export interface TlsState {
  serving: TlsMaterial;
  /** PEM for the webhook configurations' caBundle; undefined: leave caBundle alone. */
  caBundle: string | undefined;
}

const DAY_MS = 86_400_000;

/** The names the API server may dial: the Service's DNS names, and the URL host if set. */
export function servingNames(cfg: WebhookConfig): string[] {
  const svc = `${cfg.serviceName}.${cfg.namespace}`;
  const names = [`${svc}.svc`, cfg.serviceName, svc, `${svc}.svc.cluster.local`];
  return cfg.urlHost ? [...names, cfg.urlHost] : names;
}

export class TlsManager {
  private readonly core: CoreV1Api | undefined;
  /** The CA bundle of the certificate last handed out, for the bundle that replaces it. */
  private servedCa: string | undefined;

  constructor(
    private readonly cfg: WebhookConfig,
    kc: KubeConfig | undefined,
    private readonly log: Logger,
  ) {
    this.core = kc?.makeApiClient(CoreV1Api);
  }

  async ensure(now = new Date()): Promise<TlsState> {
    return this.cfg.tlsCertFile ? this.fromFiles() : this.fromSecret(now, 1);
  }

  private async fromFiles(): Promise<TlsState> {
    const { tlsCertFile, tlsKeyFile, tlsCaFile } = this.cfg;
    let cert: string, key: string, ca: string | undefined;
    try {
      [cert, key, ca] = await Promise.all([
        readFile(tlsCertFile, 'utf8'),
        readFile(tlsKeyFile, 'utf8'),
        tlsCaFile ? readFile(tlsCaFile, 'utf8') : undefined,
      ]);
    } catch (err) {
      throw new TlsError(`cannot read the supplied TLS files: ${(err as Error).message}`, err);
    }
    const parsed = parse(cert);
    if (!parsed) throw new TlsError(`${tlsCertFile} holds no PEM certificate`);
    if (!matches(parsed, key)) throw new TlsError(`${tlsKeyFile} is not the key of ${tlsCertFile}`);
    return { serving: { cert, key }, caBundle: ca };
  }

  private async fromSecret(now: Date, retries: number): Promise<TlsState> {
    const core = this.core;
    if (!core) throw new TlsError('generating a certificate needs API access to keep it in a Secret');
    const { namespace, tlsSecret: name } = this.cfg;
    const secret = await core.readNamespacedSecret({ name, namespace }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    const current = secret && bundleOf(secret);
    const names = servingNames(this.cfg);
    const verdict = current
      ? inspect(current, names, now, this.cfg.renewBeforeDays * DAY_MS)
      : { action: 'regenerate' as const, why: secret ? `Secret ${name} is incomplete` : `no Secret ${name}` };
    if (verdict.action === 'keep') return this.served(current!);

    let ca = current && { cert: current.caCert, key: current.caKey };
    if (verdict.action === 'regenerate') {
      const fresh = await generateCa(`slicenet-webhook-ca@${Math.floor(now.getTime() / 1000)}`);
      // The new caBundle reaches the API server before this process switches certificates
      // (webhook.ts), so the bundle must keep trusting the certificate still being served:
      // the previous CA stays in it, even if the Secret holding it was deleted.
      const previous = splitPem(current?.caCert ?? this.servedCa ?? '')[0];
      const keep = previous && Date.parse(parse(previous)?.validTo ?? '') > now.getTime() ? [previous] : [];
      ca = { cert: [fresh.cert, ...keep].join(''), key: fresh.key };
    }
    const serving = await issueServing(ca!, names, this.cfg.certValidityDays);
    const next: CertBundle = { caCert: ca!.cert, caKey: ca!.key, ...serving };
    try {
      await this.write(core, secret, next);
    } catch (err) {
      if (!isConflict(err) || retries === 0) throw err;
      this.log.info('certificate written by another replica, using theirs', { secret: name });
      return this.fromSecret(now, retries - 1);
    }
    this.log.info('serving certificate generated', { secret: name, why: verdict.why, names });
    return this.served(next);
  }

  private served(b: CertBundle): TlsState {
    this.servedCa = b.caCert;
    return { serving: { cert: b.cert, key: b.key }, caBundle: b.caCert };
  }

  private async write(core: CoreV1Api, existing: V1Secret | undefined, b: CertBundle): Promise<void> {
    const { namespace, tlsSecret: name } = this.cfg;
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const body: V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name,
        namespace,
        labels: { 'app.kubernetes.io/name': 'slicenet-webhook', 'app.kubernetes.io/part-of': 'slicenet' },
        // Replacing with the resourceVersion read makes a concurrent writer's change a 409.
        ...(existing ? { resourceVersion: existing.metadata?.resourceVersion } : {}),
      },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': b64(b.cert),
        'tls.key': b64(b.key),
        'ca.crt': b64(b.caCert),
        'ca.key': b64(b.caKey),
      },
    };
    if (existing) await core.replaceNamespacedSecret({ name, namespace, body });
    else await core.createNamespacedSecret({ namespace, body });
  }
}

function bundleOf(secret: V1Secret): CertBundle | undefined {
  const d = secret.data ?? {};
  const get = (k: string): string | undefined =>
    d[k] ? Buffer.from(d[k], 'base64').toString('utf8') : undefined;
  const [cert, key, caCert, caKey] = [get('tls.crt'), get('tls.key'), get('ca.crt'), get('ca.key')];
  return cert && key && caCert && caKey ? { cert, key, caCert, caKey } : undefined;
}
