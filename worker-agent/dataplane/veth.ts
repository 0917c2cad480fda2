/**
 * A pod's slice NIC: a veth pair, one end on the slice bridge, the other made directly in the
 * pod's namespace as `slice0`, with the pod's address (the slice subnet's prefix, so the whole
 * slice is on-link), its MAC and the slice MTU, IPv6 off.
 *
 *   node ns, rtnetlink      RTM_NEWLINK veth <host> (MAC, MTU, master snbr<vni>, up)
 *                             peer slice0 (MAC, MTU) made in the pod's ns (IFLA_NET_NS_FD)
 *   pod ns, helper thread   disable_ipv6 on slice0 (a write to the pod's /proc/sys/net)
 *   pod ns, rtnetlink       RTM_NEWADDR <ip>/<prefix>; RTM_NEWLINK slice0 up
 *
 * No process is started: the kernel calls go through the addon's netlink socket
 * (native/netlink.ts), each answered within its send; deleting the pair, which waits for the
 * kernel, runs on a libuv worker. Before, ADD ran `ip -batch` and a shell
 * with `ip -batch` in the pod's namespace: two forks of the agent's large Node process and
 * three programs per pod, most of the agent's CPU per ADD in a burst. Both MACs are chosen
 * here (derived from the pod's address), never read back.
 */
import { closeSync, openSync } from 'node:fs';
import { ipJson, type IpAddr, type IpLink } from '../../lib/net/ip.ts';
import {
  checkIfname,
  getLink,
  linkIndexOf,
  newAddr4,
  newVethPair,
  setLinkUp,
} from '../../lib/net/rtnetlink.ts';
import { Netlink, writeFileInNetns } from '../../native/netlink.ts';
import { deleteLinkAsync, errnoCode, nodeNetlink } from './sockets.ts';
import { bridgeName, hostMacForAddress, tempPeerName } from './names.ts';

export interface PodNic {
  netnsPath: string;
  ifname: string;
  hostIfname: string;
  vni: number;
  mac: string;
  /** CIDR: the pod address with the slice subnet's prefix. */
  address: string;
  mtu: number;
}

/** A pair of this name exists already: left by an ADD a crash cut short. */
class LeftOver extends Error {}

export async function attachPodNic(n: PodNic): Promise<{ hostMac: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return makeNic(n);
    } catch (err) {
      // Undo what this attempt made; its own error is the one to report.
      await detachPodNic(n.hostIfname).catch(() => undefined);
      // A left-over pair is known only when making it fails (a check before every attach would
      // cost a call each time): once more from nothing.
      if (err instanceof LeftOver && attempt === 1) continue;
      throw err instanceof LeftOver ? err.cause : err;
    }
  }
}

/** The kernel calls of an attach: each answered within its send (microseconds). */
function makeNic(n: PodNic): { hostMac: string } {
  checkIfname('ifname', n.ifname);
  const [ip, prefix] = n.address.split('/');
  const hostMac = hostMacForAddress(ip!);
  const nl = nodeNetlink();
  const master = linkIndexOf(nl.call(getLink(bridgeName(n.vni)))[0]!);
  const ns = openSync(n.netnsPath, 'r');
  try {
    const pair = newVethPair({
      name: n.hostIfname,
      mac: hostMac,
      mtu: n.mtu,
      master,
      up: true,
      peer: { name: n.ifname, mac: n.mac, mtu: n.mtu, netnsFd: ns },
    });
    try {
      nl.call(pair);
    } catch (err) {
      throw errnoCode(err) === 'EEXIST' ? new LeftOver('the pair exists', { cause: err }) : err;
    }
    // Slices are IPv4: no IPv6 link-local address means no neighbour discovery for the
    // anti-spoof guard to drop. Off before the link is up, so none is ever made. The file is
    // missing only on a kernel without IPv6 (the link was just made), where it is off anyway.
    try {
      writeFileInNetns(n.netnsPath, `/proc/sys/net/ipv6/conf/${n.ifname}/disable_ipv6`, '1');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    const pod = Netlink.open(n.netnsPath);
    try {
      const index = linkIndexOf(pod.call(getLink(n.ifname))[0]!);
      pod.call(newAddr4(index, ip!, Number(prefix)));
      pod.call(setLinkUp(index));
    } finally {
      pod.close();
    }
  } finally {
    closeSync(ns);
  }
  return { hostMac };
}

/**
 * Removes the pair (deleting one end deletes both); gone already is success. The temporary
 * name is that of pairs an older agent made in the node's namespace first and may have left
 * there in a crash.
 */
export async function detachPodNic(hostIfname: string): Promise<void> {
  for (const name of [hostIfname, tempPeerName(hostIfname)]) await deleteLinkAsync(name);
}

/** What differs from what attach made; empty when all is in place. */
export async function checkPodNic(n: PodNic): Promise<string[]> {
  const problems: string[] = [];
  const [host] = await ipJson<IpLink>(['link', 'show', 'dev', n.hostIfname]);
  if (!host) problems.push(`the node end ${n.hostIfname} is gone`);
  else if (host.master !== bridgeName(n.vni))
    problems.push(`${n.hostIfname} is on ${host.master ?? 'no bridge'}, not ${bridgeName(n.vni)}`);
  const [pod] = await ipJson<IpAddr>(['addr', 'show', 'dev', n.ifname], { netnsPath: n.netnsPath });
  if (!pod) return [...problems, `${n.ifname} is missing in ${n.netnsPath}`];
  if (pod.address !== n.mac) problems.push(`${n.ifname} has MAC ${pod.address}, not ${n.mac}`);
  if (pod.mtu !== n.mtu) problems.push(`${n.ifname} has MTU ${pod.mtu}, not ${n.mtu}`);
  const [ip, prefix] = n.address.split('/');
  if (!pod.addr_info.some((a) => a.family === 'inet' && a.local === ip && a.prefixlen === Number(prefix)))
    problems.push(`${n.ifname} lacks ${n.address}`);
  return problems;
}
