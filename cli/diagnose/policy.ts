/**
 * Policy and isolation state per member cluster: what the Slice asks (isolation on or off,
 * the MultiNetworkPolicies naming the slice), whether netop — which compiles both into the
 * slice's nftables table on every node — is ready on each node with slice pods, and whether
 * it refused a policy (its PolicyRejected events: the slice keeps its previous rules then).
 */
import { SYSTEM_NAMESPACE } from '../../controller/api/names.ts';
import type { ProbeResult } from './probe.ts';
import { notOk, ok, type Finding } from './types.ts';

const CHECK = 'policy';

export interface PolicyView {
  cluster: string;
  isolation: boolean;
  /** MultiNetworkPolicies naming the slice; undefined: the CRD is not served. */
  policies?: string[];
  rejected: string[];
  /** netop's /readyz on the nodes that run slice pods or gateways. */
  netop: { node: string; result: ProbeResult }[];
}

export function judgePolicy(v: PolicyView): Finding[] {
  const findings: Finding[] = [];
  const wanted =
    `isolation ${v.isolation ? 'on' : 'off'}, ` +
    (v.policies === undefined
      ? 'MultiNetworkPolicy CRD not installed'
      : `${v.policies.length} MultiNetworkPolicies${v.policies.length ? ` (${v.policies.join(', ')})` : ''}`);
  for (const { node, result } of v.netop)
    if (!result.ready) {
      const enforced = v.isolation || (v.policies?.length ?? 0) > 0;
      findings.push(
        notOk(
          enforced ? 'fail' : 'warn',
          CHECK,
          `${v.cluster}/${node}`,
          `slicenet-netop on ${node} is not ready: ${result.reason ?? 'no reason given'} (${wanted})`,
          `${node} keeps the rules and QoS netop last applied; changes to policies, isolation, pods or QoS are not applied there`,
          `start netop on ${node} again (kubectl --context ${v.cluster} -n ${SYSTEM_NAMESPACE} delete pod ` +
            `-l app.kubernetes.io/name=slicenet-netop --field-selector spec.nodeName=${node}) and read its log`,
        ),
      );
    }
  for (const r of v.rejected)
    findings.push(
      notOk(
        'fail',
        CHECK,
        v.cluster,
        `netop refused a policy: ${r}`,
        'the policy is invalid for the slice; the slice keeps its previous rules',
        'fix the field the message names (kubectl edit multi-networkpolicy ...) or delete the policy',
      ),
    );
  if (findings.length === 0)
    findings.push(ok(CHECK, v.cluster, `${wanted}; netop ready on ${v.netop.length} node(s)`));
  return findings;
}
