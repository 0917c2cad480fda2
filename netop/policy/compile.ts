/**
 * Compiles a slice's isolation setting and its MultiNetworkPolicies, over the slice's endpoints
 * in every member cluster, into the sets and maps of one nftables table (render.ts). Pure: no
 * I/O, so every case is a unit test.
 *
 * Semantics are NetworkPolicy's, stretched over clusters:
 * - A policy's subjects are the pods of its namespace in THIS cluster matching spec.podSelector:
 *   each cluster enforces its own policies on its own pods. Peers (podSelector,
 *   namespaceSelector) match slice pods in every member cluster. A namespace in another cluster
 *   is taken to carry the labels of the same-named namespace here ("namespace sameness", as
 *   SIG Multicluster defines it), plus kubernetes.io/metadata.name.
 * - A pod selected by any policy with Ingress (Egress) in its types is isolated in that
 *   direction: only what the union of those policies' rules allows gets through.
 * - Replies of allowed flows are allowed (render.ts keeps a flow set for that).
 * - Isolation: when on, only endpoints of the slice's namespaces and its allowed namespaces
 *   may send or receive on the slice; anything else, unknown addresses included, is dropped.
 *
 * Pods are grouped by the exact set of policies that isolate them; each group gets one chain and
 * one set of disjoint (address . protocol . port) boxes, so a packet costs one map lookup and one
 * set lookup per direction whatever the number of pods, policies and rules.
 */
import type { NamespaceRule, Slice } from '../../controller/api/types.ts';
import { formatCidr, mustParseCidr, parseCidr } from '../../lib/net/cidr.ts';
import { disjointBoxes, type Box } from './boxes.ts';
import type { Labels } from './selectors.ts';
import type { MultiNetworkPolicy } from './types.ts';
import {
  normalizePolicy,
  type PodPeer,
  type Policy,
  type Range,
  type Rule,
  ANY_ADDRESS,
} from './validate.ts';

export interface SliceEndpoint {
  ip: string;
  cluster: string;
  namespace: string;
  pod: string;
  labels: Labels;
}

export interface SliceView {
  slice: string;
  /** This cluster: policies apply to its pods. */
  cluster: string;
  subnet: string;
  endpoints: SliceEndpoint[];
  /** Labels of a namespace of this cluster; undefined when it is not known here. */
  namespaceLabels: (namespace: string) => Labels | undefined;
  isolation: { enabled: boolean; allowed: (cluster: string, namespace: string) => boolean };
  policies: MultiNetworkPolicy[];
}

/** Pods isolated by the same policies, and what those policies allow them. */
export interface Group {
  /** Addresses of the group's pods. */
  members: string[];
  /** Peer address . protocol . port boxes, disjoint. */
  allow: Box[];
}

export interface Ruleset {
  slice: string;
  /** The slice subnet, network/prefix: frames with neither address in it are not the slice's. */
  subnet: string;
  /** Addresses allowed on the slice when isolation is on; undefined when it is off. */
  members?: string[];
  egress: Group[];
  ingress: Group[];
  /** The policies compiled, namespace/name. */
  policies: string[];
}

/** False when the ruleset lets everything through: the table then needs no chain at all. */
export const enforces = (r: Ruleset): boolean => !!r.members || r.egress.length > 0 || r.ingress.length > 0;

const METADATA_NAME = 'kubernetes.io/metadata.name';

/** Throws PolicyError (validate.ts) for the first malformed policy: nothing is compiled then. */
export function compile(v: SliceView): Ruleset {
  const policies = [...v.policies]
    .sort((a, b) => key(a).localeCompare(key(b)))
    .map((p) => normalizePolicy(p));
  const nsLabels = (ns: string): Labels => ({ ...v.namespaceLabels(ns), [METADATA_NAME]: ns });
  // An endpoint whose address is not IPv4 (a bad status entry) can be neither subject nor peer.
  const endpoints: Addressed[] = v.endpoints.flatMap((e) => {
    const c = parseCidr(`${e.ip}/32`);
    return typeof c === 'string' ? [] : [{ ...e, addr: c.address }];
  });
  const local = endpoints.filter((e) => e.cluster === v.cluster);
  const ruleset: Ruleset = {
    slice: v.slice,
    subnet: formatCidr(mustParseCidr(v.subnet)),
    egress: groups(local, policies, 'egress', endpoints, nsLabels),
    ingress: groups(local, policies, 'ingress', endpoints, nsLabels),
    policies: policies.map((p) => p.key),
  };
  if (v.isolation.enabled)
    ruleset.members = unique(
      endpoints.filter((e) => v.isolation.allowed(e.cluster, e.namespace)).map((e) => e.ip),
    );
  return ruleset;
}

