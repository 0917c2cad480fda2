/**
 * Checks one MultiNetworkPolicy and turns it into the normalized form the compiler works on:
 * selectors as predicates, ipBlocks as address ranges with their exceptions cut out, ports as
 * (protocol range, port range) pairs. A policy is accepted whole or refused whole: the first
 * bad field throws a PolicyError that names the policy and the field.
 */
import { isIPv6 } from 'node:net';
import { SlicenetError } from '../../lib/errors.ts';
import { contains, network, parseCidr, type Cidr } from '../../lib/net/cidr.ts';
import { compileSelector, FieldError, type Matcher } from './selectors.ts';
import type { MultiNetworkPolicy, PolicyPeer, PolicyPort } from './types.ts';

/** An inclusive range of unsigned numbers: addresses, protocol numbers or ports. */
export type Range = readonly [number, number];

export const ANY_ADDRESS: Range = [0, 2 ** 32 - 1];
export const ANY_PROTOCOL: Range = [0, 255];
export const ANY_PORT: Range = [0, 65535];

export const PROTOCOLS: Readonly<Record<string, number>> = { TCP: 6, UDP: 17, SCTP: 132 };

export interface PortMatch {
  proto: Range;
  port: Range;
}

/** Pods chosen by labels; `namespaces` undefined means the policy's own namespace. */
export interface PodPeer {
  kind: 'pods';
  pods: Matcher;
  namespaces?: Matcher;
  /** The selectors as written: peers with equal keys (in one namespace) match the same pods. */
  key: string;
}

/** Addresses: the CIDR less its exceptions, as disjoint ranges (IPv6 blocks match nothing on a slice). */
export interface BlockPeer {
  kind: 'block';
  ranges: Range[];
}

export type Peer = PodPeer | BlockPeer;

/** One rule: traffic to or from any of `peers` (undefined: anywhere) on any of `ports`. */
export interface Rule {
  peers?: Peer[];
  ports: PortMatch[];
}

export interface Policy {
  /** namespace/name, for events and errors. */
  key: string;
  namespace: string;
  subjects: Matcher;
  /** Rules when the policy isolates its pods for ingress; undefined when it does not. */
  ingress?: Rule[];
  egress?: Rule[];
}

export class PolicyError extends SlicenetError {
  constructor(
    readonly policy: string,
    readonly field: string,
    message: string,
  ) {
    super('POLICY_INVALID', `MultiNetworkPolicy ${policy} refused: ${message}`);
  }
}

/** Validates and normalizes; throws PolicyError naming the field. */
export function normalizePolicy(p: MultiNetworkPolicy): Policy {
  const namespace = p.metadata.namespace ?? 'default';
  const key = `${namespace}/${p.metadata.name}`;
  try {
    return normalize(p, namespace, key);
  } catch (err) {
    if (err instanceof FieldError) throw new PolicyError(key, err.path, err.message);
    throw err;
  }
}

function normalize(p: MultiNetworkPolicy, namespace: string, key: string): Policy {
  const spec = p.spec as unknown;
  if (typeof spec !== 'object' || spec === null) throw new FieldError('spec', 'is required');
  const s = p.spec;
  if (s.podSelector === undefined || s.podSelector === null)
    throw new FieldError('spec.podSelector', 'is required ({} selects every pod of the namespace)');
  const subjects = compileSelector(s.podSelector, 'spec.podSelector');
  const types = s.policyTypes ?? (s.egress ? ['Ingress', 'Egress'] : ['Ingress']);
  if (!Array.isArray(types)) throw new FieldError('spec.policyTypes', 'must be a list');
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress')
      throw new FieldError(
        `spec.policyTypes[${i}]`,
        `"${String(t)}" is not a policy type: use Ingress or Egress`,
      );
  });
  const policy: Policy = { key, namespace, subjects };
  const ingress = list(s.ingress, 'spec.ingress').map((r, i) =>
    rule(r.from, r.ports, `spec.ingress[${i}]`, 'from'),
  );
  const egress = list(s.egress, 'spec.egress').map((r, i) => rule(r.to, r.ports, `spec.egress[${i}]`, 'to'));
  if (types.includes('Ingress')) policy.ingress = ingress;
  if (types.includes('Egress')) policy.egress = egress;
  return policy;
}

function list<T>(v: T[] | undefined | null, path: string): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new FieldError(path, 'must be a list');
  return v;
}

function rule(
  peers: PolicyPeer[] | undefined,
  ports: PolicyPort[] | undefined,
  path: string,
  peersField: string,
): Rule {
  const portList = list(ports, `${path}.ports`).map((p, i) => port(p, `${path}.ports[${i}]`));
  const r: Rule = { ports: portList.length ? portList : [{ proto: ANY_PROTOCOL, port: ANY_PORT }] };
  const peerList = list(peers, `${path}.${peersField}`);
  if (peerList.length) r.peers = peerList.map((p, i) => peer(p, `${path}.${peersField}[${i}]`));
  return r;
}

