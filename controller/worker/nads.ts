/**
 * The NetworkAttachmentDefinition `slicenet-<slice>` in every namespace that joined the slice
 * (SPEC §3.4, §3.5): a namespace joins with the label slicenet.dev/slice=<slice>, if the slice's
 * `namespaces` allow it in this cluster. `allowedNamespaces` decides; `converge` applies and
 * deletes so that exactly those namespaces have the NAD.
 */
import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Applier } from '../../lib/kube/apply.ts';
import { isNotFound } from '../../lib/kube/client.ts';
import { nadName, SLICE_LABEL } from '../api/names.ts';
import type { NamespaceRule } from '../api/types.ts';

export const NAD = { group: 'k8s.cni.cncf.io', version: 'v1', plural: 'network-attachment-definitions' };
export const WORKER_MANAGED = { 'app.kubernetes.io/managed-by': 'slicenet-worker' };

/** Whether `namespace` may join in `cluster`; no rules means any labelled namespace may. */
export function allowed(
  rules: readonly NamespaceRule[] | undefined,
  namespace: string,
  cluster: string,
): boolean {
  if (!rules || rules.length === 0) return true;
  return rules.some(
    (r) => r.namespace === namespace && (r.clusters ?? ['*']).some((c) => c === '*' || c === cluster),
  );
}

export function nadObject(slice: string, namespace: string): KubernetesObject & { spec: { config: string } } {
  return {
    apiVersion: `${NAD.group}/${NAD.version}`,
    kind: 'NetworkAttachmentDefinition',
    metadata: { name: nadName(slice), namespace, labels: { ...WORKER_MANAGED, [SLICE_LABEL]: slice } },
    spec: { config: JSON.stringify({ cniVersion: '1.0.0', type: 'slicenet', slice }) },
  };
}

export class Nads {
  private readonly api: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    private readonly applier: Applier,
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /**
   * Makes the slice's NADs exist in `want` and nowhere else; `have` are the namespaces that
   * hold one now (from the NAD informer). Returns what changed, for logs.
   */
  async converge(
    slice: string,
    want: ReadonlySet<string>,
    have: ReadonlySet<string>,
  ): Promise<{ created: string[]; deleted: string[] }> {
    const created: string[] = [];
    const deleted: string[] = [];
    // Applied even where one exists: a no-op then, and it repairs a NAD edited by hand.
    for (const ns of want) {
      await this.applier.apply(nadObject(slice, ns));
      if (!have.has(ns)) created.push(ns);
    }
    for (const ns of have) {
      if (want.has(ns)) continue;
      try {
        await this.api.deleteNamespacedCustomObject({ ...NAD, namespace: ns, name: nadName(slice) });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      deleted.push(ns);
    }
    return { created, deleted };
  }
}
