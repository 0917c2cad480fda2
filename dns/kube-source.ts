/**
 * Records from the member cluster's API server: ServiceImports, and the EndpointSlices that
 * carry the MCS source-cluster label (the slice endpoints of each exporting cluster, written
 * by the worker). Two informers (lib/kube/informer.ts: restarted with backoff, relisted after
 * an outage) keep the caches; any event schedules one rebuild of the whole zone input from
 * both caches (import.ts), handed to RecordStore.replace.
 *
 * Why rebuild everything instead of patching one service: a rebuild is a pass over the cached
 * objects (well under a millisecond for hundreds of services), it cannot drift from the caches,
 * and the store swaps zones whole anyway. Bursts — a relist, a rollout touching many
 * EndpointSlices — are coalesced into one rebuild `coalesceMs` after the first event, which is
 * the only delay this source adds between an EndpointSlice change and the answers.
 */
import { DiscoveryV1Api, KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import { customInformer } from '../controller/informers.ts';
import { loadKubeConfig } from '../lib/kube/client.ts';
import { Informer } from '../lib/kube/informer.ts';
import type { Logger } from '../lib/log.ts';
import {
  importedServices,
  MCS_GROUP,
  MCS_VERSION,
  SOURCE_CLUSTER_LABEL,
  type ServiceImportLike,
} from './import.ts';
import type { RecordStore } from './records.ts';

type ServiceImport = ServiceImportLike & { apiVersion?: string; kind?: string };

export interface KubeSourceOptions {
  kubeConfig: KubeConfig;
  store: RecordStore;
  log: Logger;
  /** Delay from the first event of a burst to the rebuild (default 20 ms). */
  coalesceMs?: number;
}

export class KubeSource {
  private readonly imports: Informer<ServiceImport>;
  private readonly slices: Informer<V1EndpointSlice>;
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(private readonly opts: KubeSourceOptions) {
    const { kubeConfig: kc, log } = opts;
    this.imports = customInformer<ServiceImport>(
      kc,
      { group: MCS_GROUP, version: MCS_VERSION, plural: 'serviceimports' },
      log,
    );
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    this.slices = new Informer<V1EndpointSlice>({
      kubeConfig: kc,
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      list: (s) => discovery.listEndpointSliceForAllNamespaces(s),
      labelSelector: SOURCE_CLUSTER_LABEL,
      name: 'endpointslices',
      log,
    });
    for (const informer of [this.imports, this.slices] as Informer<never>[])
      for (const ev of ['add', 'update', 'delete'] as const) informer.on(ev, () => this.schedule());
  }

  /** Resolves once both caches are filled and the first zone is in the store. */
  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    await Promise.all([this.imports.start(), this.slices.start()]);
    if (signal.aborted) return;
    this.started = true;
    this.rebuild();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all([this.imports.stop(), this.slices.stop()]);
  }

  private schedule(): void {
    if (!this.started || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.rebuild();
    }, this.opts.coalesceMs ?? 20);
  }

  private rebuild(): void {
    const { store, log } = this.opts;
    const services = importedServices(this.imports.list(), this.slices.list());
    const problems = store.replace(services);
    for (const p of problems.slice(0, 20)) log.error('record left out', { problem: p });
    log.debug('records rebuilt', {
      serial: store.zone.serial,
      services: services.length,
      records: store.zone.records,
      left: problems.length,
    });
  }
}

/**
 * The source of `--source kube`: `kubeconfig`, else in a pod its service account, else
 * $KUBECONFIG or ~/.kube/config, as kubectl reads them. Resolves once the first zone is in.
 */
export async function startKubeSource(
  kubeconfig: string,
  store: RecordStore,
  log: Logger,
  signal: AbortSignal,
): Promise<KubeSource> {
  let kubeConfig: KubeConfig;
  if (kubeconfig) kubeConfig = loadKubeConfig(kubeconfig);
  else {
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
  }
  const source = new KubeSource({ kubeConfig, store, log });
  await source.start(signal);
  return source;
}
