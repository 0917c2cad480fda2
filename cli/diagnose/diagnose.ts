/**
 * `kubectl slice diagnose`: reads the hub and every reachable member cluster once (gather.ts),
 * then runs the checks in a fixed order. Checks that only judge the snapshot are pure
 * functions; agents and policy probe node processes through the API server, mtu pings from
 * slice pods. A member cluster that cannot be read is one failed finding, and the checks that
 * need it skip it.
 */
import { SYSTEM_NAMESPACE } from '../../controller/api/names.ts';
import type { Kube } from '../kube.ts';
import { checkAgents } from './agents.ts';
import { judgeBlocks } from './blocks.ts';
import { judgeClock } from './clock.ts';
import { gatherHub, gatherMember, type MemberView } from './gather.ts';
import { judgeGateways, type GatewayView } from './gateways.ts';
import { NO_CONTEXT_FIX, type Members } from './members.ts';
import { checkMtu } from './mtu.ts';
import { PodExec } from './podexec.ts';
import { judgePolicy } from './policy.ts';
import { probeNode } from './probe.ts';
import { notOk, type Finding } from './types.ts';

export const CHECKS = ['agents', 'gateways', 'mtu', 'policy', 'blocks', 'clock'] as const;
export type CheckName = (typeof CHECKS)[number];

export interface DiagnoseOptions {
  slice: string;
  hubNamespace: string;
  checks: readonly CheckName[];
  agentPort: number;
  netopPort: number;
}

export interface Diagnosis {
  slice: string;
  clusters: string[];
  findings: Finding[];
}

function unreachable(m: MemberView): Finding {
  const noContext = /no context/.test(m.unreachable ?? '');
  return notOk(
    'fail',
    'access',
    m.cluster,
    `cannot read member cluster ${m.cluster}: ${m.unreachable}`,
    noContext
      ? 'the member clusters are reached through kubeconfig contexts named after them'
      : `${m.cluster}'s API server is down or unreachable from here, or the credential is refused`,
    noContext ? NO_CONTEXT_FIX(m.cluster) : `check: kubectl --context ${m.cluster} get nodes`,
  );
}

export async function diagnose(hub: Kube, memberOf: Members, o: DiagnoseOptions): Promise<Diagnosis> {
  const world = await gatherHub(hub, o.hubNamespace, o.slice);
  const clusters = world.config.spec.clusters ?? [];
  const members = await Promise.all(clusters.map((c) => gatherMember(memberOf, c, o.slice)));
  const reachable = members.filter((m) => !m.unreachable && m.kube);
  const want = new Set(o.checks);
  const findings: Finding[] = members.filter((m) => m.unreachable).map(unreachable);

  if (want.has('agents'))
    for (const m of reachable)
      findings.push(
        ...(await checkAgents(m.kube!, m.cluster, m.nodes, o.agentPort, world.clusters.get(m.cluster))),
      );

  if (want.has('gateways')) {
    const views: GatewayView[] = clusters.map((c) => {
      const m = members.find((x) => x.cluster === c)!;
      const hubCopy = world.workerSlices.find((w) => w.spec.cluster === c);
      const nowMs = m.clock ? m.clock.server.getTime() + (Date.now() - m.clock.localMs) : Date.now();
      return m.slice
        ? { cluster: c, gateways: m.slice.status?.gateways ?? [], pods: m.gatewayPods, nowMs }
        : { cluster: c, gateways: hubCopy?.status?.gateways ?? [], nowMs };
    });
    findings.push(...judgeGateways(views, clusters));
  }

  if (want.has('mtu')) {
    const exec = new PodExec((c) => members.find((m) => m.cluster === c)?.kube);
    try {
      const mtu = members.find((m) => m.slice)?.slice?.spec.mtu ?? world.workerSlices[0]?.spec.mtu;
      findings.push(...(await checkMtu(exec, mtu, new Map(reachable.map((m) => [m.cluster, m.pods])))));
    } finally {
      exec.close();
    }
  }

  if (want.has('policy'))
    for (const m of reachable) {
      // netop matters where slice traffic is bridged: nodes with slice pods or gateways.
      const nodes = new Set([
        ...(m.pods ?? []).map((p) => p.node),
        ...m.gatewayPods.map((p) => p.spec?.nodeName ?? '').filter(Boolean),
      ]);
      const netop = await Promise.all(
        [...nodes]
          .sort()
          .map(async (node) => ({ node, result: await probeNode(m.kube!, node, o.netopPort) })),
      );
      findings.push(
        ...judgePolicy({
          cluster: m.cluster,
          isolation: m.slice?.spec.isolation?.enabled ?? world.config.spec.isolation?.enabled ?? false,
          policies: m.policies,
          rejected: m.rejected,
          netop,
        }),
      );
    }

  if (want.has('blocks'))
    for (const m of reachable) {
      const share =
        m.slice?.spec.block ?? world.workerSlices.find((w) => w.spec.cluster === m.cluster)?.spec.block;
      if (!share) {
        findings.push(
          notOk(
            'warn',
            'blocks',
            m.cluster,
            `no share of the slice subnet known for ${m.cluster}`,
            'the hub has not given the cluster its block yet',
            `wait for the slice to become Ready; check the hub: kubectl -n ${SYSTEM_NAMESPACE} describe sliceconfig ${o.slice}`,
          ),
        );
        continue;
      }
      findings.push(
        ...judgeBlocks({
          cluster: m.cluster,
          share,
          blocks: m.blocks,
          addresses: (m.pods ?? []).map((p) => p.ip),
          nodes: m.nodes.map((n) => n.metadata?.name ?? ''),
        }),
      );
    }

  if (want.has('clock'))
    for (const m of members)
      findings.push(
        ...judgeClock(m.cluster, world.clock, m.clock, world.leases.get(m.cluster), world.leasesReadAtMs),
      );

  const order = (f: Finding): number => {
    const i = (CHECKS as readonly string[]).indexOf(f.check);
    return i < 0 ? -1 : i;
  };
  findings.sort((a, b) => order(a) - order(b));
  return { slice: o.slice, clusters, findings };
}
