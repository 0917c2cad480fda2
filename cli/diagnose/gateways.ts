/**
 * Gateways connected per peer. Each member's Slice.status.gateways has an entry per gateway
 * replica, the active one listing each peer cluster's tunnel as it sees it, rewritten at least
 * every 10 s (slice-gateway/control). Where a member cannot be read, the hub's WorkerSlice copy
 * is used (no timestamps there). A tunnel that is down is explained from the other side: if
 * the peer's own gateway stopped writing its status, that gateway is the fault.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { GATEWAY_NODE_LABEL, SYSTEM_NAMESPACE } from '../../controller/api/names.ts';
import type { GatewayStatus } from '../../controller/api/types.ts';
import { notOk, ok, type Finding } from './types.ts';

const CHECK = 'gateways';
/** An active gateway writes at least every 10 s; three missed writes and a margin mean it is gone. */
export const STALE_SECONDS = 35;

export interface GatewayView {
  cluster: string;
  gateways: GatewayStatus[];
  /** The gateway pods in the member cluster; undefined when only the hub's copy was read. */
  pods?: V1Pod[];
  /** The member cluster's clock now, to judge lastUpdateTime by. */
  nowMs: number;
}

const ageSeconds = (g: GatewayStatus, nowMs: number): number | undefined =>
  g.lastUpdateTime ? Math.round((nowMs - Date.parse(g.lastUpdateTime)) / 1000) : undefined;

function active(v: GatewayView): GatewayStatus | undefined {
  return v.gateways
    .filter((g) => g.active)
    .sort((a, b) => (b.lastUpdateTime ?? '').localeCompare(a.lastUpdateTime ?? ''))[0];
}

const deletePod = (cluster: string, pod: string): string =>
  `kubectl --context ${cluster} -n ${SYSTEM_NAMESPACE} delete pod ${pod}`;

/** Why a cluster has no working gateway, or undefined if its active gateway is current. */
function gatewayFault(v: GatewayView): Finding | undefined {
  const a = active(v);
  if (!a) {
    const pods = v.pods ?? [];
    const notRunning = pods.filter((p) => p.status?.phase !== 'Running');
    const cause =
      v.pods && pods.length === 0
        ? `there is no gateway pod: no node carries ${GATEWAY_NODE_LABEL}=true, or the worker has not made the Deployment`
        : notRunning.length > 0
          ? `gateway pod ${notRunning.map((p) => `${p.metadata?.name} is ${p.status?.phase}`).join(', ')}`
          : 'the gateway replicas have not taken the active Lease yet, or cannot write the Slice status';
    return notOk(
      'fail',
      CHECK,
      v.cluster,
      `no active gateway reported in ${v.cluster}${v.gateways.length ? ` (${v.gateways.length} standby)` : ''}`,
      cause,
      `kubectl --context ${v.cluster} label node <node> ${GATEWAY_NODE_LABEL}=true if none is labelled; ` +
        `otherwise kubectl --context ${v.cluster} -n ${SYSTEM_NAMESPACE} describe pods -l app.kubernetes.io/name=slicenet-gateway`,
    );
  }
  const age = ageSeconds(a, v.nowMs);
  if (age !== undefined && age > STALE_SECONDS)
    return notOk(
      'fail',
      CHECK,
      v.cluster,
      `the active gateway ${a.name} on ${a.node ?? '?'} last reported ${age} s ago (it reports every 10 s)`,
      `the gateway process is stopped or hung, or its node lost the API server; its peers lose the tunnel`,
      `${deletePod(v.cluster, a.name)} (its Deployment starts a new one; with replicas: 2 the standby takes ` +
        `over by itself); read its log first: kubectl --context ${v.cluster} -n ${SYSTEM_NAMESPACE} logs ${a.name}`,
    );
  return undefined;
}

/** Every member's gateways and tunnels; `members` is the slice's cluster list. */
export function judgeGateways(views: GatewayView[], members: string[]): Finding[] {
  const byCluster = new Map(views.map((v) => [v.cluster, v]));
  const faults = new Map(views.map((v) => [v.cluster, gatewayFault(v)]));
  const findings: Finding[] = [];
  for (const v of views) {
    const fault = faults.get(v.cluster);
    if (fault) {
      findings.push(fault);
      continue;
    }
    const a = active(v)!;
    for (const peer of members.filter((m) => m !== v.cluster)) {
      const scope = `${v.cluster} → ${peer}`;
      const p = a.peers?.find((x) => x.cluster === peer);
      const peerFault = faults.get(peer);
      if (!p) {
        findings.push(
          notOk(
            'fail',
            CHECK,
            scope,
            `the active gateway ${a.name} has no tunnel to ${peer}`,
            `the hub has not given ${v.cluster} the peer ${peer} yet (its gateway key or address is not published)`,
            `check ${peer}'s gateway (kubectl slice status) and that its worker runs: kubectl --context ${peer} ` +
              `-n ${SYSTEM_NAMESPACE} get pods`,
          ),
        );
      } else if (!p.connected || peerFault) {
        // An idle tunnel notices a silent peer only at its next rekey: a peer gateway that has
        // stopped is a dead tunnel whatever this side still says.
        const stale = peerFault && byCluster.get(peer);
        findings.push(
          notOk(
            'fail',
            CHECK,
            scope,
            `tunnel ${v.cluster} → ${peer} is ${p.connected ? `still reported up, but ${peer}'s gateway is gone` : 'DOWN'}` +
              `${p.endpoint ? ` (peer endpoint ${p.endpoint})` : ''}` +
              (p.handshakeAgeSeconds !== undefined ? `, last handshake ${p.handshakeAgeSeconds} s ago` : ''),
            stale
              ? `${peer}'s gateway is not working: ${peerFault.detail}`
              : `handshakes with ${peer} fail: the gateways' UDP port is blocked between the clusters, or a peer key is out of date`,
            stale
              ? (peerFault.fix ?? '')
              : `check UDP reachability of ${p.endpoint ?? `${peer}'s gateway address`} from ${a.node ?? 'the gateway node'}, ` +
                  `and the gateway logs on both sides`,
          ),
        );
      } else {
        const rtt = p.rttMs !== undefined ? `, RTT ${p.rttMs.toFixed(2)} ms` : '';
        const hs = p.handshakeAgeSeconds !== undefined ? `, handshake ${p.handshakeAgeSeconds} s ago` : '';
        findings.push(ok(CHECK, scope, `tunnel up via ${a.name} on ${a.node ?? '?'}${hs}${rtt}`));
      }
    }
    const staleStandby = v.gateways.filter(
      (g) => g !== a && (ageSeconds(g, v.nowMs) ?? 0) > STALE_SECONDS * 2,
    );
    for (const g of staleStandby)
      findings.push(
        notOk(
          'warn',
          CHECK,
          v.cluster,
          `standby gateway ${g.name} on ${g.node ?? '?'} last reported ${ageSeconds(g, v.nowMs)} s ago`,
          'the standby replica is stopped or hung: there is no failover if the active one fails',
          deletePod(v.cluster, g.name),
        ),
      );
  }
  return findings;
}
