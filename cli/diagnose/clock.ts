/**
 * Clock skew between the hub and each worker cluster, two ways: the member API server's clock
 * against the hub's (each sampled from its `Date` header, so good to about a second), and the
 * worker's heartbeat Lease on the hub, whose renewTime the worker writes with its own clock
 * every 5 s: from the hub's clock it must be 0–30 s old. Newer means the worker's clock is
 * ahead; older means the worker has stopped (or its clock is behind).
 */
import type { V1Lease } from '@kubernetes/client-node';
import { SYSTEM_NAMESPACE } from '../../controller/api/names.ts';
import type { ClockSample } from './gather.ts';
import { notOk, ok, type Finding } from './types.ts';

const CHECK = 'clock';
export const SKEW_WARN_S = 2;
export const SKEW_FAIL_S = 30;
/** The heartbeat Lease's duration. */
const HEARTBEAT_S = 30;

/** The member clock minus the hub clock, seconds, from two samples. */
export function skewSeconds(hub: ClockSample, member: ClockSample): number {
  return (member.server.getTime() - member.localMs - (hub.server.getTime() - hub.localMs)) / 1000;
}

export function judgeClock(
  cluster: string,
  hub: ClockSample | undefined,
  member: ClockSample | undefined,
  lease: V1Lease | undefined,
  localNowMs: number,
): Finding[] {
  const findings: Finding[] = [];
  const parts: string[] = [];
  if (hub && member) {
    const skew = skewSeconds(hub, member);
    // Each Date header is truncated to the second, and was written somewhere within its call's
    // round trip: that much is no evidence of skew.
    const beyond = Math.abs(skew) - 1 - (hub.rttMs + member.rttMs) / 2000;
    parts.push(`API server clocks ${skew >= 0 ? '+' : ''}${skew.toFixed(1)} s from the hub's`);
    if (beyond > SKEW_WARN_S)
      findings.push(
        notOk(
          beyond > SKEW_FAIL_S ? 'fail' : 'warn',
          CHECK,
          cluster,
          `${cluster}'s API server clock is ${Math.abs(skew).toFixed(0)} s ${skew > 0 ? 'ahead of' : 'behind'} the hub's`,
          'the machines do not keep time: heartbeats, handshake ages and gateway status ages are misjudged, ' +
            'and short-lived tokens and certificates may be refused',
          `run NTP (chrony or systemd-timesyncd) on the hub's and ${cluster}'s machines`,
        ),
      );
  } else parts.push(`no clock sample from ${hub ? cluster : 'the hub'}`);
  const renew = lease?.spec?.renewTime as unknown as string | Date | undefined;
  if (!renew)
    findings.push(
      notOk(
        'fail',
        CHECK,
        cluster,
        `no heartbeat Lease from ${cluster}'s worker on the hub`,
        `${cluster}'s worker has never reached the hub: it is not running, or its hub kubeconfig is wrong`,
        `kubectl --context ${cluster} -n ${SYSTEM_NAMESPACE} logs deploy/slicenet-worker; re-register with ` +
          `kubectl slice register ${cluster} if its credential expired`,
      ),
    );
  else {
    const hubNow = hub ? hub.server.getTime() + (localNowMs - hub.localMs) : localNowMs;
    const age = Math.round((hubNow - new Date(renew).getTime()) / 1000);
    parts.push(`heartbeat ${age} s old`);
    if (age < -(SKEW_WARN_S + 1))
      findings.push(
        notOk(
          'warn',
          CHECK,
          cluster,
          `${cluster}'s heartbeat is ${-age} s in the hub's future`,
          `${cluster}'s worker clock is ahead of the hub's`,
          `run NTP on ${cluster}'s machines`,
        ),
      );
    else if (age > HEARTBEAT_S + 1)
      findings.push(
        notOk(
          'fail',
          CHECK,
          cluster,
          `${cluster}'s last heartbeat is ${age} s old (the worker renews it every 5 s)`,
          `${cluster}'s worker is stopped or cannot reach the hub (or its clock is ${age} s behind)`,
          `kubectl --context ${cluster} -n ${SYSTEM_NAMESPACE} logs deploy/slicenet-worker`,
        ),
      );
  }
  if (findings.length === 0) findings.push(ok(CHECK, cluster, parts.join('; ')));
  return findings;
}
