/**
 * The handlers' lookups, backed by the API server.
 *
 * Namespaces: pod admission is on the path of every pod creation in a joined namespace, so the
 * join label comes from an informer's cache of labelled namespaces. The API server only calls
 * the webhook for namespaces it sees labelled, so a cache miss usually means the informer is
 * behind (or not yet synced): then one GET settles it.
 *
 * The hub: SliceConfig creates are rare and overlap must be judged against the latest list, so
 * each review lists SliceConfigs and Clusters afresh rather than trusting a cache.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Namespace } from '@kubernetes/client-node';
import { GROUP, VERSION, resources } from '../controller/api/types.ts';
import { SLICE_LABEL } from '../controller/api/names.ts';
import { isNotFound } from '../lib/kube/client.ts';
import { Informer } from '../lib/kube/informer.ts';
import type { Logger } from '../lib/log.ts';
import { LookupError } from './errors.ts';
import { sliceLabelOf, type HubLookup, type NamespaceLookup } from './handlers.ts';
import type { HubState } from './validate.ts';

export class NamespaceCache implements NamespaceLookup {
  private readonly informer: Informer<V1Namespace>;
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig, log: Logger) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.informer = new Informer<V1Namespace>({
      kubeConfig: kc,
      path: '/api/v1/namespaces',
      list: (s) => this.core.listNamespace(s),
      labelSelector: SLICE_LABEL,
      name: 'joined-namespaces',
      log,
    });
  }

  /** Resolves once the cache is filled (retrying until then) or the cache is stopped. */
  start(): Promise<void> {
    return this.informer.start();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  async sliceOf(name: string): Promise<string | undefined> {
    const cached = this.informer.synced ? this.informer.get(name) : undefined;
    if (cached) return sliceLabelOf(cached);
    try {
      return sliceLabelOf(await this.core.readNamespace({ name }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw new LookupError(`namespace ${name}`, err);
    }
  }
}

interface ListOf<T> {
  items?: T[];
}

interface ObjectMeta {
  metadata?: { name?: string; namespace?: string };
}

export class HubReader implements HubLookup {
  private readonly custom: CustomObjectsApi;

  constructor(
    kc: KubeConfig,
    private readonly hubNamespace: string,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  async state(): Promise<HubState> {
    const common = { group: GROUP, version: VERSION };
    let configs: ListOf<ObjectMeta & { spec?: { subnet?: unknown } }>;
    let clusters: ListOf<ObjectMeta>;
    try {
      [configs, clusters] = (await Promise.all([
        this.custom.listClusterCustomObject({ ...common, plural: resources.SliceConfig.plural }),
        this.custom.listNamespacedCustomObject({
          ...common,
          namespace: this.hubNamespace,
          plural: resources.Cluster.plural,
        }),
      ])) as [typeof configs, typeof clusters];
    } catch (err) {
      throw new LookupError(`SliceConfigs and Clusters (hub namespace ${this.hubNamespace})`, err);
    }
    return {
      hubNamespace: this.hubNamespace,
      others: (configs.items ?? []).map((o) => ({
        namespace: o.metadata?.namespace ?? '',
        name: o.metadata?.name ?? '',
        subnet: o.spec?.subnet,
      })),
      clusters: (clusters.items ?? []).flatMap((c) => (c.metadata?.name ? [c.metadata.name] : [])),
    };
  }
}