type Addressed = SliceEndpoint & { addr: number };

const key = (p: MultiNetworkPolicy): string => `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
const unique = (xs: string[]): string[] => [...new Set(xs)].sort();

function groups(
  local: Addressed[],
  policies: Policy[],
  dir: 'ingress' | 'egress',
  all: Addressed[],
  nsLabels: (ns: string) => Labels,
): Group[] {
  const byPolicies = new Map<string, { members: string[]; policies: Policy[] }>();
  for (const e of local) {
    const selecting = policies.filter((p) => p[dir] && p.namespace === e.namespace && p.subjects(e.labels));
    if (!selecting.length) continue;
    const k = selecting.map((p) => p.key).join('\n');
    const g = byPolicies.get(k) ?? { members: [], policies: selecting };
    g.members.push(e.ip);
    byPolicies.set(k, g);
  }
  // Rules often repeat a selector (1000 rules, 50 apps): each is matched against the endpoints once.
  const matched = new Map<string, Range[]>();
  const peerAddrs = (peer: PodPeer, p: Policy): Range[] => {
    const k = `${p.namespace}\0${peer.key}`;
    let addrs = matched.get(k);
    if (!addrs) {
      addrs = all
        .filter(
          (e) =>
            (peer.namespaces ? peer.namespaces(nsLabels(e.namespace)) : e.namespace === p.namespace) &&
            peer.pods(e.labels),
        )
        .map((e): Range => [e.addr, e.addr]);
      matched.set(k, addrs);
    }
    return addrs;
  };
  return [...byPolicies.values()].map((g) => ({
    members: unique(g.members),
    allow: disjointBoxes(g.policies.flatMap((p) => p[dir]!.flatMap((r) => boxes(r, p, peerAddrs)))),
  }));
}

function boxes(r: Rule, p: Policy, peerAddrs: (peer: PodPeer, p: Policy) => Range[]): Box[] {
  const addrs: Range[] = r.peers
    ? r.peers.flatMap((peer) => (peer.kind === 'block' ? peer.ranges : peerAddrs(peer, p)))
    : [ANY_ADDRESS];
  return addrs.flatMap((addr) => r.ports.map((pm) => ({ addr, proto: pm.proto, port: pm.port })));
}

/** The compiler's view of a Slice: its endpoints in every cluster, its isolation rule. */
export function sliceView(
  slice: Slice,
  policies: MultiNetworkPolicy[],
  namespaceLabels: (namespace: string) => Labels | undefined,
): SliceView {
  const s = slice.spec;
  const endpoints: SliceEndpoint[] = [
    ...(slice.status?.endpoints ?? []).map((e) => ({ ...e, cluster: s.cluster })),
    ...(s.peers ?? []).flatMap((p) => (p.endpoints ?? []).map((e) => ({ ...e, cluster: p.cluster }))),
  ].map((e) => ({
    ip: e.ip,
    cluster: e.cluster,
    namespace: e.namespace,
    pod: e.pod,
    labels: e.labels ?? {},
  }));
  const rules: NamespaceRule[] = [...(s.namespaces ?? []), ...(s.isolation?.allowedNamespaces ?? [])];
  // No namespaces listed: any namespace that joined with the label is the slice's.
  const anyJoined = (s.namespaces ?? []).length === 0;
  const inRule = (cluster: string, ns: string): boolean =>
    rules.some(
      (r) =>
        r.namespace === ns &&
        (!r.clusters || r.clusters.length === 0 || r.clusters.includes('*') || r.clusters.includes(cluster)),
    );
  return {
    slice: slice.metadata.name,
    cluster: s.cluster,
    subnet: s.subnet,
    endpoints,
    namespaceLabels,
    isolation: {
      enabled: !!s.isolation?.enabled,
      allowed: (cluster, ns) => anyJoined || inRule(cluster, ns),
    },
    policies,
  };
}
