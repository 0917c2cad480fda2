/**
 * SliceConfig validation: one row per rule, each refusal matched by the exact message a user
 * sees (which must start with the field it is about).
 */
import test from 'ava';
import { validateSliceConfig, type HubState, type SliceConfigReview } from '../validate.ts';

const HUB = 'slicenet-system';
const hub: HubState = {
  hubNamespace: HUB,
  others: [
    { namespace: HUB, name: 'payments', subnet: '10.90.0.0/16' },
    { namespace: HUB, name: 'broken', subnet: 'garbage' },
  ],
  clusters: ['east', 'west', 'north'],
};

const spec = (s: Record<string, unknown> = {}): Record<string, unknown> => ({
  subnet: '10.10.0.0/16',
  clusters: ['east', 'west'],
  qos: { guaranteedKbps: 1000, ceilingKbps: 5000, priority: 3, dscp: 'AF41' },
  ...s,
});
const create = (s: Record<string, unknown> | undefined, namespace = HUB): SliceConfigReview => ({
  operation: 'CREATE',
  namespace,
  object: { metadata: { name: 'orders', namespace }, spec: s },
});
const update = (
  oldSpec: Record<string, unknown>,
  newSpec: Record<string, unknown>,
  deleting = false,
): SliceConfigReview => ({
  operation: 'UPDATE',
  namespace: HUB,
  object: {
    metadata: { name: 'orders', ...(deleting ? { deletionTimestamp: '2030-01-01T00:00:00Z' } : {}) },
    spec: newSpec,
  },
  oldObject: { metadata: { name: 'orders' }, spec: oldSpec },
});

