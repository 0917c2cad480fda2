/**
 * The join label on namespaces of the current context's cluster (a member cluster, not
 * necessarily the hub), written with a JSON merge patch so no other label is touched.
 */
import { CoreV1Api, type V1Namespace } from '@kubernetes/client-node';
import { SLICE_LABEL } from '../controller/api/names.ts';
import { mergePatch } from '../lib/kube/client.ts';
import type { Kube } from './kube.ts';

export class Namespaces {
  private readonly core: CoreV1Api;

  constructor(private readonly kube: Kube) {
    this.core = kube.kc.makeApiClient(CoreV1Api);
  }

  get(name: string): Promise<V1Namespace> {
    return this.kube.call(`namespace '${name}'`, () => this.core.readNamespace({ name }));
  }

  /** Sets the label to `slice`, or removes it when `slice` is null. */
  async setSlice(ns: V1Namespace, slice: string | null): Promise<void> {
    const name = ns.metadata!.name!;
    // resourceVersion makes a concurrent change of the label a 409, not a silent overwrite.
    const body = {
      metadata: { resourceVersion: ns.metadata?.resourceVersion, labels: { [SLICE_LABEL]: slice } },
    };
    await this.kube.call(`namespace '${name}'`, () => this.core.patchNamespace({ name, body }, mergePatch));
  }
}

export const sliceOf = (ns: V1Namespace): string | undefined => ns.metadata?.labels?.[SLICE_LABEL];