function peer(p: PolicyPeer, path: string): Peer {
  if (typeof p !== 'object' || p === null) throw new FieldError(path, 'must be an object');
  if (p.ipBlock !== undefined) {
    if (p.podSelector !== undefined || p.namespaceSelector !== undefined)
      throw new FieldError(path, 'ipBlock cannot be combined with podSelector or namespaceSelector');
    return block(p.ipBlock, `${path}.ipBlock`);
  }
  if (p.podSelector === undefined && p.namespaceSelector === undefined)
    throw new FieldError(path, 'needs podSelector, namespaceSelector or ipBlock');
  const pods = compileSelector(p.podSelector, `${path}.podSelector`);
  const key = JSON.stringify([p.podSelector ?? null, p.namespaceSelector ?? null]);
  if (p.namespaceSelector === undefined) return { kind: 'pods', pods, key };
  return {
    kind: 'pods',
    pods,
    namespaces: compileSelector(p.namespaceSelector, `${path}.namespaceSelector`),
    key,
  };
}

function cidr(text: unknown, path: string): Cidr | 'v6' {
  if (typeof text !== 'string') throw new FieldError(path, 'must be a CIDR string, e.g. 10.90.0.0/16');
  if (text.includes(':')) {
    const [addr = '', len = ''] = text.split('/');
    if (isIPv6(addr) && /^\d{1,3}$/.test(len) && Number(len) <= 128) return 'v6';
    throw new FieldError(path, `"${text}" is not a CIDR: write it as address/prefix, e.g. 10.90.0.0/16`);
  }
  const c = parseCidr(text);
  if (typeof c === 'string') throw new FieldError(path, `"${text}" ${c}`);
  return c;
}

const rangeOf = (c: Cidr): Range => [network(c), network(c) + 2 ** (32 - c.prefix) - 1];

function block(b: { cidr: string; except?: string[] }, path: string): BlockPeer {
  if (typeof b !== 'object' || b === null) throw new FieldError(path, 'must be an object with cidr');
  const outer = cidr(b.cidr, `${path}.cidr`);
  const excepts = list(b.except, `${path}.except`).map((e, i) => {
    const c = cidr(e, `${path}.except[${i}]`);
    const inside = outer === 'v6' ? c === 'v6' : c !== 'v6' && contains(outer, c) && c.prefix > outer.prefix;
    if (!inside)
      throw new FieldError(`${path}.except[${i}]`, `"${e}" must be strictly inside cidr "${b.cidr}"`);
    return c;
  });
  if (outer === 'v6') return { kind: 'block', ranges: [] };
  return {
    kind: 'block',
    ranges: subtract(
      rangeOf(outer),
      excepts.map((c) => rangeOf(c as Cidr)),
    ),
  };
}

/** `whole` less every range of `holes`, as sorted disjoint ranges. */
function subtract(whole: Range, holes: Range[]): Range[] {
  const out: Range[] = [];
  let next = whole[0];
  for (const [lo, hi] of [...holes].sort((a, b) => a[0] - b[0])) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= whole[1]) out.push([next, whole[1]]);
  return out;
}

function port(p: PolicyPort, path: string): PortMatch {
  if (typeof p !== 'object' || p === null) throw new FieldError(path, 'must be an object');
  const protoName = p.protocol ?? 'TCP';
  const proto = PROTOCOLS[protoName];
  if (proto === undefined)
    throw new FieldError(
      `${path}.protocol`,
      `"${String(protoName)}" is not a protocol: use TCP, UDP or SCTP`,
    );
  if (p.port === undefined || p.port === null) {
    if (p.endPort !== undefined)
      throw new FieldError(`${path}.endPort`, 'needs port: endPort ends a range that port starts');
    return { proto: [proto, proto], port: ANY_PORT };
  }
  if (typeof p.port === 'string')
    throw new FieldError(`${path}.port`, `named port "${p.port}" is not supported on a slice: use a number`);
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535)
    throw new FieldError(
      `${path}.port`,
      `${String(p.port)} is not a port: use a whole number from 1 to 65535`,
    );
  let end = p.port;
  if (p.endPort !== undefined) {
    if (!Number.isInteger(p.endPort) || p.endPort < p.port || p.endPort > 65535)
      throw new FieldError(
        `${path}.endPort`,
        `${String(p.endPort)} must be a whole number from port (${p.port}) to 65535`,
      );
    end = p.endPort;
  }
  return { proto: [proto, proto], port: [p.port, end] };
}