// prettier-ignore
const rows: [string, SliceConfigReview, string[]][] = [
  ['a valid slice', create(spec()), []],
  ['the smallest and largest prefixes', create(spec({ subnet: '172.16.0.0/12', maxClusters: 64 })), []],
  ['no spec', create(undefined), ['spec: missing; a SliceConfig needs at least spec.subnet']],
  ['no subnet', create(spec({ subnet: undefined })), ['spec.subnet: missing; give the slice an IPv4 subnet, e.g. 10.90.0.0/16']],
  ['not a CIDR', create(spec({ subnet: '10.1.0.0' })), ['spec.subnet: "10.1.0.0" is not a CIDR: write it as address/prefix, e.g. 10.90.0.0/16']],
  ['bad address', create(spec({ subnet: '10.300.0.0/16' })), ['spec.subnet: "10.300.0.0/16" has an invalid IPv4 address "10.300.0.0"']],
  ['leading zeros', create(spec({ subnet: '010.1.0.0/16' })), ['spec.subnet: "010.1.0.0/16" has an invalid IPv4 address "010.1.0.0"']],
  ['bad prefix', create(spec({ subnet: '10.1.0.0/33' })), ['spec.subnet: "10.1.0.0/33" has an invalid prefix length "/33"']],
  ['IPv6', create(spec({ subnet: 'fd00::/64' })), ['spec.subnet: "fd00::/64" is an IPv6 CIDR; slices are IPv4']],
  ['public range', create(spec({ subnet: '8.8.0.0/16' })), ['spec.subnet: 8.8.0.0/16 is not a private range; use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16']],
  ['straddles a private range', create(spec({ subnet: '172.0.0.0/8' })), ['spec.subnet: 172.0.0.0/8 is not a private range; use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16']],
  ['prefix too small', create(spec({ subnet: '10.1.1.0/24' })), ['spec.subnet: 10.1.1.0/24 is too small; the prefix must be /8 to /22']],
  ['prefix too large', create(spec({ subnet: '10.0.0.0/7' })), [
    'spec.subnet: 10.0.0.0/7 is too large; the prefix must be /8 to /22',
    'spec.subnet: 10.0.0.0/7 is not a private range; use 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16']],
  ['host bits set', create(spec({ subnet: '10.90.1.0/16' })), ['spec.subnet: 10.90.1.0/16 has host bits set; did you mean 10.90.0.0/16?']],
  ['overlaps another slice (inside it)', create(spec({ subnet: '10.90.128.0/17' })), [
    'spec.subnet: 10.90.128.0/17 overlaps 10.90.0.0/16 of SliceConfig slicenet-system/payments; slices need subnets that do not overlap']],
  ['overlaps another slice (around it)', create(spec({ subnet: '10.0.0.0/8' })), [
    'spec.subnet: 10.0.0.0/8 overlaps 10.90.0.0/16 of SliceConfig slicenet-system/payments; slices need subnets that do not overlap']],
  ['adjacent subnet does not overlap', create(spec({ subnet: '10.91.0.0/16' })), []],
  ['outside the hub namespace', create(spec(), 'shop'), ['metadata.namespace: SliceConfigs live in the hub namespace "slicenet-system", not "shop"']],
  ['maxClusters out of range', create(spec({ maxClusters: 65 })), ['spec.maxClusters: 65 is out of range; use an integer from 2 to 64']],
  ['unregistered cluster', create(spec({ clusters: ['east', 'south'] })), [
    'spec.clusters[1]: cluster "south" is not registered (no Cluster "south" in namespace slicenet-system); register it first with kubectl slice register']],
  ['duplicate cluster', create(spec({ clusters: ['east', 'east'] })), ['spec.clusters[1]: "east" is listed twice']],
  ['more clusters than maxClusters', create(spec({ maxClusters: 2, clusters: ['east', 'west', 'north'] })), ['spec.clusters: 3 clusters exceed spec.maxClusters (2)']],
  ['clusters not a list', create(spec({ clusters: 'east' })), ['spec.clusters: must be a list of cluster names']],
  ['guaranteed above ceiling', create(spec({ qos: { guaranteedKbps: 6000, ceilingKbps: 5000 } })), [
    'spec.qos.guaranteedKbps: 6000 exceeds spec.qos.ceilingKbps (5000); the guarantee cannot be above the ceiling']],
  ['rate not a positive integer', create(spec({ qos: { guaranteedKbps: 0, ceilingKbps: 5000 } })), ['spec.qos.guaranteedKbps: 0; must be a positive integer (kbit/s)']],
  ['missing ceiling', create(spec({ qos: { guaranteedKbps: 10 } })), ['spec.qos.ceilingKbps: missing; must be a positive integer (kbit/s)']],
  ['priority out of range', create(spec({ qos: { guaranteedKbps: 1, ceilingKbps: 2, priority: 8 } })), ['spec.qos.priority: 8 is out of range; use 0 (highest) to 7 (lowest)']],
  ['unknown DSCP class', create(spec({ qos: { guaranteedKbps: 1, ceilingKbps: 2, dscp: 'AF44' } })), [
    'spec.qos.dscp: "AF44" is not a DSCP class; use one of Default, AF11, AF12, AF13, AF21, AF22, AF23, AF31, AF32, AF33, AF41, AF42, AF43, CS1, CS2, CS3, CS4, CS5, CS6, CS7, EF']],
  ['subnet is immutable', update(spec(), spec({ subnet: '10.11.0.0/16' })), [
    'spec.subnet: is immutable (was "10.10.0.0/16", now "10.11.0.0/16"); create a new SliceConfig for another subnet']],
  ['maxClusters is immutable (default counts)', update(spec(), spec({ maxClusters: 8 })), [
    "spec.maxClusters: is immutable (was 16, now 8); it fixes every cluster's block of the subnet"]],
  ['maxClusters set to its default is no change', update(spec(), spec({ maxClusters: 16 })), []],
  ['update keeps its own subnet (no self-overlap)', update(spec({ subnet: '10.90.0.0/16' }), spec({ subnet: '10.90.0.0/16', clusters: ['east'] })), []],
  ['update: a deregistered cluster already listed is kept', update(spec({ clusters: ['gone'] }), spec({ clusters: ['gone', 'east'] })), []],
  ['update: a newly added unknown cluster is refused', update(spec(), spec({ clusters: ['east', 'west', 'nope'] })), [
    'spec.clusters[2]: cluster "nope" is not registered (no Cluster "nope" in namespace slicenet-system); register it first with kubectl slice register']],
  ['update: an unchanged invalid field does not block other edits', update(spec({ subnet: '8.8.0.0/16' }), spec({ subnet: '8.8.0.0/16', clusters: ['east'] })), []],
  ['update: a deleting object only checks immutability', update(spec(), spec({ qos: { guaranteedKbps: 9, ceilingKbps: 1 } }), true), []],
];

for (const [title, review, expected] of rows) {
  test(`validate: ${title}`, (t) => {
    const errors = validateSliceConfig(review, hub);
    t.deepEqual(errors, expected);
    for (const e of errors)
      t.regex(e, /^(spec|metadata)(\.[a-zA-Z]+|\[\d+\])*(\[\d+\])?: /, 'names the field');
  });
}
