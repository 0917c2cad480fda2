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
 * crash left behind.
 */
import { bridge, deleteLink, ipBatch, ipJson, type IpLink } from '../../lib/net/ip.ts';
import { bridgeName, VXLAN_PORT, vniOfLink, vxlanName } from './names.ts';

export interface SliceLinks {
  vni: number;
  mtu: number;
  /** This node's underlay address, the VXLAN source. */
  localIp: string;
  /** Underlay addresses of the other nodes that carry the slice. */
  remotes: string[];
}

export async function ensureSliceLinks(s: SliceLinks): Promise<void> {
  const br = bridgeName(s.vni);
  const vx = vxlanName(s.vni);
  const lines: string[] = [];
  const [brLink] = await ipJson<IpLink>(['link', 'show', 'dev', br]);
  if (!brLink) lines.push(`link add ${br} type bridge`);
  const [vxLink] = await ipJson<IpLink & { linkinfo?: { info_data?: { id?: number } } }>([
    '-d',
    'link',
    'show',
    'dev',
    vx,
  ]);
  if (!vxLink) lines.push(`link add ${vx} type vxlan id ${s.vni} local ${s.localIp} dstport ${VXLAN_PORT}`);
  lines.push(`link set ${vx} master ${br} mtu ${s.mtu} up`, `link set ${br} mtu ${s.mtu} up`);
  await ipBatch(lines);
  await setRemotes(vx, s.remotes);
}

/** Makes the all-zeros (flood) FDB entries of `vx` exactly `remotes`. */
async function setRemotes(vx: string, remotes: string[]): Promise<void> {
  const fdb = JSON.parse(await bridge(['-j', 'fdb', 'show', 'dev', vx])) as { mac: string; dst?: string }[];
  const have = new Set(fdb.filter((e) => e.mac === '00:00:00:00:00:00' && e.dst).map((e) => e.dst!));
  const want = new Set(remotes);
  for (const ip of want)
    if (!have.has(ip)) await bridge(['fdb', 'append', '00:00:00:00:00:00', 'dev', vx, 'dst', ip]);
  for (const ip of have)
    if (!want.has(ip)) await bridge(['fdb', 'del', '00:00:00:00:00:00', 'dev', vx, 'dst', ip]);
}

export async function removeSliceLinks(vni: number): Promise<void> {
  await deleteLink(vxlanName(vni));
  await deleteLink(bridgeName(vni));
}

/** The VNIs this node has links for (bridge or VXLAN), whatever made them. */
export async function listSliceVnis(): Promise<number[]> {
  const links = await ipJson<IpLink>(['link', 'show']);
  const vnis = new Set<number>();
  for (const l of links) {
    const vni = vniOfLink(l.ifname);
    if (vni !== undefined) vnis.add(vni);
  }
  return [...vnis];
}

/** Names of the bridge ports that are pod veths. */
export async function podPorts(vni: number): Promise<string[]> {
  const links = await ipJson<IpLink>(['link', 'show', 'master', bridgeName(vni)]);
  return links.map((l) => l.ifname).filter((n) => n.startsWith('snv'));
}
