/**
 * A pod's slice NIC: a veth pair, one end on the slice bridge, the other moved into the pod's
 * namespace and named `slice0`, with the pod's address (the slice subnet's prefix, so the
 * whole slice is on-link), its MAC and the slice MTU, IPv6 off. Four processes per attach:
 * `ip` in the node's namespace, then `ip`, `sysctl`, `ip` in the pod's.
 */
import { run } from '../../lib/exec.ts';
import { deleteLink, ipBatch, ipJson, type IpAddr, type IpLink } from '../../lib/net/ip.ts';
import { bridgeName, tempPeerName } from './names.ts';

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

export async function attachPodNic(n: PodNic): Promise<{ hostMac: string }> {
  const peer = tempPeerName(n.hostIfname);
  // A crash between these steps leaves a pair in the node namespace: start from nothing.
  await deleteLink(n.hostIfname);
  await deleteLink(peer);
  try {
    await ipBatch([
      `link add ${n.hostIfname} mtu ${n.mtu} type veth peer name ${peer} mtu ${n.mtu}`,
      `link set ${peer} netns ${n.netnsPath}`,
      `link set ${n.hostIfname} master ${bridgeName(n.vni)} up`,
    ]);
    await ipBatch([`link set ${peer} name ${n.ifname}`, `link set ${n.ifname} address ${n.mac}`], {
      netnsPath: n.netnsPath,
    });
    // Slices are IPv4: no IPv6 link-local address, so no neighbour discovery for the
    // anti-spoof guard to drop.
    await run(['sysctl', '-qw', `net.ipv6.conf.${n.ifname}.disable_ipv6=1`], { netnsPath: n.netnsPath });
    await ipBatch([`addr add ${n.address} dev ${n.ifname}`, `link set ${n.ifname} up`], {
      netnsPath: n.netnsPath,
    });
  } catch (err) {
    await deleteLink(n.hostIfname).catch(() => undefined);
    throw err;
  }
  const [host] = await ipJson<IpLink>(['link', 'show', 'dev', n.hostIfname]);
  return { hostMac: host?.address ?? '' };
}

/** Removes the pair (deleting one end deletes both); gone already is success. */
export async function detachPodNic(hostIfname: string): Promise<void> {
  await deleteLink(hostIfname);
  await deleteLink(tempPeerName(hostIfname));
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
