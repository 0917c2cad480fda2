/**
 * A slice on a node: a Linux bridge and a kernel VXLAN device on it (the slice's VNI), the
 * VXLAN sending to the other nodes that carry the slice by unicast head-end replication: one
 * all-zeros FDB entry per remote node, so broadcast and unknown unicast go to each of them
 * and nothing needs multicast on the underlay. Remote pod MACs are then learned by the VXLAN
 * device from the traffic itself, as a bridge learns its ports.
 *
 *   pod slice0 ─veth─┐
 *   pod slice0 ─veth─┼─ snbr<vni> ─ snvx<vni> ══ UDP 4789 ══► other nodes' snvx<vni>
 *   gateway TAP ─────┘
 *
 * Every function is idempotent: the agent reconciles to the state it computes, whatever a
 * crash left behind. No process is started: one link dump and a few rtnetlink calls
 * (lib/net/rtbridge.ts) on the agent's socket, answered within their sends; the deletions,
 * which wait for the kernel, run on a libuv worker (sockets.ts). Before, each check ran four
 * to six `ip` and `bridge` processes, every fork of the agent's large process holding its loop.
 */
import {
  appendFloodEntry,
  delFloodEntry,
  dumpFdb,
  newBridge,
  newVxlan,
  parseFdbEntry,
  setLink,
} from '../../lib/net/rtbridge.ts';
import { bridgeName, VXLAN_PORT, vniOfLink, vxlanName } from './names.ts';
import { deleteLinkAsync, errnoCode, nodeLinks, nodeNetlink } from './sockets.ts';

export interface SliceLinks {
  vni: number;
  mtu: number;
  /** This node's underlay address, the VXLAN source. */
  localIp: string;
  /** Underlay addresses of the other nodes that carry the slice. */
  remotes: string[];
}

/** Makes a link unless one of that name exists (made meanwhile by an earlier, cut-short call). */
function create(request: Buffer): void {
  try {
    nodeNetlink().call(request);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
}

export function ensureSliceLinks(s: SliceLinks): Promise<void> {
  return new Promise((resolve) => resolve(ensureNow(s)));
}

function ensureNow(s: SliceLinks): void {
  const br = bridgeName(s.vni);
  const vx = vxlanName(s.vni);
  let have = nodeLinks();
  const missing = [
    ...(have.has(br) ? [] : [newBridge({ name: br, mtu: s.mtu })]),
    ...(have.has(vx)
      ? []
      : [newVxlan({ name: vx, vni: s.vni, local: s.localIp, port: VXLAN_PORT, mtu: s.mtu })]),
  ];
  if (missing.length) {
    missing.forEach(create);
    have = nodeLinks(); // their indexes
  }
  const brIndex = have.get(br)!.index;
  const vxIndex = have.get(vx)!.index;
  const nl = nodeNetlink();
  nl.call(setLink(vxIndex, { master: brIndex, mtu: s.mtu }));
  nl.call(setLink(brIndex, { mtu: s.mtu }));
  setRemotes(vxIndex, s.remotes);
}

/** Makes the all-zeros (flood) FDB entries of the VXLAN exactly `remotes`. */
function setRemotes(vxIndex: number, remotes: string[]): void {
  const nl = nodeNetlink();
  const fdb = nl.call(dumpFdb()).map(parseFdbEntry);
  const have = new Set(
    fdb.filter((e) => e.index === vxIndex && e.mac === '00:00:00:00:00:00' && e.dst).map((e) => e.dst!),
  );
  const want = new Set(remotes);
  for (const ip of want) if (!have.has(ip)) nl.call(appendFloodEntry(vxIndex, ip));
  for (const ip of have) if (!want.has(ip)) nl.call(delFloodEntry(vxIndex, ip));
}

export async function removeSliceLinks(vni: number): Promise<void> {
  await deleteLinkAsync(vxlanName(vni));
  await deleteLinkAsync(bridgeName(vni));
}

/** The VNIs this node has links for (bridge or VXLAN), whatever made them. */
export function listSliceVnis(): Promise<number[]> {
  return new Promise((resolve) => {
    const vnis = new Set<number>();
    for (const name of nodeLinks().keys()) {
      const vni = vniOfLink(name);
      if (vni !== undefined) vnis.add(vni);
    }
    resolve([...vnis]);
  });
}

/** Names of the bridge ports that are pod veths. */
export function podPorts(vni: number): Promise<string[]> {
  return new Promise((resolve) => {
    const all = nodeLinks();
    const br = all.get(bridgeName(vni));
    resolve(
      br
        ? [...all.values()]
            .filter((l) => l.master === br.index && l.name.startsWith('snv'))
            .map((l) => l.name)
        : [],
    );
  });
}
