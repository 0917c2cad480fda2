/**
 * MultiNetworkPolicy (k8s.cni.cncf.io/v1beta1), the NetworkPolicy of secondary networks, as it
 * arrives from the API server: plain JSON, nothing validated yet (validate.ts does that). The
 * shape is NetworkPolicy's; the annotation `k8s.v1.cni.cncf.io/policy-for` names the networks
 * (NetworkAttachmentDefinitions) it applies to.
 */
import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';

export const MNP_GROUP = 'k8s.cni.cncf.io';
export const MNP_VERSION = 'v1beta1';
export const MNP_PLURAL = 'multi-networkpolicies';
export const POLICY_FOR = 'k8s.v1.cni.cncf.io/policy-for';

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface IPBlock {
  cidr: string;
  except?: string[];
}

export interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: IPBlock;
}

export interface PolicyPort {
  /** TCP (default), UDP or SCTP. */
  protocol?: string;
  /** A number; named ports are refused (a slice pod's container ports are not known here). */
  port?: number | string;
  endPort?: number;
}

export interface IngressRule {
  from?: PolicyPeer[];
  ports?: PolicyPort[];
}

export interface EgressRule {
  to?: PolicyPeer[];
  ports?: PolicyPort[];
}

export interface MultiNetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  ingress?: IngressRule[];
  egress?: EgressRule[];
}

export interface MultiNetworkPolicy extends KubernetesObject {
  metadata: V1ObjectMeta & { name: string; namespace?: string };
  spec: MultiNetworkPolicySpec;
}

/**
 * Whether the policy names `network` (a NAD name, e.g. slicenet-payments) in its policy-for
 * annotation: a comma-separated list of `name` or `namespace/name`.
 */
export function policyTargets(p: MultiNetworkPolicy, network: string): boolean {
  const value = p.metadata.annotations?.[POLICY_FOR] ?? '';
  return value
    .split(',')
    .map((s) => s.trim().split('/').pop())
    .includes(network);
}

/** A MultiNetworkPolicy in `namespace` for the slice's network (slicenet-<slice>). */
export const multiNetworkPolicy = (
  slice: string,
  namespace: string,
  name: string,
  spec: MultiNetworkPolicySpec,
): MultiNetworkPolicy => ({
  apiVersion: `${MNP_GROUP}/${MNP_VERSION}`,
  kind: 'MultiNetworkPolicy',
  metadata: { name, namespace, annotations: { [POLICY_FOR]: `slicenet-${slice}` } },
  spec,
});
