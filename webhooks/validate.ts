/**
 * SliceConfig validation (SPEC §3.1, §4) as a pure function: the object under review, the old
 * one on UPDATE, and what the hub holds (other slices' subnets, registered clusters) in; the
 * list of violations out, each naming the field and why, and what to do where it is not
 * obvious. Empty means allowed.
 *
 * The CRD's schema already checks types and ranges; this repeats the checks a user most often
 * trips on, so that one denial lists them all, and adds what a schema cannot see: other
 * objects (overlap, registered clusters) and the old object (immutability).
 *
 * On UPDATE a field that did not change is not checked again (ratcheting, as the API server
 * does for CRD schemas): a SliceConfig admitted before a rule existed, or whose Cluster was
 * deregistered since, must stay editable, not least so that its finalizer can be removed.
 */
import { DSCP_CLASSES } from '../controller/api/types.ts';
import { formatCidr, isPrivate, network, overlaps, parseCidr, type Cidr } from '../lib/net/cidr.ts';

export const PREFIX = { min: 8, max: 22 } as const;
export const MAX_CLUSTERS = { min: 2, max: 64, default: 16 } as const;

/** A SliceConfig as it arrives in a review: untrusted JSON, so every field is unknown. */
export interface SliceConfigLike {
  metadata?: { name?: string; namespace?: string; deletionTimestamp?: string };
  spec?: Record<string, unknown>;
}

export interface SliceConfigReview {
  operation: 'CREATE' | 'UPDATE';
  /** The review's request.namespace. */
  namespace: string;
  object: SliceConfigLike;
  oldObject?: SliceConfigLike;
}

export interface HubState {
  hubNamespace: string;
  /** Every other SliceConfig (the one under review may be in the list; it is skipped). */
  others: { namespace: string; name: string; subnet: unknown }[];
  /** Names of the Cluster objects in the hub namespace. */
  clusters: string[];
}

export function validateSliceConfig(review: SliceConfigReview, hub: HubState): string[] {
  const { object, oldObject, namespace } = review;
  const spec = object.spec;
  if (typeof spec !== 'object' || spec === null) {
    return ['spec: missing; a SliceConfig needs at least spec.subnet'];
  }
  const old = review.operation === 'UPDATE' ? (oldObject?.spec ?? {}) : undefined;
  const errors = immutability(spec, old);
  // A deleting object only waits for finalizers to go: checking more could only block that.
  if (old && object.metadata?.deletionTimestamp) return errors;
  const changed = (field: string): boolean =>
    old === undefined || JSON.stringify(spec[field]) !== JSON.stringify(old[field]);

  if (review.operation === 'CREATE' && namespace !== hub.hubNamespace) {
    errors.push(
      `metadata.namespace: SliceConfigs live in the hub namespace "${hub.hubNamespace}", not "${namespace}"`,
    );
  }
  if (changed('subnet')) {
    const subnet = checkSubnet(spec.subnet, errors);
    if (subnet) checkOverlap(subnet, review, hub, errors);
  }
  const maxClusters = spec.maxClusters ?? MAX_CLUSTERS.default;
  if (changed('maxClusters') && !isIntIn(maxClusters, MAX_CLUSTERS.min, MAX_CLUSTERS.max)) {
    errors.push(
      `spec.maxClusters: ${JSON.stringify(maxClusters)} is out of range; use an integer from ${MAX_CLUSTERS.min} to ${MAX_CLUSTERS.max}`,
    );
  }
  if (changed('clusters')) checkClusters(spec.clusters, old?.clusters, maxClusters, hub, errors);
  if (changed('qos')) checkQos(spec.qos, errors);
  return errors;
}

function immutability(spec: Record<string, unknown>, old: Record<string, unknown> | undefined): string[] {
  if (!old) return [];
  const errors: string[] = [];
  if (spec.subnet !== old.subnet) {
    errors.push(
      `spec.subnet: is immutable (was ${JSON.stringify(old.subnet)}, now ${JSON.stringify(spec.subnet)}); create a new SliceConfig for another subnet`,
    );
  }
  const [was, now] = [old.maxClusters ?? MAX_CLUSTERS.default, spec.maxClusters ?? MAX_CLUSTERS.default];
  if (was !== now) {
    errors.push(
      `spec.maxClusters: is immutable (was ${JSON.stringify(was)}, now ${JSON.stringify(now)}); it fixes every cluster's block of the subnet`,
    );
  }
  return errors;
}

