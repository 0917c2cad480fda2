/**
 * A pod's slice NIC: a veth pair, one end on the slice bridge, the other moved into the pod's
 * namespace and named `slice0`, with the pod's address (the slice subnet's prefix, so the
 * whole slice is on-link), its MAC and the slice MTU, IPv6 off. Three processes per attach
 * (`ip` in the node's namespace, then `sysctl` and `ip` in the pod's) and one to read the
 * node end's MAC: on a busy node the agent's cost is mostly process starts.
 */
import { CommandError, run } from '../../lib/exec.ts';
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
  const make = [
    `link add ${n.hostIfname} mtu ${n.mtu} type veth peer name ${peer} mtu ${n.mtu}`,
    `link set ${peer} netns ${n.netnsPath}`,
    `link set ${n.hostIfname} master ${bridgeName(n.vni)} up`,
  ];
  try {
    await ipBatch(make).catch(async (err: unknown) => {
      // A crash between these steps leaves a pair in the node namespace: start from nothing.
      // Only then: two more processes on every attach cost more than the pair check saves.
      if (!(err instanceof CommandError) || !/File exists/.test(err.stderr)) throw err;
      await deleteLink(n.hostIfname);
      await deleteLink(peer);
      await ipBatch(make);
    });
    // Slices are IPv4: no IPv6 link-local address, so no neighbour discovery for the
    // anti-spoof guard to drop. Set before the rename (the setting stays with the device),
    // so that the renaming, address and link-up are one process in the pod's namespace.
    await run(['sysctl', '-qw', `net.ipv6.conf.${peer}.disable_ipv6=1`], { netnsPath: n.netnsPath });
    await ipBatch(
      [
        `link set ${peer} name ${n.ifname}`,
        `link set ${n.ifname} address ${n.mac}`,
        `addr add ${n.address} dev ${n.ifname}`,
        `link set ${n.ifname} up`,
      ],
      { netnsPath: n.netnsPath },
    );
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
