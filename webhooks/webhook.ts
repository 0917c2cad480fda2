/**
 * slicenet-webhook as one object: probes first (so the kubelet sees a live process while the
 * rest comes up), then the certificate, the HTTPS server, the webhook configurations, and a
 * resync loop that keeps the certificate fresh and caBundle current.
 *
 * Ordering on a certificate change: the configurations get the new caBundle before the server
 * switches to the new certificate, so the API server never meets a certificate it cannot
 * verify (a CA change keeps the old CA in the bundle as well; see tls.ts).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../lib/kube/client.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import type { WebhookConfig } from './config.ts';
import { podMutator, sliceConfigValidator } from './handlers.ts';
import { HubReader, NamespaceCache } from './lookups.ts';
import { WebhookMetrics } from './metrics.ts';
import { ProbeServer } from '../lib/http/probes.ts';
import { PATHS, Registrar } from './registration.ts';
import { AdmissionServer } from './server.ts';
import { TlsManager, type TlsState } from './tls.ts';

export class Webhook {
  readonly metrics: WebhookMetrics;
  private readonly log: Logger;
  private readonly probes: ProbeServer;
  private admission: AdmissionServer | undefined;
  private namespaces: NamespaceCache | undefined;
  private served: TlsState | undefined;
  private registered = false;
  private readonly stopping = new AbortController();
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cfg: WebhookConfig,
    opts: { log?: Logger; metrics?: WebhookMetrics } = {},
  ) {
    this.log = opts.log ?? createLogger('webhook');
    this.metrics = opts.metrics ?? new WebhookMetrics();
    this.probes = new ProbeServer({
      host: cfg.host,
      port: cfg.probePort,
      metrics: this.metrics.registry,
      notReady: () => this.notReady(),
    });
  }

  /** Resolves once the webhook serves (retrying API calls until then), or when `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    const stop = AbortSignal.any([signal, this.stopping.signal]);
    await this.probes.start(stop);
    const kc = this.cfg.kubeconfig ? loadKubeConfig(this.cfg.kubeconfig) : defaultKubeConfig();
    const tls = new TlsManager(this.cfg, kc, this.log);
    const registrar = this.cfg.manageWebhooks ? new Registrar(kc, this.cfg) : undefined;
    this.namespaces = new NamespaceCache(kc, this.log);
    this.admission = new AdmissionServer({
      host: this.cfg.host,
      port: this.cfg.port,
      maxBodyBytes: this.cfg.maxBodyBytes,
      handlers: {
        [PATHS.mutatePods]: podMutator(this.namespaces),
        [PATHS.validateSliceConfigs]: sliceConfigValidator(new HubReader(kc, this.cfg.hubNamespace)),
      },
      metrics: this.metrics,
      log: this.log,
    });
    void this.namespaces.start();

    const first = (await retry(() => tls.ensure(), stop, this.log, 'certificate'))?.value;
    if (!first) return;
    await this.admission.start(first.serving, stop);
    this.served = first;
    this.log.info('serving', { port: this.admission.port, probePort: this.probes.port });
    if (registrar && !(await retry(() => registrar.apply(first.caBundle), stop, this.log, 'registration'))) {
      return;
    }
    this.registered = true;
    this.log.info('webhook configurations applied', { name: this.cfg.webhookConfigName });

    // The next resync is scheduled when this one ends, so a slow API server never stacks them.
    const resync = (): void => {
      this.resync(tls, registrar)
        .catch((err: unknown) => this.log.error('resync failed', { err }))
        .finally(() => {
          if (!stop.aborted) this.resyncTimer = setTimeout(resync, this.cfg.resyncSeconds * 1000);
        });
    };
    this.resyncTimer = setTimeout(resync, this.cfg.resyncSeconds * 1000);
    stop.addEventListener('abort', () => clearTimeout(this.resyncTimer), { once: true });
  }

  get port(): number {
    return this.admission?.port ?? 0;
  }

  get probePort(): number {
    return this.probes.port;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.resyncTimer);
    await Promise.all([this.admission?.stop(), this.probes.stop(), this.namespaces?.stop()]);
  }

  private notReady(): string | undefined {
    if (!this.served) return 'no serving certificate yet';
    if (this.cfg.manageWebhooks && !this.registered) return 'webhook configurations not applied yet';
    return undefined;
  }

  private async resync(tls: TlsManager, registrar: Registrar | undefined): Promise<void> {
    const next = await tls.ensure();
    // Applied every time, not only on change: it also undoes a caBundle someone overwrote.
    await registrar?.apply(next.caBundle);
    if (next.serving.cert !== this.served?.serving.cert || next.serving.key !== this.served.serving.key) {
      this.admission?.setTls(next.serving);
      this.log.info('serving certificate reloaded');
    }
    this.served = next;
  }
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

/**
 * Calls `fn` until it succeeds (1 s doubling to 30 s between tries). The value comes wrapped,
 * so that a `fn` resolving to undefined is told apart from an abort (undefined).
 */
async function retry<T>(
  fn: () => Promise<T>,
  signal: AbortSignal,
  log: Logger,
  what: string,
): Promise<{ value: T } | undefined> {
  for (let delay = 1000; !signal.aborted; delay = Math.min(delay * 2, 30_000)) {
    try {
      return { value: await fn() };
    } catch (err) {
      log.error('startup step failed, retrying', { step: what, err, retryInMs: delay });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  }
  return undefined;
}
