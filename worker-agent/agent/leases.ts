/**
 * BlockLeases on the API server: `SliceIPBlock` objects, read from the agent's informer and
 * written directly. Creation is the claim (409: someone else holds the block); the API
 * server being unreachable is NOT_READY, which the plugin turns into "try again later".
 */
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { ipBlockName } from '../../controller/api/names.ts';
import { API_VERSION, GROUP, resources, VERSION, type SliceIPBlock } from '../../controller/api/types.ts';
import { apiStatus, isNotFound } from '../../lib/kube/client.ts';
import type { Informer } from '../../lib/kube/informer.ts';
import { AgentError } from '../errors.ts';
import type { BlockLeases } from '../ipam/ipam.ts';

const collection = { group: GROUP, version: VERSION, plural: resources.SliceIPBlock.plural };

export class ApiBlockLeases implements BlockLeases {
  private readonly api: CustomObjectsApi;

  constructor(
    kc: KubeConfig,
    private readonly blocks: Informer<SliceIPBlock>,
  ) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  held(slice: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const b of this.blocks.list()) if (b.spec.slice === slice) out.set(b.spec.cidr, b.spec.node);
    return out;
  }

  async create(slice: string, cidr: string, node: string): Promise<boolean> {
    const body: SliceIPBlock = {
      apiVersion: API_VERSION,
      kind: 'SliceIPBlock',
      metadata: {
        name: ipBlockName(slice, cidr),
        labels: { 'slicenet.dev/slice': slice, 'slicenet.dev/node': node },
      },
      spec: { slice, node, cidr },
    };
    try {
      await this.api.createClusterCustomObject({ ...collection, body });
      return true;
    } catch (err) {
      if (apiStatus(err) === 409) return false;
      throw unreachable(err, `lease ${cidr} of slice ${slice}`);
    }
  }

  async delete(slice: string, cidr: string): Promise<void> {
    try {
      await this.api.deleteClusterCustomObject({ ...collection, name: ipBlockName(slice, cidr) });
    } catch (err) {
      if (!isNotFound(err)) throw unreachable(err, `free ${cidr} of slice ${slice}`);
    }
  }
}

function unreachable(err: unknown, what: string): AgentError {
  const status = apiStatus(err);
  return new AgentError(
    status === undefined ? 'NOT_READY' : 'INTERNAL',
    `could not ${what}: ${status === undefined ? 'the API server is unreachable' : `HTTP ${status}`} (${(err as Error).message})`,
    { cause: err },
  );
}
