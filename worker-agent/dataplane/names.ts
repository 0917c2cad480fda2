/**
 * Names of what the agent makes on a node. Linux allows 15 bytes per interface name, and
 * slice names may be 40 characters, so links are named by the slice's VNI (unique per slice)
 * and pod veths by a hash of their CNI attachment key.
 */
import { createHash } from 'node:crypto';

export const VXLAN_PORT = 4789;
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
export const VXLAN_OVERHEAD = 50;

export const bridgeName = (vni: number): string => `snbr${vni}`;
export const vxlanName = (vni: number): string => `snvx${vni}`;

/** The VNI a link of ours carries, from its name; undefined for anything else. */
export function vniOfLink(name: string): number | undefined {
  const m = /^sn(?:br|vx)(\d{1,8})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The node end of a pod's veth: `snv` + 12 hex digits of the attachment key. */
export function hostVethName(containerId: string, ifname: string): string {
  return `snv${createHash('sha256').update(`${containerId}/${ifname}`).digest('hex').slice(0, 12)}`;
}

/**
 * The pod end's name in the node's namespace, before it became slice0, in pairs older agents
 * made (a crash could leave one there); pairs are now made with the pod end in the pod's
 * namespace from the start.
 */
export const tempPeerName = (hostVeth: string): string => `snp${hostVeth.slice(3)}`;

/**
 * A pod's MAC from its slice address: locally administered (0a:58, as OVN-Kubernetes does)
 * and unique wherever the address is, so no two pods of a slice share one in any cluster.
 */
export function macForAddress(ip: string): string {
  return macFrom('58', ip);
}

/**
 * The node end's MAC for the pod with address `ip`: `0a:59:<ip>`, unique on the slice as the
 * pod's is (the node end is a bridge port that may send), and set at creation so that
 * nothing has to read it back.
 */
export function hostMacForAddress(ip: string): string {
  return macFrom('59', ip);
}

function macFrom(second: string, ip: string): string {
  const octets = ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'));
  return ['0a', second, ...octets].join(':');
}
