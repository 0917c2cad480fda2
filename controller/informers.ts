/**
 * Informers for the collections the hub and the worker watch, built on lib/kube/informer.ts so
 * both restart on any error. Only the paths and list calls differ from one kind to another.
 */
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Lease,
  type V1Namespace,
  type V1Node,
} from '@kubernetes/client-node';
import { Informer, type Selectors } from '../lib/kube/informer.ts';
import type { Logger } from '../lib/log.ts';
import { GROUP, VERSION } from './api/types.ts';

export interface CustomCollection {
  group: string;
  version: string;
  plural: string;
  /** Unset: every namespace (or a cluster-scoped kind). */
  namespace?: string;
}

export function slicenet(plural: string, namespace?: string): CustomCollection {
  return { group: GROUP, version: VERSION, plural, ...(namespace ? { namespace } : {}) };
}

export function customInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  c: CustomCollection,
  log: Logger,
  selectors: Selectors = {},
): Informer<T> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const base = `/apis/${c.group}/${c.version}`;
  const path = c.namespace ? `${base}/namespaces/${c.namespace}/${c.plural}` : `${base}/${c.plural}`;
  const list = async (s: Selectors): Promise<KubernetesListObject<T>> =>
    (c.namespace
      ? await api.listNamespacedCustomObject({ ...c, namespace: c.namespace, ...s })
      : await api.listClusterCustomObject({ ...c, ...s })) as KubernetesListObject<T>;
  return new Informer<T>({ kubeConfig: kc, path, list, name: c.plural, log, ...selectors });
}

export function namespaceInformer(
  kc: KubeConfig,
  log: Logger,
  selectors: Selectors = {},
): Informer<V1Namespace> {
  const api = kc.makeApiClient(CoreV1Api);
  return new Informer<V1Namespace>({
    kubeConfig: kc,
    path: '/api/v1/namespaces',
    list: (s) => api.listNamespace(s),
    name: 'namespaces',
    log,
    ...selectors,
  });
}

export function nodeInformer(kc: KubeConfig, log: Logger, selectors: Selectors = {}): Informer<V1Node> {
  const api = kc.makeApiClient(CoreV1Api);
  return new Informer<V1Node>({
    kubeConfig: kc,
    path: '/api/v1/nodes',
    list: (s) => api.listNode(s),
    name: 'nodes',
    log,
    ...selectors,
  });
}

export function leaseInformer(kc: KubeConfig, log: Logger, selectors: Selectors = {}): Informer<V1Lease> {
  const api = kc.makeApiClient(CoordinationV1Api);
  return new Informer<V1Lease>({
    kubeConfig: kc,
    path: '/apis/coordination.k8s.io/v1/leases',
    list: (s) => api.listLeaseForAllNamespaces(s),
    name: 'leases',
    log,
    ...selectors,
  });
}

/** "namespace/name", or "name" for cluster-scoped objects: the work-queue key. */
export function keyOf(obj: KubernetesObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? '');
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
