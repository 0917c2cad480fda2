/**
 * The bench's network, the same for every path, built from four namespaces of our own:
 *
 *   pod-a ─veth (MTU 1400)─ gw-a ══ WAN veth (MTU 1500) ══ gw-b ─veth (MTU 1400)─ pod-b
 *
 * Two layouts of the gateway namespaces:
 * - `l2` (Slicenet, VXLAN, bare veth): the pod's veth end sits on bridge `br0`; the path adds
 *   its TAP or VXLAN device (or, for the bare path, the WAN link itself) to that bridge. Both
 *   pods share the slice subnet 10.90.0.0/24.
 * - `routed` (OpenVPN, as KubeSlice runs it): each pod has its own subnet, the gateway routes
 *   it, and the path adds the tunnel and the routes.
 *
 * The WAN link is a wire: UDP segmentation offload is off on it, so a gateway's GSO sends are
 * cut into datagrams before the link, as by a NIC without USO, and what crosses it (and what a
 * capture or a counter on it sees) is what a real network would carry.
 *
 * Every namespace is named `<lab>-<path tag>-<role>`, `<lab>` being `sn-gb-<bench pid>`, so
 * `removeTopology(lab)` (lab/topology.ts) finds them all, stops every process inside, and
 * deletes them — also those of an earlier run whose process died without cleaning up.
 */
import { readdirSync } from 'node:fs';
import { run, runRaw } from '../../lib/exec.ts';
import { ipBatch } from '../../lib/net/ip.ts';
import { removeTopology } from '../../lab/topology.ts';

export const PREFIX = 'sn-gb-';
export const POD_MTU = 1400;
export const WAN_MTU = 1500;

export type Layout = 'l2' | 'routed';

export interface Topology {
  layout: Layout;
  ns: { podA: string; gwA: string; gwB: string; podB: string };
  /** Pod addresses; pod-b's is the iperf3 and ping target. */
  podIp: { a: string; b: string };
  /** The gateways' WAN addresses, on `wan0` in each. */
  wanIp: { a: string; b: string };
}

/** The name under which this process's namespaces live. */
export const labName = (pid = process.pid): string => `${PREFIX}${pid}`;

const path = (ns: string): { netnsPath: string } => ({ netnsPath: `/run/netns/${ns}` });

export async function buildTopology(lab: string, tag: string, layout: Layout): Promise<Topology> {
  const base = `${lab}-${tag}`;
  const ns = { podA: `${base}-pa`, gwA: `${base}-ga`, gwB: `${base}-gb`, podB: `${base}-pb` };
  const routed = layout === 'routed';
  const topo: Topology = {
    layout,
    ns,
    podIp: routed ? { a: '10.90.1.2', b: '10.90.2.2' } : { a: '10.90.0.1', b: '10.90.0.2' },
    wanIp: { a: '198.19.0.1', b: '198.19.0.2' },
  };
  for (const n of Object.values(ns)) {
    await run(['ip', 'netns', 'add', n]);
    await run(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
  }
  await ipBatch(
    [`link add wan0 mtu ${WAN_MTU} type veth peer name wan0 mtu ${WAN_MTU} netns ${ns.gwB}`],
    path(ns.gwA),
  );
  for (const side of ['a', 'b'] as const) {
    const gw = side === 'a' ? ns.gwA : ns.gwB;
    const pod = side === 'a' ? ns.podA : ns.podB;
    const podGw = side === 'a' ? '10.90.1.1' : '10.90.2.1';
    await ipBatch(
      [
        `link add pod0 mtu ${POD_MTU} type veth peer name eth0 mtu ${POD_MTU} netns ${pod}`,
        `addr add ${topo.wanIp[side]}/24 dev wan0`,
        'link set wan0 up',
        ...(routed
          ? [`addr add ${podGw}/24 dev pod0`, 'link set pod0 up']
          : [`link add br0 mtu ${POD_MTU} type bridge`, 'link set pod0 master br0 up', 'link set br0 up']),
      ],
      path(gw),
    );
    await ipBatch(
      [
        `addr add ${topo.podIp[side]}/24 dev eth0`,
        'link set eth0 up',
        ...(routed ? [`route add default via ${podGw}`] : []),
      ],
      path(pod),
    );
    await run(['sysctl', '-q', '-w', `net.ipv4.ip_forward=${routed ? 1 : 0}`], { netns: gw });
    // br_netfilter, when the host has it loaded, would run every bridged frame through the
    // (empty) iptables of the namespace: a cost no gateway needs.
    await runRaw(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=0'], { netns: gw });
    await run(['ethtool', '-K', 'wan0', 'tx-udp-segmentation', 'off'], { netns: gw });
  }
  return topo;
}

/** Removes this lab's namespaces and the processes in them. */
export const removeLab = (lab: string): Promise<void> => removeTopology(lab);

/** Removes namespaces left by bench runs whose process is gone (a SIGKILL leaves them). */
export async function removeStaleLabs(): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return [];
  }
  const stale = new Set<string>();
  for (const n of names) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(n);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) stale.add(labName(Number(m[1])));
  }
  for (const lab of stale) await removeTopology(lab);
  return [...stale];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
