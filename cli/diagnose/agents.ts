/**
 * Agents ready on every node of each member cluster. The agent publishes no API object of its
 * own (and nothing fills Cluster.status.agentsReady yet), so each node's agent is asked for its
 * /readyz through the API server's node proxy (probe.ts); when the hub's Cluster does carry
 * agentsReady, a shortfall there is reported too.
 */
import type { V1Node } from '@kubernetes/client-node';
import { SYSTEM_NAMESPACE } from '../../controller/api/names.ts';
import type { Cluster } from '../../controller/api/types.ts';
import type { Kube } from '../kube.ts';
import { probeNode, type ProbeResult } from './probe.ts';
import { notOk, ok, type Finding } from './types.ts';

const CHECK = 'agents';

/** The findings for one cluster from its nodes' probe results (pure, for tests). */
export function judgeAgents(
  cluster: string,
  results: { node: string; result: ProbeResult }[],
  hubCluster?: Cluster,
): Finding[] {
  const findings: Finding[] = [];
  for (const { node, result } of results)
    if (!result.ready)
      findings.push(
        notOk(
          'fail',
          CHECK,
          `${cluster}/${node}`,
          `slicenet-agent on ${node} is not ready: ${result.reason ?? 'no reason given'}`,
          /not running/.test(result.reason ?? '')
            ? `the agent is stopped on ${node}: new slice pods there fail (CNI error 11) and its slice bridges are not kept`
            : `the agent on ${node} is starting, or cannot sync with the API server`,
          `start the agent on ${node} again (its DaemonSet pod: kubectl --context ${cluster} -n ${SYSTEM_NAMESPACE} ` +
            `delete pod -l app.kubernetes.io/name=slicenet-agent --field-selector spec.nodeName=${node}) and read its log`,
        ),
      );
  const reported = hubCluster?.status?.agentsReady;
  const m = reported ? /^(\d+)\/(\d+)$/.exec(reported) : null;
  if (m && m[1] !== m[2])
    findings.push(
      notOk(
        'fail',
        CHECK,
        cluster,
        `the hub's Cluster ${cluster} reports ${reported} agents ready`,
        'some nodes have no ready agent',
        `see the nodes above; kubectl --context ${cluster} -n ${SYSTEM_NAMESPACE} get pods -o wide`,
      ),
    );
  const ready = results.filter((r) => r.result.ready).length;
  if (findings.length === 0)
    findings.push(
      ok(CHECK, cluster, `${ready}/${results.length} agents ready${reported ? ` (hub: ${reported})` : ''}`),
    );
  return findings;
}

export async function checkAgents(
  kube: Kube,
  cluster: string,
  nodes: V1Node[],
  port: number,
  hubCluster?: Cluster,
): Promise<Finding[]> {
  const results = await Promise.all(
    nodes.map(async (n) => ({
      node: n.metadata?.name ?? '',
      result: await probeNode(kube, n.metadata?.name ?? '', port),
    })),
  );
  return judgeAgents(cluster, results, hubCluster);
}
