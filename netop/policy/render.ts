/**
 * A Ruleset (compile.ts) as one nftables table in the bridge family, per slice:
 *
 *   frame forwarded by any bridge of the node (hook forward, priority 0)
 *     │ neither port a Slicenet one (sn*: pod veths, VXLAN, gateway TAP) ──────────► accept
 *     │ ARP ──────────────────────────────────────────────────────────────────────► accept
 *     │ anything else not IPv4 (IPv6, VLAN-tagged, …) ──► counter policy_drops, drop
 *     │ neither address in the slice subnet ──────────────────────────────────────► accept
 *     │ isolation: saddr or daddr not in @members ──────► counter isolation_drops, drop
 *     │ reply of an allowed flow (@flows, @pings, reversed) ──────────────────────► accept
 *     │ ip saddr vmap @egress_groups ─► chain eg<N>: daddr . l4proto . dport in @eg<N> or @eg<N>r? return : drop
 *     │ ip daddr vmap @ingress_groups ─► chain in<N>: saddr . l4proto . dport in @in<N> or @in<N>r? return : drop
 *     │ remember the flow in @flows / @pings (dynamic sets with timeouts)
 *     ▼ accept                                      (policy drops: counter policy_drops)
 *
 * Per packet: a fixed number of hash lookups, whatever the number of pods, policies and rules,
 * plus a pipapo lookup per direction in the group's ranges. A pipapo lookup ANDs bitmaps as long
 * as the set has elements, so its cost grows with them: the single address . protocol . port
 * elements (a pod selector's peers on named ports: nearly all of them) go into a hash set
 * `<group>`, only the ranges (ipBlocks, port ranges, "any port") into the interval set
 * `<group>r`. With 1000 rules over 1000 endpoints in pipapo alone, throughput halved. The agent's anti-spoofing table (`bridge slicenet`, prerouting) runs first, so the
 * source addresses seen here are the pods' own. The bridge family has no conntrack on this
 * kernel (no nf_conntrack_bridge), hence the flow sets: the original direction is checked on
 * every packet, replies only need a recorded flow.
 *
 * Slices are IPv4 only: a pod that turned IPv6 back on, or sent tagged frames, would otherwise
 * pass beside every rule. The agent's anti-spoofing table already drops such frames from local
 * pod ports; this drop also covers what arrives from the VXLAN device and the gateway's TAP.
 * The port names are the agent's and gateway's (`snv…`, `snvx<vni>`, `sngw<vni>`): the
 * kernel's bridge family here cannot match on the bridge itself (`meta ibrname`).
 *
 * A change replaces the table's chains, maps and sets in one transaction; the counters and the
 * flow sets are kept, so metrics don't reset and established flows keep their replies. When the
 * table's shape stays (the same groups, isolation on or off as before), renderChanges turns the
 * change into element deletions and additions instead: a transaction the size of the change,
 * not of the ruleset (re-adding 20 000 interval elements costs the kernel seconds).
 */
import { formatIp } from '../../lib/net/cidr.ts';
import type { Box } from './boxes.ts';
import { enforces, type Group, type Ruleset } from './compile.ts';
import type { Range } from './validate.ts';

export const TABLE_PREFIX = 'slicenet-policy-';
export const tableName = (slice: string): string => `${TABLE_PREFIX}${slice}`;
export const COUNTERS = { policy: 'policy_drops', isolation: 'isolation_drops' } as const;
/** Objects that survive a replacement. */
export const KEPT = new Set<string>([COUNTERS.policy, COUNTERS.isolation, 'flows', 'pings']);

/** Every bridge port Slicenet makes: pod veths (snv…), VXLAN (snvx…), gateway TAPs (sngw…). */
export const PORT_PATTERN = 'sn*';

const FLOW_TIMEOUT = '180s';
const PING_TIMEOUT = '30s';

/** The table's objects that exist now, from `nft -j list table`. */
export interface Existing {
  chains: string[];
  sets: string[];
  maps: string[];
}

const range = ([lo, hi]: Range, fmt: (n: number) => string = String): string =>
  lo === hi ? fmt(lo) : `${fmt(lo)}-${fmt(hi)}`;
const element = (b: Box): string => `${range(b.addr, formatIp)} . ${range(b.proto)} . ${range(b.port)}`;
const elements = (xs: string[]): string => (xs.length ? ` elements = { ${xs.join(', ')} };` : '');

const exact = (b: Box): boolean =>
  b.addr[0] === b.addr[1] && b.proto[0] === b.proto[1] && b.port[0] === b.port[1];
/** A group's two sets: single address . protocol . port elements (hash), and ranges (interval). */
const setNames = (dir: 'eg' | 'in', i: number): { exact: string; ranges: string } => ({
  exact: `${dir}${i}`,
  ranges: `${dir}${i}r`,
});

function groupObjects(dir: 'eg' | 'in', groups: Group[]): { decl: string[]; map: string[] } {
  const peer = dir === 'eg' ? 'ip daddr' : 'ip saddr';
  const decl: string[] = [];
  const map: string[] = [];
  const type = 'type ipv4_addr . inet_proto . inet_service;';
  groups.forEach((g, i) => {
    const chain = `${dir}${i}`;
    const sets = setNames(dir, i);
    decl.push(
      `  set ${sets.exact} { ${type}${elements(g.allow.filter(exact).map(element))} }`,
      `  set ${sets.ranges} { ${type} flags interval;${elements(g.allow.filter((b) => !exact(b)).map(element))} }`,
      `  chain ${chain} {`,
      `    ${peer} . meta l4proto . th dport @${sets.exact} return`,
      `    ${peer} . meta l4proto . th dport @${sets.ranges} return`,
      `    counter name ${COUNTERS.policy} drop`,
      `  }`,
    );
    for (const m of g.members) map.push(`${m} : jump ${chain}`);
  });
  return { decl, map };
}

