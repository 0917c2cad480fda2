/** Reading and writing SliceConfigs on the hub, for the commands that manage slices. */
import { CustomObjectsApi } from '@kubernetes/client-node';
import { SLICE_LABEL } from '../controller/api/names.ts';
import { GROUP, VERSION, resources, type SliceConfig, type WorkerSlice } from '../controller/api/types.ts';
import { OWNER_NAMESPACE_LABEL } from '../controller/hub/desired.ts';
import type { Kube } from './kube.ts';

const plural = resources.SliceConfig.plural;

export class SliceConfigs {
  private readonly api: CustomObjectsApi;

  constructor(
    private readonly kube: Kube,
    readonly namespace: string,
  ) {
    this.api = kube.kc.makeApiClient(CustomObjectsApi);
  }

  what(name: string): string {
    return `slice '${name}' (SliceConfig in namespace ${this.namespace})`;
  }

  get(name: string): Promise<SliceConfig> {
    return this.kube.call(
      this.what(name),
      async () =>
        (await this.api.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: this.namespace,
          plural,
          name,
        })) as SliceConfig,
    );
  }

  list(): Promise<SliceConfig[]> {
    return this.kube.call(`SliceConfigs in namespace ${this.namespace}`, async () => {
      const r = (await this.api.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: this.namespace,
        plural,
      })) as {
        items: SliceConfig[];
      };
      return r.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    });
  }

  /** The slice's WorkerSlices (one per member cluster), with the status each worker reports. */
  workerSlices(name: string): Promise<WorkerSlice[]> {
    return this.kube.call(`the WorkerSlices of ${this.what(name)}`, async () => {
      const r = (await this.api.listClusterCustomObject({
        group: GROUP,
        version: VERSION,
        plural: resources.WorkerSlice.plural,
        labelSelector: `${SLICE_LABEL}=${name},${OWNER_NAMESPACE_LABEL}=${this.namespace}`,
      })) as { items: WorkerSlice[] };
      return r.items.sort((a, b) => a.spec.cluster.localeCompare(b.spec.cluster));
    });
  }

  create(obj: SliceConfig, dryRun: boolean): Promise<SliceConfig> {
    return this.kube.call(
      this.what(obj.metadata.name),
      async () =>
        (await this.api.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: this.namespace,
          plural,
          body: obj,
          fieldManager: 'kubectl-slice',
          ...(dryRun ? { dryRun: 'All' } : {}),
        })) as SliceConfig,
    );
  }

  async delete(name: string): Promise<void> {
    await this.kube.call(this.what(name), () =>
      this.api.deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: this.namespace,
        plural,
        name,
      }),
    );
  }
}
