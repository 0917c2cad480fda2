/** The slice the policy compiler tests share: five endpoints in two clusters, their namespaces' labels. */
import type { Box } from '../../policy/boxes.ts';
import type { SliceEndpoint, SliceView } from '../../policy/compile.ts';
import type { MultiNetworkPolicy, MultiNetworkPolicySpec } from '../../policy/types.ts';

export const EP: SliceEndpoint[] = [
  { ip: '10.1.0.1', cluster: 'east', namespace: 'shop', pod: 'web', labels: { app: 'web', tier: 'front' } },
  { ip: '10.1.0.2', cluster: 'east', namespace: 'shop', pod: 'db', labels: { app: 'db' } },
  { ip: '10.1.0.3', cluster: 'east', namespace: 'ops', pod: 'tool', labels: { app: 'tool' } },
  { ip: '10.1.128.1', cluster: 'west', namespace: 'shop', pod: 'web-w', labels: { app: 'web' } },
  { ip: '10.1.128.2', cluster: 'west', namespace: 'shop', pod: 'db-w', labels: { app: 'db' } },
];
export const NS: Record<string, Record<string, string>> = {
  shop: { team: 'shop' },
  ops: { team: 'ops', env: 'prod' },
};
/** The pods labelled app=db. */
export const db = { matchLabels: { app: 'db' } };

export const mnp = (spec: MultiNetworkPolicySpec, name = 'p', namespace = 'shop'): MultiNetworkPolicy => ({
  apiVersion: 'k8s.cni.cncf.io/v1beta1',
  kind: 'MultiNetworkPolicy',
  metadata: { name, namespace },
  spec,
});

export const view = (policies: MultiNetworkPolicy[], isolation?: string[]): SliceView => ({
  slice: 's',
  cluster: 'east',
  subnet: '10.1.0.0/16',
  endpoints: EP,
  namespaceLabels: (ns) => NS[ns],
  isolation: { enabled: !!isolation, allowed: (_c, ns) => !!isolation?.includes(ns) },
  policies,
});

/** Whether no two boxes share a point: what the compiler promises of every allow set. */
export function disjoint(boxes: Box[]): boolean {
  const meet = (a: readonly [number, number], b: readonly [number, number]): boolean =>
    a[0] <= b[1] && b[0] <= a[1];
  return boxes.every((a, i) =>
    boxes
      .slice(i + 1)
      .every((b) => !(meet(a.addr, b.addr) && meet(a.proto, b.proto) && meet(a.port, b.port))),
  );
}