function checkSubnet(value: unknown, errors: string[]): Cidr | undefined {
  if (typeof value !== 'string' || value === '') {
    errors.push('spec.subnet: missing; give the slice an IPv4 subnet, e.g. 10.90.0.0/16');
    return undefined;
  }
  const c = parseCidr(value);
  if (typeof c === 'string') {
    errors.push(`spec.subnet: "${value}" ${c}`);
    return undefined;
  }
  const before = errors.length;
  if (c.prefix < PREFIX.min || c.prefix > PREFIX.max) {
    const why = c.prefix < PREFIX.min ? 'too large' : 'too small';
    errors.push(`spec.subnet: ${value} is ${why}; the prefix must be /${PREFIX.min} to /${PREFIX.max}`);
  }
  if (network(c) !== c.address) {
    errors.push(`spec.subnet: ${value} has host bits set; did you mean ${formatCidr(c)}?`);
  }
  if (!isPrivate(c)) {
    errors.push(
      `spec.subnet: ${value} is not a private range; use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16`,
    );
  }
  return errors.length === before ? c : undefined;
}

function checkOverlap(subnet: Cidr, review: SliceConfigReview, hub: HubState, errors: string[]): void {
  const self = { namespace: review.namespace, name: review.object.metadata?.name };
  for (const o of hub.others) {
    if (o.namespace === self.namespace && o.name === self.name) continue;
    const theirs = typeof o.subnet === 'string' ? parseCidr(o.subnet) : undefined;
    if (theirs === undefined || typeof theirs === 'string' || !overlaps(subnet, theirs)) continue;
    errors.push(
      `spec.subnet: ${formatCidr(subnet)} overlaps ${String(o.subnet)} of SliceConfig ${o.namespace}/${o.name}; slices need subnets that do not overlap`,
    );
  }
}

function checkClusters(
  value: unknown,
  oldValue: unknown,
  maxClusters: unknown,
  hub: HubState,
  errors: string[],
): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((c) => typeof c !== 'string')) {
    errors.push('spec.clusters: must be a list of cluster names');
    return;
  }
  const names = value as string[];
  const before = new Set(Array.isArray(oldValue) ? (oldValue as unknown[]) : []);
  const registered = new Set(hub.clusters);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) {
      errors.push(`spec.clusters[${i}]: "${name}" is listed twice`);
    } else if (!registered.has(name) && !before.has(name)) {
      errors.push(
        `spec.clusters[${i}]: cluster "${name}" is not registered (no Cluster "${name}" in namespace ${hub.hubNamespace}); register it first with kubectl slice register`,
      );
    }
  });
  if (typeof maxClusters === 'number' && names.length > maxClusters) {
    errors.push(`spec.clusters: ${names.length} clusters exceed spec.maxClusters (${maxClusters})`);
  }
}

function checkQos(value: unknown, errors: string[]): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null) {
    errors.push('spec.qos: must be an object {guaranteedKbps, ceilingKbps, priority, dscp}');
    return;
  }
  const { guaranteedKbps: g, ceilingKbps: c, priority, dscp } = value as Record<string, unknown>;
  const rates: [string, unknown][] = [
    ['guaranteedKbps', g],
    ['ceilingKbps', c],
  ];
  for (const [field, v] of rates) {
    if (!isIntIn(v, 1, Number.MAX_SAFE_INTEGER)) {
      errors.push(
        `spec.qos.${field}: ${JSON.stringify(v) ?? 'missing'}; must be a positive integer (kbit/s)`,
      );
    }
  }
  if (typeof g === 'number' && typeof c === 'number' && g > c) {
    errors.push(
      `spec.qos.guaranteedKbps: ${g} exceeds spec.qos.ceilingKbps (${c}); the guarantee cannot be above the ceiling`,
    );
  }
  if (priority !== undefined && !isIntIn(priority, 0, 7)) {
    errors.push(
      `spec.qos.priority: ${JSON.stringify(priority)} is out of range; use 0 (highest) to 7 (lowest)`,
    );
  }
  if (dscp !== undefined && !(DSCP_CLASSES as readonly unknown[]).includes(dscp)) {
    errors.push(
      `spec.qos.dscp: ${JSON.stringify(dscp)} is not a DSCP class; use one of ${DSCP_CLASSES.join(', ')}`,
    );
  }
}

function isIntIn(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}
