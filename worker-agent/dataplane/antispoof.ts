/**
 * Anti-spoofing on the slice bridges: a pod's port may send only from the MAC and address it
 * was given (IPv4 and ARP); anything else from a pod port is dropped and counted. One table
 * in the bridge family, hooked before the bridge forwards; two set lookups per frame, so the
 * cost does not grow with the number of pods.
 *
 *   frame in on a port ──► port in @ports? ── no ──► accept (VXLAN, gateway TAP)
 *                                 │ yes
 *                                 ▼
 *        (port . src MAC . src IP / ARP sender IP) in @allowed? ── yes ──► accept
 *                                 │ no
 *                                 ▼
 *                         counter "spoofed", drop
 *
 * `rebuild` replaces the table with exactly the given ports in one transaction (at start);
 * `allow` and `forget` change one port's elements.
 */
import { nftApply, nftApplyIgnoringMissing, nftListJson } from '../../lib/net/nft.ts';

export const TABLE = 'slicenet';

export interface PortIdentity {
  hostIfname: string;
  mac: string;
  ip: string;
}

const elements = (p: PortIdentity): { port: string; allowed: string } => ({
  port: `"${p.hostIfname}"`,
  allowed: `"${p.hostIfname}" . ${p.mac} . ${p.ip}`,
});

function table(ports: PortIdentity[]): string {
  const e = ports.map(elements);
  const list = (xs: string[]): string => (xs.length ? `elements = { ${xs.join(', ')} }` : '');
  return `table bridge ${TABLE} {
  set ports { type ifname; ${list(e.map((x) => x.port))} }
  set allowed { type ifname . ether_addr . ipv4_addr; ${list(e.map((x) => x.allowed))} }
  counter spoofed {}
  chain guard {
    type filter hook prerouting priority -200; policy accept;
    iifname != @ports accept
    ether type arp iifname . ether saddr . arp saddr ip @allowed accept
    ether type ip iifname . ether saddr . ip saddr @allowed accept
    counter name spoofed drop
  }
}
`;
}

export async function rebuildAntispoof(ports: PortIdentity[]): Promise<void> {
  await nftApply(`add table bridge ${TABLE}\ndelete table bridge ${TABLE}\n${table(ports)}`);
}

export async function allowPort(p: PortIdentity): Promise<void> {
  const e = elements(p);
  await nftApply(
    `add element bridge ${TABLE} ports { ${e.port} }\nadd element bridge ${TABLE} allowed { ${e.allowed} }\n`,
  );
}

export async function forgetPort(p: PortIdentity): Promise<void> {
  const e = elements(p);
  // Either element may be gone already (a crash between allow and forget), and deleting a
  // missing element fails the whole transaction. Adding one that exists is a no-op, so
  // add-then-delete removes each in one transaction and one process whatever was there
  // (nftables 1.0.8's `destroy`, on the 1.0.6 Debian ships). Only a missing table fails.
  await nftApplyIgnoringMissing(
    [
      `add element bridge ${TABLE} allowed { ${e.allowed} }`,
      `delete element bridge ${TABLE} allowed { ${e.allowed} }`,
      `add element bridge ${TABLE} ports { ${e.port} }`,
      `delete element bridge ${TABLE} ports { ${e.port} }`,
    ].join('\n') + '\n',
  );
}

/** Frames dropped as spoofed since the table was made. */
export async function spoofedPackets(): Promise<number> {
  const out = await nftListJson(['counter', 'bridge', TABLE, 'spoofed']);
  for (const o of out.nftables as { counter?: { packets: number } }[])
    if (o.counter) return o.counter.packets;
  return 0;
}
