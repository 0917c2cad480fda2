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
 * `rebuild` replaces the table with exactly the given ports in one transaction (at start,
 * through `nft -f`); `allow` and `forget` change one port's elements per pod, as one nfnetlink
 * batch each from the agent's own socket (lib/net/nftnetlink.ts): no `nft` process per pod.
 */
import { nftApply, nftListJson } from '../../lib/net/nft.ts';
import { key, NFPROTO, setElementBatch, type SetElementChange } from '../../lib/net/nftnetlink.ts';
import { Netlink, NETLINK } from '../../native/netlink.ts';

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

/** The agent's nfnetlink socket in its own (the node's) namespace, opened on first use. */
let socket: Netlink | undefined;
const nfnetlink = (): Netlink => (socket ??= Netlink.open('', NETLINK.NETFILTER));

/** A port's two elements: its name in @ports, its name . MAC . address in @allowed. */
function changes(op: 'add' | 'delete', p: PortIdentity): SetElementChange[] {
  const at = { op, family: NFPROTO.BRIDGE, table: TABLE };
  return [
    { ...at, set: 'ports', key: [key.ifname(p.hostIfname)] },
    { ...at, set: 'allowed', key: [key.ifname(p.hostIfname), key.etherAddr(p.mac), key.ipv4Addr(p.ip)] },
  ];
}

export function allowPort(p: PortIdentity): Promise<void> {
  return new Promise((resolve) => resolve(void nfnetlink().call(setElementBatch(changes('add', p)))));
}

export function forgetPort(p: PortIdentity): Promise<void> {
  // Either element may be gone already (a crash between allow and forget), and deleting a
  // missing element fails the whole transaction. Adding one that exists is a no-op, so
  // add-then-delete removes each in one transaction whatever was there. Only a missing table
  // fails (ENOENT), and then there is nothing to forget.
  return new Promise((resolve) => {
    try {
      nfnetlink().call(setElementBatch([...changes('add', p), ...changes('delete', p)]));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    resolve();
  });
}

/** Frames dropped as spoofed since the table was made. */
export async function spoofedPackets(): Promise<number> {
  const out = await nftListJson(['counter', 'bridge', TABLE, 'spoofed']);
  for (const o of out.nftables as { counter?: { packets: number } }[])
    if (o.counter) return o.counter.packets;
  return 0;
}