/** The nft script that turns whatever the table holds now (`existing`) into `r`, atomically. */
export function renderRuleset(r: Ruleset, existing: Existing): string {
  const t = `bridge ${tableName(r.slice)}`;
  const out = [
    `add table ${t}`,
    `add counter ${t} ${COUNTERS.policy}`,
    `add counter ${t} ${COUNTERS.isolation}`,
    `add set ${t} flows { type ipv4_addr . ipv4_addr . inet_proto . inet_service . inet_service; flags dynamic,timeout; timeout ${FLOW_TIMEOUT}; size 65536; }`,
    `add set ${t} pings { type ipv4_addr . ipv4_addr; flags dynamic,timeout; timeout ${PING_TIMEOUT}; size 65536; }`,
    `flush table ${t}`,
    ...existing.maps.map((m) => `delete map ${t} ${m}`),
    ...existing.sets.filter((s) => !KEPT.has(s)).map((s) => `delete set ${t} ${s}`),
    ...existing.chains.map((c) => `delete chain ${t} ${c}`),
  ];
  if (!enforces(r)) return out.join('\n') + '\n';
  const eg = groupObjects('eg', r.egress);
  const ing = groupObjects('in', r.ingress);
  const isolation = r.members
    ? [
        `    ip saddr != @members counter name ${COUNTERS.isolation} drop`,
        `    ip daddr != @members counter name ${COUNTERS.isolation} drop`,
      ]
    : [];
  out.push(
    `table ${t} {`,
    ...(r.members ? [`  set members { type ipv4_addr;${elements(r.members)} }`] : []),
    ...eg.decl,
    ...ing.decl,
    `  map egress_groups { type ipv4_addr : verdict;${elements(eg.map)} }`,
    `  map ingress_groups { type ipv4_addr : verdict;${elements(ing.map)} }`,
    `  chain filter {`,
    `    type filter hook forward priority 0; policy accept;`,
    `    iifname != "${PORT_PATTERN}" oifname != "${PORT_PATTERN}" accept`,
    `    ether type arp accept`,
    `    ether type != ip counter name ${COUNTERS.policy} drop`,
    `    ip saddr != ${r.subnet} ip daddr != ${r.subnet} accept`,
    ...isolation,
    `    ip daddr . ip saddr . meta l4proto . th dport . th sport @flows accept`,
    `    icmp type echo-reply ip daddr . ip saddr @pings accept`,
    `    ip saddr vmap @egress_groups`,
    `    ip daddr vmap @ingress_groups`,
    `    meta l4proto { tcp, udp, sctp } update @flows { ip saddr . ip daddr . meta l4proto . th sport . th dport }`,
    `    icmp type echo-request update @pings { ip saddr . ip daddr }`,
    `  }`,
    `}`,
  );
  return out.join('\n') + '\n';
}

/** A set's or map's elements, as rendered, by object name. */
function elementsByObject(r: Ruleset): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (r.members) out.set('members', r.members);
  for (const [dir, groups] of [
    ['eg', r.egress],
    ['in', r.ingress],
  ] as const) {
    const map: string[] = [];
    groups.forEach((g, i) => {
      const sets = setNames(dir, i);
      out.set(sets.exact, g.allow.filter(exact).map(element));
      out.set(sets.ranges, g.allow.filter((b) => !exact(b)).map(element));
      for (const m of g.members) map.push(`${m} : jump ${dir}${i}`);
    });
    out.set(dir === 'eg' ? 'egress_groups' : 'ingress_groups', map);
  }
  return out;
}

/**
 * The nft script that turns the table holding `before` (as renderRuleset made it) into `after`
 * by deleting and adding elements, atomically; undefined when the table's shape changes (a group
 * more or less, isolation turned on or off, nothing left to enforce): renderRuleset then.
 */
export function renderChanges(before: Ruleset, after: Ruleset): string | undefined {
  if (
    before.slice !== after.slice ||
    before.subnet !== after.subnet ||
    !enforces(before) ||
    !enforces(after) ||
    !before.members !== !after.members ||
    before.egress.length !== after.egress.length ||
    before.ingress.length !== after.ingress.length
  )
    return undefined;
  const t = `bridge ${tableName(after.slice)}`;
  const was = elementsByObject(before);
  const deletes: string[] = [];
  const adds: string[] = [];
  for (const [name, now] of elementsByObject(after)) {
    const old = new Set(was.get(name));
    const keep = new Set(now);
    // A map element is deleted by its key; one whose verdict changed is deleted and added.
    const gone = [...old].filter((e) => !keep.has(e)).map((e) => e.split(' : ')[0]!);
    const added = now.filter((e) => !old.has(e));
    if (gone.length) deletes.push(`delete element ${t} ${name} { ${gone.join(', ')} }`);
    if (added.length) adds.push(`add element ${t} ${name} { ${added.join(', ')} }`);
  }
  // Deletions first: a new interval element may overlap one that goes.
  return [...deletes, ...adds].map((l) => l + '\n').join('');
}
