/**
 * The lab's address plan: from a request (how many clusters, how many nodes) to every name
 * and address the lab will create. Pure: nothing here touches the machine, so a bad request
 * is refused before anything is built.
 *
 *                       WAN namespace <lab>-wan (routes between cluster LANs)
 *        ┌────────────── br-c1 198.18.1.1/24 ─────┬───── br-c2 198.18.2.1/24 ──────┐
 *   <lab>-c1-cp .2   <lab>-c1-n1 .11  <lab>-c1-n2 .12   <lab>-c2-cp .2   <lab>-c2-n1 .11 ...
 *   etcd, apiserver,  lab kubelet,       ...             (same for every cluster)
 *   controller-mgr,   pods' netns below it
 *   scheduler
 *
 * Cluster LANs come from 198.18.0.0/15, the range RFC 2544 sets aside for benchmark labs, so
 * they never collide with a real network; nothing in the root namespace routes to them.
 */
import { SlicenetError } from '../lib/errors.ts';

export class LabRequestError extends SlicenetError {
  constructor(field: string, message: string) {
    super('LAB_BAD_REQUEST', `lab request: ${field}: ${message}`);
  }
}

export const LIMITS = { clusters: { min: 1, max: 16 }, nodes: { min: 1, max: 40 } } as const;

export interface LabRequest {
  /** Lab name: prefixes every namespace, link and state directory it makes. */
  name?: string;
  /** Number of clusters, or their names. */
  clusters?: number | string[];
  /** Nodes per cluster. */
  nodes?: number;
  /**
   * Pod CIDR of each cluster's primary network: `overlap` gives every cluster 10.244.0.0/16
   * (as independent clusters often have), `distinct` gives cluster i 10.(100+i).0.0/16.
   */
  podCidrs?: 'overlap' | 'distinct';
}

export interface NodePlan {
  name: string;
  /** Network namespace that is the node. */
  netns: string;
  ip: string;
  /** The veth end left in the WAN namespace, on the cluster's LAN bridge. */
  wanLink: string;
}

export interface ClusterPlan {
  name: string;
  index: number;
  lanCidr: string;
  lanGateway: string;
  bridge: string;
  controlPlane: { netns: string; ip: string; wanLink: string };
  podCidr: string;
  serviceCidr: string;
  /** The in-cluster address of the `kubernetes` Service: the first of serviceCidr. */
  apiServiceIp: string;
  nodes: NodePlan[];
}

export interface LabPlan {
  name: string;
  wanNetns: string;
  clusters: ClusterPlan[];
}

const NAME = /^[a-z][a-z0-9]{0,7}$/;
const CLUSTER_NAME = /^[a-z][a-z0-9]{0,7}$/;
const KNOWN = new Set(['name', 'clusters', 'nodes', 'podCidrs']);

export function planLab(req: LabRequest): LabPlan {
  for (const key of Object.keys(req)) {
    if (!KNOWN.has(key)) {
      throw new LabRequestError(key, `unknown option; allowed: ${[...KNOWN].join(', ')}`);
    }
  }
  const name = req.name ?? 'lab';
  if (!NAME.test(name)) {
    throw new LabRequestError(
      'name',
      `"${name}" must be 1-8 lowercase letters or digits, starting with a letter`,
    );
  }
  const clusterNames = clusterNamesOf(req.clusters ?? 2);
  const nodes = req.nodes ?? 2;
  const { min, max } = LIMITS.nodes;
  if (!Number.isInteger(nodes) || nodes < min || nodes > max) {
    throw new LabRequestError(
      'nodes',
      `${String(nodes)} nodes per cluster is outside what the lab can hold; allowed: ${min} to ${max}`,
    );
  }
  const podCidrs = req.podCidrs ?? 'overlap';
  if (podCidrs !== 'overlap' && podCidrs !== 'distinct') {
    throw new LabRequestError('podCidrs', `"${String(podCidrs)}" is not allowed; use overlap or distinct`);
  }
  return {
    name,
    wanNetns: `${name}-wan`,
    clusters: clusterNames.map((cname, i) => {
      const index = i + 1;
      const lan = `198.18.${index}`;
      return {
        name: cname,
        index,
        lanCidr: `${lan}.0/24`,
        lanGateway: `${lan}.1`,
        bridge: `br-${cname}`,
        controlPlane: { netns: `${name}-${cname}-cp`, ip: `${lan}.2`, wanLink: `v-${cname}-cp` },
        podCidr: podCidrs === 'overlap' ? '10.244.0.0/16' : `10.${100 + index}.0.0/16`,
        serviceCidr: '10.96.0.0/16',
        apiServiceIp: '10.96.0.1',
        nodes: Array.from({ length: nodes }, (_, j) => ({
          name: `${cname}-n${j + 1}`,
          netns: `${name}-${cname}-n${j + 1}`,
          ip: `${lan}.${11 + j}`,
          wanLink: `v-${cname}-n${j + 1}`,
        })),
      };
    }),
  };
}

function clusterNamesOf(clusters: number | string[]): string[] {
  const { min, max } = LIMITS.clusters;
  if (typeof clusters === 'number') {
    if (!Number.isInteger(clusters) || clusters < min || clusters > max) {
      throw new LabRequestError('clusters', `${clusters} clusters is not allowed; allowed: ${min} to ${max}`);
    }
    return Array.from({ length: clusters }, (_, i) => `c${i + 1}`);
  }
  if (!Array.isArray(clusters) || clusters.length < min || clusters.length > max) {
    throw new LabRequestError('clusters', `give ${min} to ${max} cluster names`);
  }
  for (const c of clusters) {
    if (typeof c !== 'string' || !CLUSTER_NAME.test(c)) {
      throw new LabRequestError(
        'clusters',
        `cluster name "${String(c)}" must be 1-8 lowercase letters or digits, starting with a letter`,
      );
    }
  }
  if (new Set(clusters).size !== clusters.length) {
    throw new LabRequestError('clusters', 'cluster names must be unique');
  }
  return clusters;
}
