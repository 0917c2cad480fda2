/**
 * A pod's slice NIC: a veth pair, one end on the slice bridge, the other made directly in the
 * pod's namespace as `slice0`, with the pod's address (the slice subnet's prefix, so the whole
 * slice is on-link), its MAC and the slice MTU, IPv6 off.
 *
 *   ip -batch (node ns)             link add <host> address <host mac> mtu M type veth
 *                                     peer name slice0 address <pod mac> mtu M netns <pod ns>
 *                                   link set <host> master snbr<vni> up
 *   nsenter <pod ns> sh             disable_ipv6 on slice0 (a write to /proc/sys), then
 *                                   exec ip -batch: address, link up
 *
 * Two processes per attach, started from the agent. On a busy node the agent's CPU per pod
 * is mostly process starts (each a fork of the agent's large Node process), so every step
 * that can share a process does: the pair is made in one netlink request with the pod end
 * already in the pod's namespace (no temporary name in the node's, no rename), and both MACs
 * are chosen here (derived from the pod's address) rather than read back.
 */
import { CommandError, run, runRaw } from '../../lib/exec.ts';
import { ipBatch, ipJson, isGone, type IpAddr, type IpLink } from '../../lib/net/ip.ts';
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

/**
 * In the pod's namespace: IPv6 off on the new NIC, then its address and link-up. Slices are
 * IPv4: no IPv6 link-local address means no neighbour discovery for the anti-spoof guard to
 * drop. /proc/sys/net is the namespace of the process that opens it, so the shell's write
 * lands in the pod's. The interface name is passed as $0, never interpolated.
 */
const POD_SIDE = 'echo 1 > "/proc/sys/net/ipv6/conf/$0/disable_ipv6" && exec ip -batch -';

export async function attachPodNic(n: PodNic): Promise<{ hostMac: string }> {
  const hostMac = hostMacForAddress(n.address.split('/')[0]!);
  const make = [
    `link add ${n.hostIfname} address ${hostMac} mtu ${n.mtu} type veth` +
      ` peer name ${n.ifname} address ${n.mac} mtu ${n.mtu} netns ${n.netnsPath}`,
    `link set ${n.hostIfname} master ${bridgeName(n.vni)} up`,
  ];
  try {
    await ipBatch(make).catch(async (err: unknown) => {
      // A crash between the two lines leaves the pair: start from nothing. Only then: a
      // check before every attach would cost a process each time.
      if (!(err instanceof CommandError) || !/File exists/.test(err.stderr)) throw err;
      await detachPodNic(n.hostIfname);
      await ipBatch(make);
    });
    await run(['sh', '-c', POD_SIDE, n.ifname], {
      netnsPath: n.netnsPath,
      input: [`addr add ${n.address} dev ${n.ifname}`, `link set ${n.ifname} up`].join('\n') + '\n',
    });
  } catch (err) {
    await detachPodNic(n.hostIfname).catch(() => undefined);
    throw err;
  }
  return { hostMac };
}

/**
 * Removes the pair (deleting one end deletes both); gone already is success. One process:
 * `-force` goes on past a line that fails. The temporary name is that of pairs an older agent
 * made in the node's namespace first and may have left there in a crash.
 */
export async function detachPodNic(hostIfname: string): Promise<void> {
  const lines = [`link del dev ${hostIfname}`, `link del dev ${tempPeerName(hostIfname)}`];
  const r = await runRaw(['ip', '-force', '-batch', '-'], { input: lines.join('\n') + '\n' });
  if (r.exitCode === 0) return;
  const failures = r.stderr.split('\n').filter((l) => l.trim() && !/^Command failed/.test(l));
  if (failures.some((l) => !isGone(l)))
    throw new CommandError(['ip', '-force', '-batch', '-'], r.exitCode, r.stderr);
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
